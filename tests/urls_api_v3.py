"""The test site's URLs with Wagtail's v3 API mounted, as a site installing it does."""

from django.urls import path
from wagtail.api.v3.urls import api as wagtail_api_v3

from .urls import urlpatterns as site_urlpatterns

urlpatterns = [path("api/v3/", wagtail_api_v3.urls), *site_urlpatterns]
