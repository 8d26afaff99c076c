"""The consent endpoints of the JSON API: a decoupled front end confirms a
double opt-in, shows and changes the person's consents, and unsubscribes,
with the records, verdicts and throttles of the HTML pages."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client, override_settings
from django.utils import timezone

from wagtail_leadgen.models import ConsentRecord, Lead
from wagtail_leadgen.services.consent import current_decision, withdraw_consent
from wagtail_leadgen.services.suppression import is_suppressed
from wagtail_leadgen.tokens import make_preferences_token

from .factories import make_landing_page, make_lead, make_purpose

pytestmark = pytest.mark.django_db

API = "/api/leadgen/v1"
EMAIL = "ann@example.com"
PROBLEM_BASE = (
    "https://github.com/wagtail-leadgen/wagtail-leadgen/blob/main/docs/headless.md#"
)


def post(client, path, body, **extra):
    return client.post(
        API + path, json.dumps(body), content_type="application/json", **extra
    )


def slug(response) -> str:
    assert response["Content-Type"] == "application/problem+json"
    return response.json()["type"].removeprefix(PROBLEM_BASE)


def decision(lead, purpose) -> str | None:
    record = current_decision(lead, purpose)
    return record.decision if record else None


@pytest.fixture
def newsletter():
    return make_purpose(
        name="Newsletter",
        checkbox_label="Send me the monthly newsletter",
        requires_confirmation=True,
    )


@pytest.fixture
def offers():
    return make_purpose(name="Offers", checkbox_label="Send me offers")


@pytest.fixture
def page(newsletter, offers):
    return make_landing_page(purposes=[newsletter, offers])


@pytest.fixture
def pending(page, newsletter, offers, django_capture_on_commit_callbacks):
    """Ann ticked both boxes; the newsletter awaits confirmation. Returns the
    confirmation token from the email."""
    with django_capture_on_commit_callbacks(execute=True):
        make_lead(EMAIL, page=page, decisions={newsletter: True, offers: True})
    (message,) = mail.outbox
    return re.search(r"/leadgen/confirm/([\w-]+)/", message.body).group(1)


def ann() -> Lead:
    return Lead.objects.get(email=EMAIL)


def prefs_token(lead, purpose=None) -> str:
    return make_preferences_token(
        lead.pk, lead.preferences_nonce, purpose and purpose.pk
    )


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


# -- Confirm ----------------------------------------------------------------------
def test_confirm_grants_what_was_pending_and_says_what_without_personal_data(
    client, pending, newsletter
):
    response = post(client, "/consent/confirm", {"token": pending})

    assert response.status_code == 200
    body = response.json()
    assert body["confirmed"] == [
        {
            "id": newsletter.pk,
            "name": "Newsletter",
            "label": "Send me the monthly newsletter",
        }
    ]
    assert body["preferences_token"] == prefs_token(ann())
    assert EMAIL not in response.content.decode()
    assert response["Cache-Control"] == "private, no-store"
    record = current_decision(ann(), newsletter)
    assert (record.decision, record.channel) == ("granted", "confirmation")


def test_confirm_refuses_bad_used_and_expired_links_with_distinct_problems(
    client, pending, newsletter
):
    unknown = post(client, "/consent/confirm", {"token": "x" * 43})
    assert (unknown.status_code, slug(unknown)) == (404, "confirmation-unknown")
    assert post(client, "/consent/confirm", {"token": pending}).status_code == 200
    used = post(client, "/consent/confirm", {"token": pending})
    assert (used.status_code, slug(used)) == (409, "confirmation-used")


def test_an_expired_link_confirms_nothing(client, pending, newsletter):
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        response = post(client, "/consent/confirm", {"token": pending})
    assert (response.status_code, slug(response)) == (410, "confirmation-expired")
    assert decision(ann(), newsletter) == "pending"


def test_a_link_whose_consent_was_withdrawn_confirms_nothing(
    client, pending, newsletter
):
    withdraw_consent(ann(), newsletter, language="en", channel="preferences")
    response = post(client, "/consent/confirm", {"token": pending})
    assert (response.status_code, slug(response)) == (409, "nothing-to-confirm")
    assert decision(ann(), newsletter) == "withdrawn"


@pytest.mark.parametrize(
    "body",
    [{}, {"token": ""}, {"token": "t", "channel": "admin"}, {"token": 5}],
    ids=["missing", "empty", "unknown-field", "not-text"],
)
def test_confirm_refuses_a_bad_body_with_field_errors(client, pending, body):
    response = post(client, "/consent/confirm", body)
    assert (response.status_code, slug(response)) == (422, "invalid-body")
    assert response.json()["errors"]
    assert ConsentRecord.objects.filter(channel="confirmation").count() == 0


def test_confirm_takes_json_only(client, pending):
    response = client.post(API + "/consent/confirm", {"token": pending})
    assert response.status_code == 415


@override_settings(
    WAGTAIL_LEADGEN={"FORM_MIN_FILL_SECONDS": 0, "RATE_LIMIT_SUBMISSIONS": 3}
)
def test_too_many_bad_links_from_one_client_get_429_even_with_a_good_one(
    client, pending, newsletter
):
    for _n in range(3):
        assert post(client, "/consent/confirm", {"token": "x" * 43}).status_code == 404
    throttled = post(client, "/consent/confirm", {"token": pending})
    assert (throttled.status_code, slug(throttled)) == (429, "rate-limited")
    assert throttled["Retry-After"] == "600"
    assert decision(ann(), newsletter) == "pending"
    # Another client is not held back.
    other = post(Client(REMOTE_ADDR="10.1.1.1"), "/consent/confirm", {"token": pending})
    assert other.status_code == 200


def test_no_csrf_token_is_needed_as_no_cookie_is_read(pending):
    client = Client(enforce_csrf_checks=True)
    assert post(client, "/consent/confirm", {"token": pending}).status_code == 200


# -- Preferences ------------------------------------------------------------------
def test_preferences_lists_each_purpose_with_its_state_and_wording(
    client, pending, newsletter, offers
):
    response = client.get(API + "/consent/preferences", **bearer(prefs_token(ann())))

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    rows = {row["name"]: row for row in response.json()["purposes"]}
    assert rows["Newsletter"]["state"] == "pending"
    assert rows["Offers"]["state"] == "granted"
    assert rows["Offers"]["label"] == "Send me offers"
    assert rows["Offers"]["in_force"] is True
    assert rows["Offers"]["can_grant"] is False
    assert rows["Offers"]["id"] == offers.pk


def test_preferences_needs_the_token_in_the_authorization_header(client, pending):
    missing = client.get(API + "/consent/preferences")
    assert (missing.status_code, slug(missing)) == (401, "missing-token")
    assert missing["WWW-Authenticate"].startswith("Bearer")
    in_url = client.get(API + "/consent/preferences", {"token": prefs_token(ann())})
    assert in_url.status_code == 401
    bad = client.get(API + "/consent/preferences", **bearer("nope"))
    assert (bad.status_code, slug(bad)) == (404, "link-unknown")


def test_a_new_nonce_revokes_the_token(client, pending):
    lead = ann()
    token = prefs_token(lead)
    Lead.objects.filter(pk=lead.pk).update(preferences_nonce="new")
    response = client.get(API + "/consent/preferences", **bearer(token))
    assert response.status_code == 404


def test_withdraw_and_give_again_are_recorded_with_channel_api(client, pending, offers):
    token = prefs_token(ann())
    withdrawn = post(
        client,
        "/consent/preferences",
        {"token": token, "changes": [{"purpose": offers.pk, "action": "withdraw"}]},
    )
    assert withdrawn.status_code == 200
    rows = {row["name"]: row for row in withdrawn.json()["purposes"]}
    assert rows["Offers"]["state"] == "withdrawn"
    assert rows["Offers"]["can_grant"] is True
    record = current_decision(ann(), offers)
    assert (record.decision, record.channel) == ("withdrawn", "api")
    assert is_suppressed(EMAIL, offers)

    granted = post(
        client,
        "/consent/preferences",
        {"token": token, "changes": [{"purpose": offers.pk, "action": "grant"}]},
    )
    assert granted.status_code == 200
    record = current_decision(ann(), offers)
    assert (record.decision, record.channel) == ("granted", "api")
    assert not is_suppressed(EMAIL, offers)
    assert ann().last_contact_at is not None


def test_withdraw_all_objects_to_all_marketing(client, pending, newsletter, offers):
    response = post(
        client,
        "/consent/preferences",
        {"token": prefs_token(ann()), "withdraw_all": True},
    )
    assert response.status_code == 200
    assert decision(ann(), newsletter) == decision(ann(), offers) == "withdrawn"
    assert is_suppressed(EMAIL, make_purpose(name="Later"))


def test_changes_are_all_made_or_none(client, pending, offers, newsletter):
    never = make_purpose(name="Never shown")
    response = post(
        client,
        "/consent/preferences",
        {
            "token": prefs_token(ann()),
            "changes": [
                {"purpose": offers.pk, "action": "withdraw"},
                {"purpose": never.pk, "action": "withdraw"},
                {"purpose": newsletter.pk, "action": "grant"},
            ],
        },
    )
    assert (response.status_code, slug(response)) == (422, "invalid-change")
    assert [error["field"] for error in response.json()["errors"]] == [
        "changes.1.purpose",
        "changes.2.action",
    ]
    assert decision(ann(), offers) == "granted"


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"withdraw_all": True, "changes": [{"purpose": 1, "action": "withdraw"}]},
        {"changes": [{"purpose": 1, "action": "delete"}]},
        {"changes": [{"purpose": 1, "action": "grant", "channel": "admin"}]},
    ],
    ids=["nothing", "both", "bad-action", "unknown-field"],
)
def test_preferences_refuses_a_bad_body(client, pending, extra):
    body = {"token": prefs_token(ann()), **extra}
    response = post(client, "/consent/preferences", body)
    assert response.status_code == 422
    assert not ConsentRecord.objects.filter(channel="api").exists()


def test_changing_preferences_with_a_bad_token_changes_nothing(client, pending):
    response = post(
        client, "/consent/preferences", {"token": "bad", "withdraw_all": True}
    )
    assert (response.status_code, slug(response)) == (404, "link-unknown")
    assert not ConsentRecord.objects.filter(channel="api").exists()


@override_settings(
    WAGTAIL_LEADGEN={"FORM_MIN_FILL_SECONDS": 0, "RATE_LIMIT_SUBMISSIONS": 2}
)
def test_preferences_are_throttled_after_bad_tokens(client, pending):
    for _n in range(2):
        client.get(API + "/consent/preferences", **bearer("bad"))
    response = client.get(API + "/consent/preferences", **bearer(prefs_token(ann())))
    assert (response.status_code, slug(response)) == (429, "rate-limited")
    assert response["Retry-After"]


# -- Unsubscribe ------------------------------------------------------------------
def test_an_unsubscribe_link_for_one_purpose_withdraws_that_one(
    client, pending, offers, newsletter
):
    response = post(
        client, "/consent/unsubscribe", {"token": prefs_token(ann(), offers)}
    )
    assert response.status_code == 200
    assert response.json() == {
        "withdrawn": [{"id": offers.pk, "name": "Offers", "label": "Send me offers"}],
        "all_marketing": False,
    }
    record = current_decision(ann(), offers)
    assert (record.decision, record.channel) == ("withdrawn", "api")
    assert decision(ann(), newsletter) == "pending"


def test_an_unsubscribe_link_for_all_withdraws_everything(
    client, pending, offers, newsletter
):
    response = post(client, "/consent/unsubscribe", {"token": prefs_token(ann())})
    assert response.status_code == 200
    assert response.json()["all_marketing"] is True
    assert {p["name"] for p in response.json()["withdrawn"]} == {
        "Newsletter",
        "Offers",
    }
    assert decision(ann(), newsletter) == decision(ann(), offers) == "withdrawn"


def test_unsubscribe_refuses_bad_links_and_bodies(client, pending):
    unknown = post(client, "/consent/unsubscribe", {"token": "bad"})
    assert (unknown.status_code, slug(unknown)) == (404, "link-unknown")
    extra = post(
        client, "/consent/unsubscribe", {"token": prefs_token(ann()), "all": True}
    )
    assert extra.status_code == 422
    assert not ConsentRecord.objects.filter(channel="api").exists()
