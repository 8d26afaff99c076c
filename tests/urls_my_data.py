"""The test URLconf plus a ``wagtail_leadgen:my_data`` page, as the rights
issue will add: the notice links to it as soon as it can be reversed."""

from django.http import HttpResponse
from django.urls import include, path
from wagtail import urls as wagtail_urls

from wagtail_leadgen import urls as leadgen_urls


def my_data(request):
    return HttpResponse("my data")


urlpatterns = [
    path(
        "leadgen/",
        include(
            (
                [*leadgen_urls.urlpatterns, path("my-data/", my_data, name="my_data")],
                "wagtail_leadgen",
            )
        ),
    ),
    path("", include(wagtail_urls)),
]
