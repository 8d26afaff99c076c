from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.api.v2.router import WagtailAPIRouter
from wagtail.api.v2.views import PagesAPIViewSet
from wagtail.documents import urls as wagtaildocs_urls
from wagtail.images.api.v2.views import ImagesAPIViewSet

from wagtail_leadgen.api.app import api as leadgen_api

# Wagtail's page API v2: pages and images. Never its documents endpoint: it
# would list the gated e-books and their download URLs.
wagtail_api = WagtailAPIRouter("wagtailapi")
wagtail_api.register_endpoint("pages", PagesAPIViewSet)
wagtail_api.register_endpoint("images", ImagesAPIViewSet)

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("leadgen/", include("wagtail_leadgen.urls")),
    path("api/leadgen/v1/", leadgen_api.urls),
    path("api/v2/", wagtail_api.urls),
    path("", include(wagtail_urls)),
]
