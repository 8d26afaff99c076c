"""The lead's page says where the lead went, and why not elsewhere (R17, R20)."""

import html

import pytest
from django.test import override_settings
from django.urls import reverse

from wagtail_leadgen.services.consent import confirm_pending, grant_consent
from wagtail_leadgen.services.handoff import handoff_for
from wagtail_leadgen.services.outbox import propagate_consent_change

from .factories import make_landing_page, make_purpose, make_submission
from .helpers import LOCMEM

pytestmark = pytest.mark.django_db

PARTNER = {"NAME": "Partner SA", "COUNTRY": "France"}


def routing(*receives_partner) -> dict:
    """A sales destination for every lead, a partner one needing these purposes."""
    return {
        "FORM_MIN_FILL_SECONDS": 0,
        "CRM_BACKENDS": {
            "sales": {"BACKEND": LOCMEM},
            "partner": {
                "BACKEND": LOCMEM,
                "RECEIVES": list(receives_partner),
                "RECIPIENT": PARTNER,
            },
        },
    }


def by_alias(lead) -> dict:
    return {handoff.alias: handoff for handoff in handoff_for(lead)}


def test_a_refused_partner_purpose_explains_the_missing_delivery():
    partners = make_purpose(name="Partner offers")
    with override_settings(WAGTAIL_LEADGEN=routing("Partner offers")):
        page = make_landing_page(purposes=[partners])
        lead = make_submission(page, decisions={partners: False}).lead
        handoffs = by_alias(lead)
    assert handoffs["sales"].received and handoffs["sales"].reasons == ()
    partner = handoffs["partner"]
    assert not partner.received
    assert partner.reasons == ("Needs consent: Partner offers",)
    assert partner.recipient.name == "Partner SA"


def test_a_pending_double_opt_in_is_named_as_such_until_confirmed():
    partners = make_purpose(name="Partner offers", requires_confirmation=True)
    with override_settings(WAGTAIL_LEADGEN=routing(partners.pk)):
        page = make_landing_page(purposes=[partners])
        lead = make_submission(page, decisions={partners: True}).lead
        assert by_alias(lead)["partner"].reasons == (
            "Consent pending confirmation: Partner offers",
        )
        confirm_pending(lead, [partners], language="en", channel="email")
        # The grant opens the destination (services.outbox): a delivery now.
        propagate_consent_change(lead.consent_records.filter(decision="granted"))
        assert by_alias(lead)["partner"].received


def test_a_granted_purpose_lets_the_lead_through():
    partners = make_purpose(name="Partner offers")
    with override_settings(WAGTAIL_LEADGEN=routing("Partner offers")):
        page = make_landing_page(purposes=[partners])
        lead = make_submission(page, decisions={partners: True}).lead
        assert by_alias(lead)["partner"].received


def test_a_destination_gone_from_the_settings_is_explained():
    with override_settings(WAGTAIL_LEADGEN=routing("Partner offers")):
        page = make_landing_page(crm_destinations="sales,partner")
        lead = make_submission(page).lead
    only_sales = {"CRM_BACKENDS": {"sales": {"BACKEND": LOCMEM}}}
    with override_settings(WAGTAIL_LEADGEN=only_sales):
        partner = by_alias(lead)["partner"]
    assert not partner.received
    assert "misconfigured" in partner.reasons[0]


def test_the_lead_inspect_page_shows_the_handoff(admin_client):
    partners = make_purpose(name="Partner offers")
    with override_settings(WAGTAIL_LEADGEN=routing("Partner offers")):
        page = make_landing_page(purposes=[partners])
        lead = make_submission(page, decisions={partners: False}).lead
        response = admin_client.get(
            reverse("wagtail_leadgen_leads:inspect", args=[lead.pk])
        )
    text = html.unescape(response.content.decode())
    start = text.index("<h2>Where this lead goes</h2>")
    section = text[start : text.index("</table>", start)]
    assert "Partner SA (France)" in section
    assert "Needs consent: Partner offers" in section
    assert "Yes (Pending)" in section


def test_a_consent_given_since_the_last_form_is_named_as_such():
    partners = make_purpose(name="Partner offers")
    with override_settings(WAGTAIL_LEADGEN=routing("Partner offers")):
        page = make_landing_page(purposes=[partners])
        lead = make_submission(page, decisions={partners: False}).lead
        grant_consent(lead, partners, language="en", channel="preferences")
        assert by_alias(lead)["partner"].reasons == (
            "Not sent yet: the consents it needs were given after the person's "
            "last form.",
        )
