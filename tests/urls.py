from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from wagtail_leadgen.api.app import api as leadgen_api

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("leadgen/", include("wagtail_leadgen.urls")),
    path("api/leadgen/v1/", leadgen_api.urls),
    path("", include(wagtail_urls)),
]
