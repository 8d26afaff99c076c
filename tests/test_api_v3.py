"""Wagtail 8's v3 API (a preview): a site that installs it finds the plugin's
form schema there too, under ``/leadgen/``, from the same schema function as
the plugin's own API."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import path
from ninja import NinjaAPI
from wagtail.api.v3.errors import register_exception_handlers

from wagtail_leadgen import api_v3
from wagtail_leadgen.api import forms as plugin_forms
from wagtail_leadgen.models import PageViewDay

from .factories import make_landing_page, make_thank_you_page
from .urls import urlpatterns as site_urlpatterns

ROOT = Path(__file__).resolve().parent.parent

# Wagtail's v3 API is installed only by tests/settings_api_v3.py (checked in a
# subprocess below); here the plugin's router is mounted on an API of its own,
# with v3's error handlers.
_private_v3 = NinjaAPI(urls_namespace="leadgen_v3_test")
register_exception_handlers(_private_v3)
_private_v3.add_router(api_v3.V3_PREFIX, api_v3.router)
V3_URLS = type(
    "URLConf",
    (),
    {"urlpatterns": [path("v3/", _private_v3.urls), *site_urlpatterns]},
)

#: The real schema function comes with the api-forms branch of issue 12.


@pytest.fixture
def v3_urls():
    with override_settings(ROOT_URLCONF=V3_URLS):
        yield


@pytest.mark.django_db
def test_the_v3_route_delegates_to_the_plugin_schema(client, v3_urls, monkeypatch):
    page = make_landing_page()
    calls = []

    def schema(request, page):
        calls.append(page)
        return {"page": {"id": page.pk}}

    monkeypatch.setattr(plugin_forms, "form_schema", schema)

    response = client.get(
        f"/v3/leadgen/forms/{page.pk}/",
        headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"},
    )

    assert response.status_code == 200
    assert response.json() == {"page": {"id": page.pk}}
    assert response.headers["Cache-Control"] == "no-store"
    assert calls == [page] and type(calls[0]) is type(page)
    # A form shown is a view of its page, as on the HTML page.
    assert PageViewDay.objects.get(page=page).views == 1


@pytest.mark.django_db
def test_the_v3_route_serves_the_same_schema_as_the_plugin_api(client, v3_urls):
    page = make_landing_page()

    v3 = client.get(f"/v3/leadgen/forms/{page.pk}/").json()
    plugin = client.get(f"/api/leadgen/v1/forms/{page.pk}").json()

    assert v3["page"]["id"] == plugin["page"]["id"] == page.pk
    assert v3["fields"] == plugin["fields"]
    assert v3["consents"] == plugin["consents"]


@pytest.mark.django_db
def test_only_live_lead_pages_have_a_form_there(client, v3_urls, monkeypatch):
    monkeypatch.setattr(plugin_forms, "form_schema", lambda request, page: {})
    unpublished = make_landing_page()
    unpublished.unpublish()
    thanks = make_thank_you_page()

    for page_id in (unpublished.pk, thanks.pk, 987654):
        response = client.get(f"/v3/leadgen/forms/{page_id}/")
        assert response.status_code == 404, page_id
        assert response.headers["Content-Type"].startswith("application/problem+json")


def test_a_site_without_v3_gets_no_route():
    assert api_v3.register_v3_routes() is False


def test_a_site_with_v3_installed_gets_the_route_once():
    script = (
        "import django, json; django.setup()\n"
        "from django.urls import resolve\n"
        "from wagtail_leadgen.api_v3 import register_v3_routes\n"
        "again = register_v3_routes()\n"
        "match = resolve('/api/v3/leadgen/forms/7/')\n"
        "print(json.dumps([again, match.namespace, match.url_name, match.kwargs]))\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings_api_v3",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DATABASE_URL", None)  # no query: the URLconf is all it reads
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    again, namespace, url_name, kwargs = json.loads(result.stdout.splitlines()[-1])
    assert again is True
    assert (namespace, url_name, kwargs) == (
        "wagtailapi_v3",
        "leadgen_form_schema",
        {"page_id": 7},
    )
