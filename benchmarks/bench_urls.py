"""The demo's URLs, with static files and uploaded images served by Django
(DEBUG is off in the benchmark, and there is no web server in front), so that
Lighthouse loads the pages as a visitor's browser would."""

from django.conf import settings
from django.urls import re_path
from django.views.static import serve
from example_site.urls import urlpatterns as demo_urlpatterns

urlpatterns = [
    re_path(r"^static/(?P<path>.*)$", serve, {"document_root": settings.STATIC_ROOT}),
    # Uploaded images only, as the demo serves them: documents stay gated.
    re_path(
        r"^media/(?P<path>(?:original_images|images)/[^/.][^/]*)$",
        serve,
        {"document_root": settings.MEDIA_ROOT},
    ),
    *demo_urlpatterns,
]
