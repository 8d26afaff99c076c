"""A shared lead page is rendered once per content stamp, token period,
address and language in each process, then served from memory: the same
bytes the next visitor would get, never a stale text."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.conf import settings
from django.test import override_settings

from wagtail_leadgen.models.mixins import LeadCaptureMixin

from .factories import make_landing_page, make_purpose, republish

pytestmark = pytest.mark.django_db

BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
)
NOW = datetime.datetime(2026, 3, 2, 10, 0, 5, tzinfo=datetime.UTC)


@pytest.fixture
def renders(monkeypatch):
    """How many times a lead page's template context was built."""
    calls = []
    original = LeadCaptureMixin.get_form

    def counting(self, *args, **kwargs):
        calls.append(self.pk)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(LeadCaptureMixin, "get_form", counting)
    return calls


def get(client, url, **headers):
    response = client.get(url, HTTP_USER_AGENT=BROWSER, **headers)
    assert response.status_code == 200
    return response


@time_machine.travel(NOW, tick=False)
def test_the_next_anonymous_visitor_gets_the_same_bytes_without_a_render(
    client, renders
):
    page = make_landing_page()
    first = get(client, page.url)
    second = get(client, page.url)
    assert renders == [page.pk]
    assert second.content == first.content
    assert second["Cache-Control"] == first["Cache-Control"]
    assert "Set-Cookie" not in second


def test_a_new_token_period_renders_a_new_page_token(client, renders):
    page = make_landing_page()
    with time_machine.travel(NOW, tick=False):
        first = get(client, page.url)
    with time_machine.travel(NOW + datetime.timedelta(minutes=1), tick=False):
        later = get(client, page.url)
    assert renders == [page.pk, page.pk]
    assert later.content != first.content


@time_machine.travel(NOW, tick=False)
def test_a_republished_purpose_shows_at_once(client):
    purpose = make_purpose(checkbox_label="Send me the newsletter")
    page = make_landing_page(purposes=[purpose])
    assert b"Send me the newsletter" in get(client, page.url).content
    republish(purpose, checkbox_label="Send me the monthly letter")
    assert b"Send me the monthly letter" in get(client, page.url).content


@time_machine.travel(NOW, tick=False)
def test_each_address_and_language_is_rendered_for_itself(client, renders):
    page = make_landing_page()
    plain = get(client, page.url)
    campaign = get(client, page.url + "?utm_source=mail")
    french = get(client, page.url, HTTP_ACCEPT_LANGUAGE="fr")
    assert len(renders) == 3
    assert b"utm_source=mail" in campaign.content
    assert b"utm_source" not in plain.content
    assert french.content != plain.content


@time_machine.travel(NOW, tick=False)
def test_a_site_nonce_means_a_render_per_request(client, renders):
    """A page carrying the request's CSP nonce must go out with that
    request's header: it is never reused."""
    csp = {
        "MIDDLEWARE": [
            *settings.MIDDLEWARE,
            "tests.site_csp.SiteCSPMiddleware",
        ]
    }
    page = make_landing_page()
    with override_settings(**csp):
        get(client, page.url)
        get(client, page.url)
    assert renders == [page.pk, page.pk]


@time_machine.travel(NOW, tick=False)
def test_editors_and_private_pages_are_rendered_each_time(client, renders):
    page = make_landing_page()
    with override_settings(
        WAGTAIL_LEADGEN={**settings.WAGTAIL_LEADGEN, "SHARED_CACHE_MAX_AGE": 0}
    ):
        get(client, page.url)
        get(client, page.url)
    assert renders == [page.pk, page.pk]
