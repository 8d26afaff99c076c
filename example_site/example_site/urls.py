from pathlib import Path

from django.conf import settings
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.static import serve
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls


def favicon(request):
    """Browsers ask every site for /favicon.ico: without one, each first visit
    logs a 404 in the console (Lighthouse's "errors in console")."""
    return redirect(static("demo/favicon.ico"))


urlpatterns = [
    path("favicon.ico", favicon),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("leadgen/", include("wagtail_leadgen.urls")),
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
