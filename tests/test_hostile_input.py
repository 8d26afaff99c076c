"""Hostile input on every public path: never a 5xx, never a lead stored half-way.

The corpus is what browsers never send but scripts and people do: control
characters (NUL first: PostgreSQL refuses it in text), lone surrogates and
invalid UTF-8, bidi overrides, huge values, broken URLs and IPv6 literals in
headers, odd addresses, duplicate keys, wrong content types, oversize bodies,
tampered or replayed tokens. The whole suite runs on SQLite and on
PostgreSQL (``.ci/run``), so each case is proven on both.
"""

from __future__ import annotations

import itertools
from urllib.parse import urlencode

import pytest
from django.test import override_settings
from django.urls import reverse

from wagtail_leadgen.forms import CONSENT_GIVEN
from wagtail_leadgen.models import (
    ConsentRecord,
    Delivery,
    DownloadGrant,
    Lead,
    Submission,
)
from wagtail_leadgen.tokens import make_download_token

from .factories import make_cta, make_ebook_page, make_landing_page, make_purpose
from .helpers import form_data

pytestmark = pytest.mark.django_db

CONTROL = ["\x00", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u202e", "\x7f"]
HOSTILE_TEXT = [
    *(f"Ann{char}Lee" for char in CONTROL),
    "\x00",
    "A" * 10_000,
    "A" * 1_000_000,
    '=HYPERLINK("http://evil.example")',
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "e\u0301\u0301\u0301",  # stacked combining marks
    "\ufffe\uffff",  # noncharacters
    "%00%0d%0a",
]
HOSTILE_EMAILS = [
    "a" * 65 + "@example.com",
    "ann@[127.0.0.1]",
    "ann@[::1]",
    "ann@localhost",
    "ann@b@example.com",
    "@example.com",
    "ann@",
    "ann@example.com,bob@example.com",
    "ann@example.com\r\nBcc: bob@example.com",
    "ann@example..com",
    "ann@-example.com",
    "ann@" + "a" * 64 + ".com",
    "x" * 250 + "@example.fr",
    "ann\x00@example.com",
    "ann@exa\u202emple.com",
    "",
]
BAD_URLS = [
    "http://[::1",
    "http://[",
    "https://exa\x00mple.com/",
    "http://example.com:99999/",
    "javascript:alert(1)",
    "//evil.example/",
    "http://" + "a" * 5000 + ".example/",
    "http://ex\u2028ample.com/",
]


def assert_nothing_half_stored() -> None:
    """Every submission is either quarantined spam, or a complete capture."""
    for submission in Submission.objects.all():
        if submission.is_spam:
            assert submission.lead_id is None
            assert not submission.consent_records.exists()
            assert not submission.deliveries.exists()
            continue
        assert submission.lead_id is not None
        purposes = submission.page.specific.get_purposes()
        assert submission.consent_records.count() == len(purposes)
        assert submission.deliveries.count() == len(
            submission.page.specific.get_crm_destinations()
        )
    assert not Lead.objects.filter(submissions__isnull=True).exists()
    assert not ConsentRecord.objects.filter(lead__isnull=True).exists()


def assert_no_server_error(response) -> None:
    assert response.status_code < 500, response.status_code


@pytest.fixture
def page():
    return make_landing_page(
        purposes=[make_purpose()],
        form_fields=[
            (kind, {"label": "", "required": False, "help_text": ""})
            for kind in ("first_name", "company", "phone", "question")
        ],
    )


def post(client, page, **fields):
    data = form_data(client, page, email="ann@example.com")
    data.update(fields)
    return client.post(page.url, data)


@pytest.mark.parametrize(
    ("field", "value"),
    list(
        itertools.product(("first_name", "company", "phone", "question"), HOSTILE_TEXT)
    ),
)
def test_hostile_answers_are_a_field_error_or_a_clean_lead(client, page, field, value):
    response = post(client, page, **{field: value})
    assert_no_server_error(response)
    assert response.status_code in (303, 400)
    assert_nothing_half_stored()
    for submission in Submission.objects.all():
        for answer in submission.answers.values():
            assert "\x00" not in answer


@pytest.mark.parametrize("value", HOSTILE_EMAILS)
def test_hostile_addresses_are_refused_with_a_field_error(client, page, value):
    response = post(client, page, email=value)
    assert_no_server_error(response)
    assert response.status_code == 400
    assert not Lead.objects.exists()


@pytest.mark.parametrize("value", [*HOSTILE_TEXT, "0", "off", "no", "false", "on"])
def test_only_the_rendered_checkbox_value_grants_a_consent(client, page, value):
    (purpose,) = page.get_purposes()
    response = post(client, page, **{f"consent_{purpose.pk}": value})
    assert_no_server_error(response)
    assert_nothing_half_stored()
    assert not ConsentRecord.objects.filter(decision="granted").exists()


def test_the_rendered_checkbox_value_grants_it(client, page):
    (purpose,) = page.get_purposes()
    html = client.get(page.url).content.decode()
    assert f'value="{CONSENT_GIVEN}"' in html
    post(client, page, **{f"consent_{purpose.pk}": CONSENT_GIVEN})
    assert ConsentRecord.objects.get().decision == "granted"


@pytest.mark.parametrize("value", HOSTILE_TEXT)
def test_hostile_honeypot_values_are_quarantined_cleanly(client, page, value):
    response = post(client, page, leadgen_hp=value or "x", email=value)
    assert_no_server_error(response)
    assert_nothing_half_stored()
    for spam in Submission.objects.filter(is_spam=True):
        for answer in spam.answers.values():
            assert "\x00" not in answer
            assert len(answer) <= 500


@pytest.mark.parametrize("value", [*HOSTILE_TEXT, *BAD_URLS])
def test_hostile_utm_parameters_never_lose_the_lead(client, page, value):
    data = form_data(client, page, email="ann@example.com")
    response = client.post(
        page.url, data, QUERY_STRING=urlencode({"utm_campaign": value})
    )
    assert_no_server_error(response)
    assert response.status_code == 303
    submission = Submission.objects.get(is_spam=False)
    assert "\x00" not in submission.utm_campaign
    assert len(submission.utm_campaign) <= 100


@pytest.mark.parametrize("value", [*BAD_URLS, *HOSTILE_TEXT])
def test_a_hostile_referer_header_never_breaks_a_lead_page(client, page, value):
    try:
        response = client.get(page.url, HTTP_REFERER=value)
    except UnicodeEncodeError:
        pytest.skip("not sendable as a header")
    assert response.status_code == 200
    data = form_data(client, page, email="ann@example.com")
    response = client.post(page.url, data, HTTP_REFERER=value)
    assert response.status_code == 303


@pytest.mark.parametrize("value", [*BAD_URLS, *HOSTILE_TEXT])
def test_a_hostile_referrer_field_is_dropped_not_stored(client, page, value):
    response = post(client, page, leadgen_ref=value)
    assert_no_server_error(response)
    assert response.status_code == 303
    referrer = Submission.objects.get().referrer
    assert referrer == "" or referrer.startswith(("http://", "https://"))
    assert "\x00" not in referrer


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_USER_AGENT": "\x00"},
        {"HTTP_USER_AGENT": "A" * 100_000},
        {"HTTP_X_FORWARDED_FOR": "\x00, [::1"},
        {"HTTP_SEC_PURPOSE": "\x00prefetch"},
        {"HTTP_ACCEPT_LANGUAGE": "\x00;q=x,fr-FR;q=0.9," + "x" * 5000},
        {"HTTP_COOKIE": "sessionid=abc\x00def12345"},
        {"HTTP_COOKIE": "sessionid=" + "a" * 5000},
        {"HTTP_COOKIE": "csrftoken=\x00"},
    ],
)
def test_hostile_headers_never_break_a_lead_page(client, page, headers):
    assert_no_server_error(client.get(page.url, **headers))
    data = form_data(client, page, email="ann@example.com")
    response = client.post(page.url, data, **headers)
    assert_no_server_error(response)
    assert_nothing_half_stored()


@override_settings(WAGTAIL_LEADGEN={"TRUSTED_PROXY_COUNT": 1})
def test_a_forged_forwarded_for_behind_a_proxy_is_not_an_error(client, page):
    data = form_data(client, page, email="ann@example.com")
    response = client.post(page.url, data, HTTP_X_FORWARDED_FOR="not-an-ip\x00")
    assert response.status_code == 303


def test_a_session_cookie_holding_a_nul_is_dropped(client, page):
    client.cookies["sessionid"] = "abcdefgh\x00ijk"
    response = client.get(page.url)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b"email=ann%40example.com&email=bob%40example.com",
        b"email=%ff%fe%fd%40example.com",
        b"email=ann%40example.com&first_name=%ed%a0%80",
        b"email=ann%40example.com&first_name=%c0%80",
        b"\x00\x01\x02",
        b"&&&===&&&",
    ],
)
def test_raw_bodies_with_odd_encodings_are_answered(client, page, body):
    response = client.generic(
        "POST",
        page.url,
        body,
        content_type="application/x-www-form-urlencoded",
    )
    assert_no_server_error(response)
    assert_nothing_half_stored()


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "text/plain", "multipart/form-data; boundary=x", "\x00"],
)
def test_wrong_content_types_are_answered(client, page, content_type):
    response = client.generic(
        "POST", page.url, b'{"email": "ann@example.com"}', content_type=content_type
    )
    assert_no_server_error(response)
    assert not Lead.objects.exists()


def test_an_oversize_body_is_refused(client, page):
    body = b"email=ann%40example.com&question=" + b"x" * (3 * 1024 * 1024)
    response = client.generic(
        "POST", page.url, body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code in (400, 413)
    assert not Lead.objects.exists()


def test_too_many_fields_are_refused(client, page):
    body = "&".join(f"f{n}=x" for n in range(2000)).encode()
    response = client.generic(
        "POST", page.url, body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    "token",
    [
        "\x00",
        "a" * 10_000,
        "..%2f..%2fetc%2fpasswd",
        make_download_token("0" * 32) + "x",
        make_download_token("not-a-uuid"),
        make_download_token("\x00" * 32),
    ],
)
def test_hostile_download_tokens_are_a_clear_error(client, token):
    response = client.get("/leadgen/download/" + token + "/")
    assert_no_server_error(response)
    assert response.status_code in (400, 404, 410)


def test_a_replayed_download_link_stops_at_its_use_limit(client, post_form):
    page = make_ebook_page()
    response = post_form(page, email="ann@example.com")
    token = response["Location"].split("download=")[1]
    url = reverse("wagtail_leadgen:download", args=[token])
    statuses = [client.get(url).status_code for _ in range(7)]
    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [410, 410]
    assert DownloadGrant.objects.get().uses == 5


@pytest.mark.parametrize("pk", ["0", "99999999999999999999", "-1", "1e3", "%00"])
def test_hostile_cta_ids_are_not_found(client, pk):
    make_cta()
    for url in (f"/leadgen/cta/{pk}/", f"/leadgen/cta/{pk}/ping/"):
        assert_no_server_error(client.get(url))
        assert_no_server_error(client.post(url, b"", content_type="text/ping"))


def test_no_delivery_is_written_for_a_refused_submission(client, page):
    post(client, page, email="ann\x00@example.com")
    assert not Delivery.objects.exists()
