"""Public URLs; include them with ``path("leadgen/", include("wagtail_leadgen.urls"))``."""

from django.urls import path

from .views import public

app_name = "wagtail_leadgen"

urlpatterns = [
    path("download/<str:token>/", public.download, name="download"),
]
