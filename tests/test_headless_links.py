"""Links in the plugin's emails can open a decoupled front end's pages
(``HEADLESS_LINKS``), whose tokens then work with the JSON API; the
List-Unsubscribe header keeps the plugin's own one-click address."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.core import mail
from django.core.checks import run_checks
from django.test import Client, override_settings

from wagtail_leadgen.conf import TOKEN_PLACEHOLDER
from wagtail_leadgen.models import Lead
from wagtail_leadgen.services.preferences import (
    unsubscribe_page_url,
    unsubscribe_url,
)

from .factories import make_landing_page, make_lead, make_purpose

pytestmark = pytest.mark.django_db

API = "/api/leadgen/v1"
EMAIL = "ann@example.com"
FRONT = "https://app.example.com"
LINKS = {
    "confirm": FRONT + "/confirm?token={token}",
    "preferences": FRONT + "/preferences?token={token}",
    "unsubscribe": FRONT + "/unsubscribe?token={token}",
    "my_data_verify": FRONT + "/my-data/verify/{token}",
}


def leadgen(**options) -> dict:
    return {"FORM_MIN_FILL_SECONDS": 0, **options}


def post(client, path, body):
    return client.post(API + path, json.dumps(body), content_type="application/json")


def query_token(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


@pytest.fixture
def newsletter():
    return make_purpose(
        name="Newsletter", checkbox_label="Send me news", requires_confirmation=True
    )


@pytest.fixture
def confirmation_email(newsletter, django_capture_on_commit_callbacks):
    """Send the confirmation email, in the test (under its settings)."""

    def send():
        page = make_landing_page(purposes=[newsletter])
        with django_capture_on_commit_callbacks(execute=True):
            make_lead(EMAIL, page=page, decisions={newsletter: True})
        (message,) = mail.outbox
        return message

    return send


@override_settings(WAGTAIL_LEADGEN=leadgen(HEADLESS_LINKS=LINKS))
def test_the_confirmation_email_opens_the_front_end_whose_token_the_api_takes(
    confirmation_email, newsletter
):
    message = confirmation_email()
    html = message.alternatives[0][0]
    confirm = re.search(rf"{FRONT}/confirm\?token=[^\s\"<]+", message.body).group(0)
    assert confirm in html
    prefs = re.search(rf"{FRONT}/preferences\?token=[^\s\"<]+", message.body).group(0)
    assert "/leadgen/confirm/" not in message.body + html
    assert "/leadgen/preferences/" not in message.body + html

    confirmed = post(Client(), "/consent/confirm", {"token": query_token(confirm)})
    assert confirmed.status_code == 200
    assert [p["id"] for p in confirmed.json()["confirmed"]] == [newsletter.pk]
    shown = Client().get(
        API + "/consent/preferences",
        HTTP_AUTHORIZATION=f"Bearer {query_token(prefs)}",
    )
    assert shown.json()["purposes"][0]["state"] == "granted"


@override_settings(WAGTAIL_LEADGEN=leadgen(HEADLESS_LINKS=LINKS))
def test_list_unsubscribe_keeps_the_plugin_s_one_click_address(confirmation_email):
    header = confirmation_email().extra_headers["List-Unsubscribe"]
    url = re.fullmatch(r"<(http://localhost/leadgen/unsubscribe/[^>]+/)>", header)
    assert url is not None
    path = urlsplit(url.group(1)).path
    response = Client().post(
        path,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200


@override_settings(WAGTAIL_LEADGEN=leadgen(HEADLESS_LINKS=LINKS))
def test_the_my_data_email_opens_the_front_end_whose_token_the_api_takes():
    make_lead(EMAIL, answers={"first_name": "Ann"})
    assert post(Client(), "/my-data/requests", {"email": EMAIL}).status_code == 202
    (message,) = mail.outbox
    link = re.search(rf"{FRONT}/my-data/verify/([\w-]+)", message.body)
    assert link is not None
    assert link.group(0) in message.alternatives[0][0]
    assert "/leadgen/my-data/verify/" not in message.body
    verified = post(Client(), "/my-data/verify", {"token": link.group(1)})
    assert verified.status_code == 200


@override_settings(
    WAGTAIL_LEADGEN=leadgen(
        HEADLESS_LINKS={"unsubscribe": FRONT + "/bye/{token}"},
        SITE_URL="https://www.example.com",
    )
)
def test_the_unsubscribe_link_to_show_opens_the_front_end_the_header_s_does_not(
    newsletter,
):
    lead = make_lead(EMAIL).lead
    shown = unsubscribe_page_url(lead, newsletter)
    assert shown.startswith(FRONT + "/bye/")
    token = shown.removeprefix(FRONT + "/bye/")
    assert "%3A" in token  # URL-encoded in the template
    assert unsubscribe_url(lead, newsletter).startswith(
        "https://www.example.com/leadgen/unsubscribe/"
    )
    response = post(Client(), "/consent/unsubscribe", {"token": unquote(token)})
    assert response.status_code == 200
    assert response.json()["all_marketing"] is False


@override_settings(WAGTAIL_LEADGEN=leadgen(HEADLESS_LINKS={"confirm": None}))
def test_without_templates_the_links_open_the_plugin_s_pages(confirmation_email):
    assert "http://localhost/leadgen/confirm/" in confirmation_email().body
    lead = Lead.objects.get(email=EMAIL)
    assert unsubscribe_page_url(lead) == unsubscribe_url(lead)


# -- Checked at start-up ----------------------------------------------------------
def e007(links) -> list[str]:
    with override_settings(WAGTAIL_LEADGEN=leadgen(HEADLESS_LINKS=links)):
        return [
            message.msg
            for message in run_checks()
            if message.id == "wagtail_leadgen.E007"
        ]


@pytest.mark.parametrize(
    "links",
    [
        LINKS,
        {"confirm": "http://localhost:3000/confirm/{token}"},
        {"my_data_verify": "http://127.0.0.1:3000/v?t={token}"},
        {"preferences": None},
        None,
    ],
    ids=["https", "localhost", "loopback", "key-off", "off"],
)
def test_valid_templates_pass_the_check(links):
    assert e007(links) == []


@pytest.mark.parametrize(
    ("links", "words"),
    [
        ({"confirm": "https://app.example.com/confirm"}, "{token} once"),
        ({"confirm": "https://app.example.com/{token}/{token}"}, "{token} once"),
        ({"confirm": "https://app.example.com/{token}?x={lang}"}, "no other braces"),
        ({"confirm": "http://app.example.com/{token}"}, "https"),
        ({"confirm": "/confirm/{token}"}, "absolute"),
        ({"confirm": "https://app.example.com/ {token}"}, "spaces"),
        ({"confirm": "javascript:alert(1)//{token}"}, "absolute"),
        ({"confirm": 5}, "text"),
        ({"renew": "https://app.example.com/{token}"}, "Unknown key"),
        (["https://app.example.com/{token}"], "dict"),
    ],
    ids=[
        "no-token",
        "two-tokens",
        "other-field",
        "http",
        "relative",
        "space",
        "scheme",
        "not-text",
        "unknown-key",
        "not-a-dict",
    ],
)
def test_bad_templates_are_reported_at_start_up(links, words):
    (message,) = e007(links)
    assert "HEADLESS_LINKS" in message
    assert words in message


def test_the_placeholder_is_the_documented_one():
    assert TOKEN_PLACEHOLDER == "{token}"
