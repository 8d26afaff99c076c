"""Public URLs; include them with ``path("leadgen/", include("wagtail_leadgen.urls"))``."""

from django.urls import path

from .views import consent, public, renewal, tracking

app_name = "wagtail_leadgen"

urlpatterns = [
    path("download/<str:token>/", public.download, name="download"),
    path("cta/<int:pk>/", tracking.cta_click, name="cta_click"),
    path("cta/<int:pk>/ping/", tracking.cta_ping, name="cta_ping"),
    path("confirm/<str:token>/", consent.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", consent.unsubscribe, name="unsubscribe"),
    path("preferences/<str:token>/", consent.preferences_page, name="preferences"),
    path("renew/<str:token>/", renewal.renew, name="renew"),
]
