"""Public URLs; include them with ``path("leadgen/", include("wagtail_leadgen.urls"))``."""

from django.urls import path

from .views import consent, forms, my_data, public, renewal, tracking

app_name = "wagtail_leadgen"

urlpatterns = [
    path("forms/<int:page_id>/", forms.form_submit, name="form_submit"),
    path("forms/<int:page_id>/token/", forms.form_token, name="form_token"),
    path("download/<str:token>/", public.download, name="download"),
    path("cta/<int:pk>/", tracking.cta_click, name="cta_click"),
    path("cta/<int:pk>/ping/", tracking.cta_ping, name="cta_ping"),
    path("confirm/<str:token>/", consent.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", consent.unsubscribe, name="unsubscribe"),
    path("preferences/<str:token>/", consent.preferences_page, name="preferences"),
    path("my-data/", my_data.my_data_page, name="my_data"),
    path("my-data/verify/<str:token>/", my_data.verify, name="my_data_verify"),
    path(
        "my-data/download/<str:file_format>/", my_data.download, name="my_data_download"
    ),
    path("my-data/correct/", my_data.correct, name="my_data_correct"),
    path("my-data/erase/", my_data.erase, name="my_data_erase"),
    path("my-data/leave/", my_data.leave, name="my_data_leave"),
    path("renew/<str:token>/", renewal.renew, name="renew"),
]
