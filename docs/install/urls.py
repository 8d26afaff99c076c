# mysite/urls.py: the file `wagtail start` made, with the plugin's URLs and
# with media served for images only.
import os

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from search import views as search_views
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

urlpatterns = [
    path("django-admin/", admin.site.urls),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("search/", search_views.search, name="search"),
    # Download links, double opt-in, preferences and unsubscribe pages:
    # before Wagtail's catch-all below.
    path("leadgen/", include("wagtail_leadgen.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
    # Images only: documents (the gated e-books among them) go through
    # Wagtail's document view, never straight from MEDIA_ROOT.
    for folder in ("images", "original_images"):
        urlpatterns += static(
            f"{settings.MEDIA_URL}{folder}/",
            document_root=os.path.join(settings.MEDIA_ROOT, folder),
        )

urlpatterns += [
    # Wagtail's page serving: the last pattern in the list.
    path("", include(wagtail_urls)),
]
