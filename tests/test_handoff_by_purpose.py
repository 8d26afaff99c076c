"""Handoff by purpose, end to end (R9, R17, R20): a destination gets a lead only
when the purposes it needs are granted, hears only of those, and processors
get only what they need."""

import base64
import json

import pytest
from django.core.management import call_command
from django.test import override_settings

from wagtail_leadgen import worker
from wagtail_leadgen.crm import get_backend, locmem
from wagtail_leadgen.models import Delivery
from wagtail_leadgen.services.consent import (
    confirm_pending,
    grant_consent,
    withdraw_consent,
)
from wagtail_leadgen.services.outbox import propagate_consent_change

from .factories import (
    make_landing_page,
    make_purpose,
    make_request_processing,
    make_submission,
)
from .fake_crm import verify_standard_webhook
from .fake_http import FakeHTTP
from .helpers import LOCMEM, destinations, ticked

pytestmark = pytest.mark.django_db

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
PARTNER_SETTINGS = destinations(
    sales={"BACKEND": LOCMEM},
    partner={"BACKEND": LOCMEM, "RECEIVES": ["Partner offers"]},
)


def run_due():
    call_command("leadgen_deliver", "--once", "--all")


def delivered_to(alias):
    return [payload for name, payload in locmem.outbox if name == alias]


@pytest.fixture
def purposes():
    return (
        make_purpose(name="Newsletter"),
        make_purpose(name="Partner offers"),
    )


@pytest.fixture
def page(purposes):
    return make_landing_page(purposes=list(purposes))


# -- The lead goes where its consents allow -------------------------------------------
@override_settings(WAGTAIL_LEADGEN=PARTNER_SETTINGS)
def test_a_refused_partner_purpose_never_reaches_the_partner(post_form, page, purposes):
    newsletter, _partner = purposes

    assert (
        post_form(page, email="ann@example.com", **ticked(newsletter)).status_code
        == 303
    )
    run_due()

    assert list(Delivery.objects.values_list("backend_alias", flat=True)) == ["sales"]
    assert len(delivered_to("sales")) == 1
    assert delivered_to("partner") == []


@override_settings(WAGTAIL_LEADGEN=PARTNER_SETTINGS)
def test_a_ticked_partner_purpose_sends_the_lead_there_with_that_consent_only(
    post_form, page, purposes
):
    post_form(page, email="ann@example.com", **ticked(*purposes))
    run_due()

    (payload,) = delivered_to("partner")
    assert [c.purpose_name for c in payload.consents] == ["Partner offers"]
    (to_sales,) = delivered_to("sales")
    assert {c.purpose_name for c in to_sales.consents} == {
        "Newsletter",
        "Partner offers",
    }


@override_settings(WAGTAIL_LEADGEN=PARTNER_SETTINGS)
def test_a_later_grant_sends_the_lead_to_the_partner_then(page, purposes):
    newsletter, partner = purposes
    submission = make_submission(
        page, "ann@example.com", decisions={newsletter: False, partner: False}
    )
    run_due()
    assert delivered_to("partner") == []

    record = grant_consent(
        submission.lead, partner, language="en", channel="preferences"
    )
    planned = propagate_consent_change([record])
    run_due()

    assert {(d.kind, d.backend_alias) for d in planned} == {
        ("consent_change", "sales"),
        ("lead", "partner"),
    }
    (payload,) = delivered_to("partner")
    assert payload.submission_id == submission.pk
    assert [(c.purpose_name, c.granted) for c in payload.consents] == [
        ("Partner offers", True)
    ]
    # Granting again opens nothing more.
    again = grant_consent(
        submission.lead, partner, language="en", channel="preferences"
    )
    assert {d.kind for d in propagate_consent_change([again])} == {"consent_change"}


@override_settings(WAGTAIL_LEADGEN=PARTNER_SETTINGS)
def test_a_consent_given_outside_the_form_travels_with_the_lead_it_opens(purposes):
    newsletter, partner = purposes
    page = make_landing_page(purposes=[newsletter])  # no partner box on this page
    submission = make_submission(page, "ann@example.com", decisions={newsletter: True})
    record = grant_consent(submission.lead, partner, language="en", channel="prefs")
    propagate_consent_change([record])
    run_due()

    (payload,) = delivered_to("partner")
    assert [(c.purpose_name, c.granted, c.wording) for c in payload.consents] == [
        ("Partner offers", True, partner.wording)
    ]
    (to_sales,) = delivered_to("sales")
    assert [c.purpose_name for c in to_sales.consents] == [
        "Newsletter",
        "Partner offers",
    ]


@override_settings(WAGTAIL_LEADGEN=PARTNER_SETTINGS)
def test_a_pending_double_opt_in_opens_the_partner_only_once_confirmed(post_form):
    partner = make_purpose(name="Partner offers", requires_confirmation=True)
    page = make_landing_page(purposes=[partner])
    post_form(page, email="ann@example.com", **ticked(partner))
    run_due()
    assert list(Delivery.objects.values_list("backend_alias", flat=True)) == ["sales"]
    (to_sales,) = delivered_to("sales")
    assert [(c.decision, c.granted) for c in to_sales.consents] == [("pending", False)]

    lead = Delivery.objects.get().lead
    confirmed = confirm_pending(lead, [partner], language="en", channel="confirmation")
    propagate_consent_change(confirmed)
    run_due()

    (payload,) = delivered_to("partner")
    assert [(c.decision, c.granted) for c in payload.consents] == [("granted", True)]


def test_a_destination_may_name_the_purpose_it_needs_by_id(page, purposes):
    _newsletter, partner = purposes
    config = destinations(
        sales={"BACKEND": LOCMEM}, partner={"BACKEND": LOCMEM, "RECEIVES": [partner.pk]}
    )
    with override_settings(WAGTAIL_LEADGEN=config):
        make_submission(page, "ann@example.com", decisions={partner: True})
    assert sorted(Delivery.objects.values_list("backend_alias", flat=True)) == [
        "partner",
        "sales",
    ]


# -- Consent changes go where the purpose went ------------------------------------------
@override_settings(WAGTAIL_LEADGEN=PARTNER_SETTINGS)
def test_the_partner_hears_of_its_own_purpose_only(page, purposes):
    newsletter, partner = purposes
    submission = make_submission(
        page, "ann@example.com", decisions={newsletter: True, partner: True}
    )
    run_due()
    lead = submission.lead

    newsletter_gone = withdraw_consent(lead, newsletter, language="en", channel="p")
    assert [d.backend_alias for d in propagate_consent_change([newsletter_gone])] == [
        "sales"
    ]
    partner_gone = withdraw_consent(lead, partner, language="en", channel="p")
    assert sorted(
        d.backend_alias for d in propagate_consent_change([partner_gone])
    ) == ["partner", "sales"]
    run_due()

    to_partner = [p for name, p in locmem.updated if name == "partner"]
    assert [p.change.purpose_name for p in to_partner] == ["Partner offers"]
    assert [c.purpose_name for c in to_partner[0].consents] == ["Partner offers"]


# -- What processors receive -----------------------------------------------------------
HUBSPOT = {
    "BACKEND": "wagtail_leadgen.crm.hubspot.HubSpotBackend",
    "OPTIONS": {
        "PORTAL_ID": "12345678",
        "FORM_GUID": "78c2891f-ebdd-44c0-bd94-15c012bbbfbf",
        "SUBSCRIPTION_TYPES": {"Newsletter": 4321},
    },
}


@override_settings(WAGTAIL_LEADGEN=destinations(hubspot=HUBSPOT))
def test_hubspot_gets_no_consent_to_process_and_no_text_the_visitor_did_not_see(
    post_form, monkeypatch
):
    fake_http = FakeHTTP.install(monkeypatch)
    newsletter = make_purpose(name="Newsletter", checkbox_label="Send me news")
    processing = make_request_processing(summary="We use your address to call back.")
    page = make_landing_page(purposes=[newsletter], request_processing=processing)
    post_form(page, email="ann@example.com")  # the newsletter box left unticked
    post_form(page, email="bob@example.com", **ticked(newsletter))
    run_due()

    bodies = {
        fake_http.json(i)["fields"][0]["value"]: call["body"].decode()
        for i, call in enumerate(fake_http.calls)
    }
    unticked = json.loads(bodies["ann@example.com"])
    ticked_one = json.loads(bodies["bob@example.com"])
    assert "legalConsentOptions" not in unticked
    assert "consentToProcess" not in bodies["ann@example.com"]
    assert "Send me news" not in bodies["ann@example.com"]
    consent = ticked_one["legalConsentOptions"]["consent"]
    assert consent["consentToProcess"] is False
    # The texts sent are those the visitor saw: the request's notice next to
    # the button, and the purpose's wording as recorded in the proof.
    bob = Delivery.objects.get(lead__email="bob@example.com").submission
    assert consent["text"] == bob.request_wording
    assert consent["communications"] == [
        {
            "value": True,
            "subscriptionTypeId": 4321,
            "text": bob.consent_records.get().wording,
        }
    ]


@pytest.fixture
def webhook_settings(fake_crm):
    return destinations(
        hooks={
            "BACKEND": "wagtail_leadgen.crm.webhook.WebhookBackend",
            "OPTIONS": {
                "URL": fake_crm.url,
                "SECRET": SECRET,
                "ALLOW_HTTP": True,
                "ALLOW_PRIVATE_ADDRESSES": True,
            },
        }
    )


def test_the_webhook_sends_no_answer_unless_listed(
    fake_crm, webhook_settings, post_form
):
    page = make_landing_page(
        form_fields=[
            ("company", {"label": "", "required": False, "help_text": ""}),
            ("phone", {"label": "", "required": False, "help_text": ""}),
        ]
    )
    with override_settings(WAGTAIL_LEADGEN=webhook_settings):
        post_form(page, email="ann@example.com", company="Acme", phone="+33 1 23")
        run_due()
    webhook_settings["CRM_BACKENDS"]["hooks"]["OPTIONS"]["FIELDS"] = ["phone"]
    with override_settings(WAGTAIL_LEADGEN=webhook_settings):
        Delivery.objects.update(status="pending")
        get_backend("hooks")  # rebuilt with FIELDS
        run_due()

    default, listed = (verify_standard_webhook(SECRET, r) for r in fake_crm.requests)
    assert default["data"]["answers"] == {}
    assert b"Acme" not in fake_crm.requests[0].body
    assert listed["data"]["answers"] == {"phone": "+33 1 23"}


@override_settings(WAGTAIL_LEADGEN=PARTNER_SETTINGS)
def test_the_payload_of_a_purpose_limited_destination_is_built_for_it(page, purposes):
    newsletter, partner = purposes
    submission = make_submission(
        page, "ann@example.com", decisions={newsletter: True, partner: True}
    )
    delivery = submission.deliveries.get(backend_alias="partner")
    payload = worker.for_destination(
        get_backend("partner"), worker.build_payload(delivery)
    )
    assert [c.purpose_name for c in payload.consents] == ["Partner offers"]
