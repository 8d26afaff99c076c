"""The "my data" endpoints of the JSON API: a decoupled front end asks for a
link, verifies it for a short-lived bearer token, shows, corrects and erases
the person's data, with the answers, throttles and records of the HTML page."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry

from wagtail_leadgen.models import AccessRequest, Lead
from wagtail_leadgen.models.rectification import Rectification

from .factories import make_lead, make_purpose
from .helpers import sweep

pytestmark = pytest.mark.django_db

API = "/api/leadgen/v1"
EMAIL = "ann@example.com"
PROBLEM_BASE = (
    "https://github.com/wagtail-leadgen/wagtail-leadgen/blob/main/docs/headless.md#"
)
LINK_RE = re.compile(r"/leadgen/my-data/verify/([\w-]+)/")


def post(client, path, body=None, **extra):
    if body is None:
        return client.post(API + path, **extra)
    return client.post(
        API + path, json.dumps(body), content_type="application/json", **extra
    )


def slug(response) -> str:
    assert response["Content-Type"] == "application/problem+json"
    return response.json()["type"].removeprefix(PROBLEM_BASE)


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def link_token(message) -> str:
    return LINK_RE.search(message.body).group(1)


@pytest.fixture
def ann():
    newsletter = make_purpose(name="Newsletter", checkbox_label="Send me the news")
    return make_lead(
        EMAIL,
        answers={"first_name": "Ann", "company": "Acme"},
        decisions={newsletter: True},
    ).lead


def emailed_link(client, address=EMAIL) -> str:
    assert post(client, "/my-data/requests", {"email": address}).status_code == 202
    return link_token(mail.outbox[-1])


@pytest.fixture
def access(client, ann) -> str:
    """Ann's bearer token, through the API's own steps."""
    response = post(client, "/my-data/verify", {"token": emailed_link(client)})
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


# -- Step 1: no enumeration -------------------------------------------------------
def test_known_and_unknown_addresses_get_the_same_answer(ann):
    known = post(Client(), "/my-data/requests", {"email": EMAIL})
    unknown = post(Client(), "/my-data/requests", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert dict(known.items()) == dict(unknown.items())
    assert known.json()["link_max_age"] == 1800
    assert [message.to for message in mail.outbox] == [[EMAIL]]


def test_the_address_is_recognised_in_any_spelling(client, ann):
    assert (
        post(client, "/my-data/requests", {"email": "  Ann@EXAMPLE.com "}).status_code
        == 202
    )
    assert [message.to for message in mail.outbox] == [[EMAIL]]


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not an address"},
        {"email": "a@[127.0.0.1]"},
        {"email": "ann\x00@example.com"},
        {},
        {"email": EMAIL, "lead": 1},
    ],
    ids=["malformed", "ip-literal", "nul", "missing", "unknown-field"],
)
def test_a_bad_request_body_gets_422_and_no_email(client, ann, body):
    response = post(client, "/my-data/requests", body)
    assert response.status_code == 422
    assert slug(response) == "invalid-body"
    assert response.json()["errors"]
    assert not mail.outbox


@override_settings(
    WAGTAIL_LEADGEN={"FORM_MIN_FILL_SECONDS": 0, "MY_DATA_REQUESTS_PER_ADDRESS": 2}
)
@pytest.mark.parametrize("address", [EMAIL, "nobody@example.com"])
def test_requests_for_one_address_are_throttled_alike_known_or_not(ann, address):
    for n in range(2):
        client = Client(REMOTE_ADDR=f"10.0.0.{n}")
        assert post(client, "/my-data/requests", {"email": address}).status_code == 202
    sent = len(mail.outbox)
    throttled = post(
        Client(REMOTE_ADDR="10.0.0.9"), "/my-data/requests", {"email": address}
    )
    assert (throttled.status_code, slug(throttled)) == (429, "rate-limited")
    assert throttled["Retry-After"] == "3600"
    assert len(mail.outbox) == sent


@override_settings(
    WAGTAIL_LEADGEN={"FORM_MIN_FILL_SECONDS": 0, "MY_DATA_REQUESTS_PER_IP": 2}
)
def test_requests_from_one_ip_are_throttled(client, ann):
    post(client, "/my-data/requests", {"email": "someone@example.com"})
    post(client, "/my-data/requests", {"email": "other@example.com"})
    throttled = post(client, "/my-data/requests", {"email": EMAIL})
    assert throttled.status_code == 429
    assert not mail.outbox


# -- Step 2: the link gives a bearer token ----------------------------------------
def test_verifying_gives_a_short_lived_token_and_counts_as_a_contact(client, ann):
    response = post(client, "/my-data/verify", {"token": emailed_link(client)})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 900)
    assert response["Cache-Control"] == "private, no-store"
    assert not response.cookies
    assert Lead.objects.get(pk=ann.pk).last_contact_at is not None
    assert ModelLogEntry.objects.filter(
        object_id=str(ann.pk), action="wagtail_leadgen.lead.my_data_view"
    ).exists()


def test_bad_used_and_expired_links_get_distinct_problems(client, ann):
    unknown = post(client, "/my-data/verify", {"token": "x" * 43})
    assert (unknown.status_code, slug(unknown)) == (404, "link-unknown")
    token = emailed_link(client)
    assert post(client, "/my-data/verify", {"token": token}).status_code == 200
    used = post(client, "/my-data/verify", {"token": token})
    assert (used.status_code, slug(used)) == (409, "link-used")
    late = emailed_link(client)
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        expired = post(client, "/my-data/verify", {"token": late})
    assert (expired.status_code, slug(expired)) == (410, "link-expired")


@override_settings(
    WAGTAIL_LEADGEN={"FORM_MIN_FILL_SECONDS": 0, "RATE_LIMIT_SUBMISSIONS": 2}
)
def test_verifying_is_throttled_after_bad_links(client, ann):
    token = emailed_link(client)
    for _n in range(2):
        post(client, "/my-data/verify", {"token": "x" * 43})
    throttled = post(client, "/my-data/verify", {"token": token})
    assert (throttled.status_code, slug(throttled)) == (429, "rate-limited")
    assert throttled["Retry-After"] == "600"
    assert AccessRequest.objects.get().used_at is None


def test_verify_refuses_a_bad_body(client, ann):
    response = post(client, "/my-data/verify", {"token": "x" * 43, "lead": ann.pk})
    assert response.status_code == 422


# -- Step 3: with the token -------------------------------------------------------
@time_machine.travel("2026-11-30 16:00 +0000", tick=False)
def test_the_export_is_the_html_download_s_json(client, ann, access):
    html_client = Client()
    html_client.post(reverse("wagtail_leadgen:my_data"), {"email": EMAIL})
    html_client.post(
        reverse("wagtail_leadgen:my_data_verify", args=[link_token(mail.outbox[-1])])
    )

    api = client.get(API + "/my-data/", **bearer(access))
    html = html_client.get(reverse("wagtail_leadgen:my_data_download", args=["json"]))

    assert api.status_code == html.status_code == 200
    assert api["Content-Type"] == html["Content-Type"]
    assert api["Cache-Control"] == "private, no-store"
    content = api.getvalue()  # streamed: read once
    assert content == html.getvalue()
    data = json.loads(content)
    assert data["person"]["email"] == EMAIL
    assert (
        ModelLogEntry.objects.filter(
            object_id=str(ann.pk), action="wagtail_leadgen.lead.subject_export"
        ).count()
        == 2
    )


def test_the_token_is_needed_and_checked(client, ann, access):
    missing = client.get(API + "/my-data/")
    assert (missing.status_code, slug(missing)) == (401, "missing-token")
    assert missing["WWW-Authenticate"].startswith("Bearer")
    forged = client.get(API + "/my-data/", **bearer(access[:-2] + "xx"))
    assert (forged.status_code, slug(forged)) == (401, "access-ended")
    assert 'error="invalid_token"' in forged["WWW-Authenticate"]
    link = client.get(API + "/my-data/", **bearer(link_token(mail.outbox[-1])))
    assert link.status_code == 401


def test_the_token_expires_with_the_session_age(client, ann, access):
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        response = client.get(API + "/my-data/", **bearer(access))
    assert (response.status_code, slug(response)) == (401, "access-ended")


def test_leaving_revokes_the_token_at_once(client, ann, access):
    left = post(client, "/my-data/leave", **bearer(access))
    assert left.status_code == 204
    assert client.get(API + "/my-data/", **bearer(access)).status_code == 401
    assert post(client, "/my-data/leave", **bearer(access)).status_code == 401


def test_a_correction_is_recorded_as_the_person_s(client, ann, access):
    response = post(
        client,
        "/my-data/corrections",
        {"changes": {"first_name": "Anne"}},
        **bearer(access),
    )
    assert response.status_code == 200
    assert response.json() == {"changed": ["first_name"]}
    rectification = Rectification.objects.get(lead=ann)
    assert (rectification.source, rectification.values) == (
        "person",
        {"first_name": "Anne"},
    )
    same = post(
        client,
        "/my-data/corrections",
        {"changes": {"first_name": "Anne"}},
        **bearer(access),
    )
    assert same.json() == {"changed": []}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "other@example.com"}, "changes.email"),
        ({"phone": "123"}, "changes.phone"),
        ({"first_name": "A\x00n"}, "changes.first_name"),
        ({"first_name": ""}, "changes.first_name"),
    ],
    ids=["email", "never-given", "nul", "empty"],
)
def test_a_refused_correction_changes_nothing(client, ann, access, changes, field):
    response = post(
        client, "/my-data/corrections", {"changes": changes}, **bearer(access)
    )
    assert (response.status_code, slug(response)) == (422, "invalid-correction")
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert not Rectification.objects.exists()


def test_a_correction_body_is_checked(client, ann, access):
    empty = post(client, "/my-data/corrections", {"changes": {}}, **bearer(access))
    extra = post(
        client,
        "/my-data/corrections",
        {"changes": {"first_name": "Anne"}, "source": "staff"},
        **bearer(access),
    )
    assert empty.status_code == extra.status_code == 422
    assert not Rectification.objects.exists()


def test_erasure_needs_an_explicit_confirmation(client, ann, access):
    for body in ({}, {"confirm": False}, {"confirm": "yes"}):
        response = post(client, "/my-data/erasure", body, **bearer(access))
        assert response.status_code == 422
    assert Lead.objects.filter(pk=ann.pk).exists()


def test_erasure_erases_and_revokes_the_token(client, ann, access):
    response = post(client, "/my-data/erasure", {"confirm": True}, **bearer(access))
    assert response.status_code == 200
    assert response.json()["erased"] is True
    assert not Lead.objects.filter(email=EMAIL).exists()
    again = client.get(API + "/my-data/", **bearer(access))
    assert (again.status_code, slug(again)) == (401, "access-ended")


def test_no_csrf_token_is_needed_as_no_cookie_is_read(ann):
    client = Client(enforce_csrf_checks=True)
    assert post(client, "/my-data/requests", {"email": EMAIL}).status_code == 202
    token = link_token(mail.outbox[-1])
    assert post(client, "/my-data/verify", {"token": token}).status_code == 200


# -- End to end -------------------------------------------------------------------
@time_machine.travel("2026-11-30 16:00 +0000", tick=False)
def test_the_whole_journey_through_the_api_only(ann):
    html = Client()  # the person also opened the HTML page: the exports agree
    html.post(reverse("wagtail_leadgen:my_data"), {"email": EMAIL})
    html.post(
        reverse("wagtail_leadgen:my_data_verify", args=[link_token(mail.outbox[-1])])
    )
    front_end = Client(REMOTE_ADDR="192.0.2.10")

    assert post(front_end, "/my-data/requests", {"email": EMAIL}).status_code == 202
    message = mail.outbox[-1]
    assert message.to == [EMAIL]
    verified = post(front_end, "/my-data/verify", {"token": link_token(message)})
    token = verified.json()["access_token"]
    exported = front_end.get(API + "/my-data/", **bearer(token))
    html_export = html.get(reverse("wagtail_leadgen:my_data_download", args=["json"]))
    content = exported.getvalue()  # streamed: read once
    assert content == html_export.getvalue()
    assert json.loads(content)["person"]["email"] == EMAIL

    corrected = post(
        front_end,
        "/my-data/corrections",
        {"changes": {"company": "Initech"}},
        **bearer(token),
    )
    assert corrected.json() == {"changed": ["company"]}
    erased = post(front_end, "/my-data/erasure", {"confirm": True}, **bearer(token))
    assert erased.status_code == 200
    assert not Lead.objects.filter(email=EMAIL).exists()
    assert sweep(EMAIL, "Acme", "Initech") == []
    assert front_end.get(API + "/my-data/", **bearer(token)).status_code == 401
