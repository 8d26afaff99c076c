from pathlib import Path

from django.conf import settings
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.static import serve
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


def favicon(request):
    """Browsers ask every site for /favicon.ico: without one, each first visit
    logs a 404 in the console (Lighthouse's "errors in console")."""
    return redirect(static("demo/favicon.ico"))


urlpatterns = [
    path("favicon.ico", favicon),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("leadgen/", include("wagtail_leadgen.urls")),
    path("api/leadgen/v1/", leadgen_api.urls),
    path("api/v2/", wagtail_api.urls),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
    # Serve uploaded images only: documents stay behind Wagtail's document view
    # and the leadgen download view, never as plain media files. One file name
    # per folder (no slash, no leading dot): no path can walk out of it.
    urlpatterns += [
        re_path(
            rf"^media/{folder}/(?P<path>[^/.][^/]*)$",
            serve,
            {"document_root": Path(settings.MEDIA_ROOT) / folder},
        )
        for folder in ("original_images", "images")
    ]

urlpatterns += [path("", include(wagtail_urls))]
