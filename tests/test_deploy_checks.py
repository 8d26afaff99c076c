"""Checks on the site around the plugin: gated files never reachable as plain
media files, and `check --deploy` naming the production hazards."""

import pytest
from django.conf import settings
from django.core import checks
from django.core.files.storage import FileSystemStorage
from django.test import override_settings
from django.urls import path, re_path
from django.views.static import serve
from wagtail.documents import get_document_model
from wagtail.models import Site

from wagtail_leadgen.deploy_checks import (
    check_documents_not_served_as_media,
    check_links_have_a_public_root,
    check_live_sites_name_their_controller,
    check_media_not_served_by_django,
    check_shared_cache_for_rate_limit,
)

from .factories import make_landing_page, set_controller
from .urls import urlpatterns as site_urlpatterns


def urlconf(*extra):
    """The test site's URLs with ``extra`` routes first, as a project adds them."""
    return type("URLConf", (), {"urlpatterns": [*extra, *site_urlpatterns]})


# What `wagtail start`'s urls.py adds under DEBUG: static(MEDIA_URL, document_root=MEDIA_ROOT).
STOCK_MEDIA_ROUTE = re_path(
    r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}
)
IMAGES_ONLY_ROUTE = re_path(
    r"^media/images/(?P<path>[^/.][^/]*)$",
    serve,
    {"document_root": settings.MEDIA_ROOT / "images"},
)


def ids(messages):
    return [message.id for message in messages]


def test_a_media_route_over_the_documents_folder_is_an_error():
    with override_settings(ROOT_URLCONF=urlconf(STOCK_MEDIA_ROUTE)):
        errors = check_documents_not_served_as_media(None)
    assert ids(errors) == ["wagtail_leadgen.E020"]
    assert "/media/documents/" in errors[0].msg
    assert errors[0].level == checks.ERROR


def test_any_view_serving_a_folder_there_is_an_error_too():
    def own_serve(request, path, document_root):
        return serve(request, path, document_root)

    route = path(
        "media/<path:path>", own_serve, {"document_root": str(settings.MEDIA_ROOT)}
    )
    with override_settings(ROOT_URLCONF=urlconf(route)):
        assert ids(check_documents_not_served_as_media(None)) == [
            "wagtail_leadgen.E020"
        ]


def test_serving_images_only_leaves_the_documents_unreachable():
    with override_settings(ROOT_URLCONF=urlconf(IMAGES_ONLY_ROUTE)):
        assert check_documents_not_served_as_media(None) == []


def test_documents_kept_outside_the_served_folder_are_not_reached(monkeypatch):
    """A private storage location (docs: 'Gated files'): the stock media
    route serves MEDIA_ROOT, and the documents are not there."""
    field = get_document_model()._meta.get_field("file")
    private = FileSystemStorage(location=settings.BASE_DIR / ".private-documents")
    monkeypatch.setattr(field, "storage", private)
    with override_settings(ROOT_URLCONF=urlconf(STOCK_MEDIA_ROUTE)):
        assert check_documents_not_served_as_media(None) == []


@override_settings(MEDIA_URL="https://files.example.com/media/")
def test_documents_stored_on_another_host_are_not_this_site_s_concern():
    with override_settings(ROOT_URLCONF=urlconf(STOCK_MEDIA_ROUTE)):
        assert check_documents_not_served_as_media(None) == []


def test_the_document_check_runs_without_deploy_and_the_others_only_with_it():
    everyday = checks.registry.registry.get_checks(include_deployment_checks=False)
    deploy_only = set(
        checks.registry.registry.get_checks(include_deployment_checks=True)
    ) - set(everyday)
    assert check_documents_not_served_as_media in everyday
    assert {
        check_shared_cache_for_rate_limit,
        check_media_not_served_by_django,
        check_live_sites_name_their_controller,
        check_links_have_a_public_root,
    } <= deploy_only


def test_a_per_process_cache_behind_the_rate_limit_is_warned_about():
    locmem = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(CACHES=locmem):
        warnings = check_shared_cache_for_rate_limit(None)
    assert ids(warnings) == ["wagtail_leadgen.W020"]
    assert "LocMemCache" in warnings[0].msg


@pytest.mark.parametrize(
    ("backend", "leadgen", "expected"),
    [
        ("django.core.cache.backends.dummy.DummyCache", {}, ["wagtail_leadgen.W020"]),
        ("django.core.cache.backends.db.DatabaseCache", {}, []),
        (
            "django.core.cache.backends.locmem.LocMemCache",
            {"RATE_LIMIT_SUBMISSIONS": 0, "COUNT_PAGE_VIEWS": False},
            [],
        ),
        # The page view counters live in the cache too (docs/caching.md).
        (
            "django.core.cache.backends.locmem.LocMemCache",
            {"RATE_LIMIT_SUBMISSIONS": 0},
            ["wagtail_leadgen.W020"],
        ),
    ],
    ids=[
        "dummy-cache-counts-nothing",
        "shared-cache",
        "rate-limit-and-counting-off",
        "view-counters",
    ],
)
def test_the_cache_warning_only_when_the_rate_limit_cannot_hold(
    backend, leadgen, expected
):
    caches = {"default": {"BACKEND": backend, "LOCATION": "leadgen_cache"}}
    with override_settings(CACHES=caches, WAGTAIL_LEADGEN=leadgen):
        assert ids(check_shared_cache_for_rate_limit(None)) == expected


def test_media_served_by_django_is_a_deployment_warning():
    with override_settings(ROOT_URLCONF=urlconf(IMAGES_ONLY_ROUTE)):
        warnings = check_media_not_served_by_django(None)
    assert ids(warnings) == ["wagtail_leadgen.W021"]
    assert "/media/images/" in warnings[0].msg
    assert check_media_not_served_by_django(None) == []


@pytest.mark.django_db
def test_live_lead_pages_on_a_site_without_a_controller_are_warned_about():
    assert check_live_sites_name_their_controller(None, databases=["default"]) == []
    make_landing_page()
    warnings = check_live_sites_name_their_controller(None, databases=["default"])
    assert ids(warnings) == ["wagtail_leadgen.W022"]
    assert check_live_sites_name_their_controller(None) == []  # without --database
    set_controller(controller_name="Acme SAS", contact_email="privacy@acme.example")
    assert check_live_sites_name_their_controller(None, databases=["default"]) == []


@pytest.mark.django_db
def test_links_rooted_at_localhost_are_warned_about_until_site_url_is_set():
    Site.objects.update(hostname="localhost", port=80)
    warnings = check_links_have_a_public_root(None, databases=["default"])
    assert ids(warnings) == ["wagtail_leadgen.W023"]
    assert "http://localhost" in warnings[0].msg
    with override_settings(WAGTAIL_LEADGEN={"SITE_URL": "https://www.example.com"}):
        assert check_links_have_a_public_root(None, databases=["default"]) == []
    Site.objects.update(hostname="www.example.com")
    assert check_links_have_a_public_root(None, databases=["default"]) == []
