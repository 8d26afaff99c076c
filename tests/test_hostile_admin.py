"""Every admin URL of the plugin, fed what browsers don't send: never a 5xx.

For a logged-in superuser (who passes every permission check, so each view
runs its whole code path), each admin URL of the plugin is requested with
hostile path segments and hostile query parameters: dates out of range or
impossible, ids too large, control characters, unknown orderings and export
formats. Partial or malformed editor forms go to the live-hints endpoints.
"""

from __future__ import annotations

import re
from itertools import product

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern

from .factories import make_landing_page, make_lead, make_purpose
from .test_admin_urls import plugin_admin_urls

pytestmark = pytest.mark.django_db

HOSTILE_VALUES = [
    "",
    "-1",
    "99999999999999999999",
    "a\x00b",
    "\u202e" + "x" * 3000,
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "2024-02-30",
    "[]",
]
PARAMETERS = [
    "start",
    "end",
    "page",
    "p",
    "q",
    "ordering",
    "export",
    "last_contact_after",
    "last_contact_before",
    "last_contact_0",
    "last_contact_1",
    "maturity",
    "status",
    "purpose_granted",
    "backend_alias",
]
PATH_SEGMENTS = ["0", "99999999999999999999", "a%00b", "x" * 300, "..", "%2e%2e"]
CONVERTER_RE = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", "root@corp.test", "pw")
    client.force_login(user)
    client.raise_request_exception = False  # a 500 is an answer to collect
    return client


@pytest.fixture
def data():
    purpose = make_purpose()
    page = make_landing_page(purposes=[purpose])
    make_lead(page=page, decisions={purpose: True}, destinations=["locmem"])
    return page


def routes() -> list[tuple[str, URLPattern]]:
    return [
        (route, pattern)
        for route, _namespaces, pattern in plugin_admin_urls()
        if "<" not in route or CONVERTER_RE.search(route)
    ]


def fill(route: str, segment: str) -> str:
    """The route with each path parameter replaced by ``segment``."""

    def replace(match: re.Match) -> str:
        if match["converter"] == "int" and not segment.isdigit():
            return "1"
        return segment

    return "/" + CONVERTER_RE.sub(replace, route).replace("^", "").replace("$", "")


def assert_answered(response, where: str) -> None:
    assert response.status_code < 500, f"{where}: {response.status_code}"


def server_errors(requests) -> list[str]:
    """``(description, response)`` pairs -> the descriptions of the 5xx ones."""
    return [where for where, response in requests if response.status_code >= 500]


# The admin pages that read query parameters (the results fragments run the
# same views; add/edit/delete/copy are refused to everyone by the policy).
READING_VIEWS = {"index", "report", "inspect"}


def test_every_admin_get_with_hostile_query_parameters(admin_client, data):
    urls = [
        fill(route, "1") for route, pattern in routes() if pattern.name in READING_VIEWS
    ]
    requests = (
        (f"GET {url}?{name}={value[:20]!r}", admin_client.get(url, {name: value}))
        for url in urls
        for name, value in product(PARAMETERS, HOSTILE_VALUES)
    )
    assert server_errors(requests) == []


def test_every_admin_url_with_hostile_path_segments(admin_client, data):
    urls = [
        fill(route, segment)
        for route, _pattern in routes()
        if "<" in route
        for segment in PATH_SEGMENTS
    ]
    requests = [
        *((f"GET {url[:80]}", admin_client.get(url)) for url in urls),
        *((f"POST {url[:80]}", admin_client.post(url, {})) for url in urls),
    ]
    assert server_errors(requests) == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": "\x00"},
        {"body-count": "x"},
        {"body-count": "1", "body-0-type": "nope", "body-0-value": "\x00"},
        {"form_fields-count": "-1"},
        {"consent_purposes": ["abc", "99999999"]},
        {"intro": "x" * 100_000},
        {"thank_you_page": "\x00"},
        {"search_description": "\u202e" * 100},
    ],
)
def test_malformed_editor_forms_to_the_live_hints_endpoints(admin_client, data, body):
    for route, _pattern in routes():
        if "hints" not in route or "report" in route:
            continue
        if "<content_type_app_name>" in route:
            url = f"/admin/leadgen/hints/new/wagtail_leadgen/landingpage/{data.get_parent().pk}/"
        else:
            url = fill(route, str(data.pk))
        assert_answered(admin_client.post(url, body), f"POST {url} {body!r:.60}")


@pytest.mark.parametrize(
    "app,model",
    [
        ("\x00", "landingpage"),
        ("wagtail_leadgen", "nosuchmodel"),
        ("auth", "user"),
        ("wagtailcore", "page"),
    ],
)
def test_odd_content_types_to_the_new_page_hints_endpoint(
    admin_client, data, app, model
):
    parent = data.get_parent().pk
    url = f"/admin/leadgen/hints/new/{app}/{model}/{parent}/"
    assert_answered(admin_client.post(url, {}), url)
