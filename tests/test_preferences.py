"""Objection in one click and the preferences page (R13): every email's way out."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core import signing
from django.template import Context, Template
from django.test import Client, override_settings
from django.utils import timezone

from wagtail_leadgen.conf import DEFAULTS
from wagtail_leadgen.models import (
    ConsentRecord,
    Delivery,
    DeliveryKind,
    Lead,
    Suppression,
)
from wagtail_leadgen.services.consent import current_decision
from wagtail_leadgen.services.optin import expire_confirmations
from wagtail_leadgen.services.preferences import unsubscribe_url
from wagtail_leadgen.services.suppression import is_suppressed, may_contact
from wagtail_leadgen.tokens import (
    PREFERENCES_SALT,
    make_download_token,
    make_preferences_token,
)

from .factories import make_landing_page, make_lead, make_purpose
from .helpers import form_data, ticked

pytestmark = pytest.mark.django_db

EMAIL = "ann@example.com"
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def newsletter():
    return make_purpose(
        name="Newsletter",
        checkbox_label="Send me the newsletter",
        requires_confirmation=True,
    )


@pytest.fixture
def offers():
    return make_purpose(name="Offers", checkbox_label="Send me offers")


@pytest.fixture
def partners():
    return make_purpose(name="Partners", checkbox_label="Share with partners")


@pytest.fixture
def page(newsletter, offers, partners):
    return make_landing_page(purposes=[newsletter, offers, partners])


def capture(page, address=EMAIL, **decisions):
    """A capture with these ticks; purposes of the page not named are unticked."""
    ticks = {
        purpose: decisions.get(purpose.name.lower(), False)
        for purpose in page.get_purposes()
    }
    return make_lead(
        address, page=page, decisions=ticks, destinations=page.get_crm_destinations()
    ).lead


def token_of(lead, purpose=None) -> str:
    return make_preferences_token(
        lead.pk, lead.preferences_nonce, purpose and purpose.pk
    )


def prefs(lead) -> str:
    return f"/leadgen/preferences/{token_of(lead)}/"


def decision(lead, purpose):
    record = current_decision(lead, purpose)
    return record.decision if record else None


def csrf_post(client, url, data):
    """POST the way the page's form does, CSRF token included."""
    page = client.get(url).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    return client.post(url, {"csrfmiddlewaretoken": token, **data})


# -- The page -------------------------------------------------------------------------
def test_the_page_shows_each_state_and_changes_nothing(
    page, newsletter, offers, partners, client
):
    lead = capture(page, newsletter=True, offers=True)
    contacted = Lead.objects.get().last_contact_at
    response = client.get(prefs(lead))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "same-origin"  # it has forms
    text = response.content.decode()
    assert "Awaiting your confirmation" in text
    assert "Given since" in text
    assert "Not given" in text
    assert "Share with partners" in text  # the wording shown
    assert client.head(prefs(lead)).status_code == 200
    assert Lead.objects.get().last_contact_at == contacted  # a visit is no act

    with time_machine.travel(timezone.now() + timedelta(days=2)):
        expire_confirmations()
    csrf_post(client, prefs(lead), {"action": "withdraw", "purpose": offers.pk})
    text = client.get(prefs(lead)).content.decode()
    assert "Not confirmed: the confirmation link expired" in text
    assert "Withdrawn on" in text


def test_withdraw_one_is_recorded_propagated_and_counts_as_contact(
    page, offers, newsletter, client
):
    lead = capture(page, offers=True)
    contacted = lead.last_contact_at
    response = csrf_post(
        client, prefs(lead), {"action": "withdraw", "purpose": offers.pk}
    )
    assert response.status_code == 303
    assert response["Location"].endswith("?done=withdrawn")
    assert (
        "Your consent is withdrawn" in client.get(response["Location"]).content.decode()
    )

    record = current_decision(lead, offers)
    assert (record.decision, record.channel) == ("withdrawn", "preferences")
    assert Delivery.objects.filter(
        kind=DeliveryKind.CONSENT_CHANGE, consent_record=record
    ).exists()
    assert is_suppressed(EMAIL, offers)
    assert not is_suppressed(EMAIL, newsletter)
    assert Lead.objects.get().last_contact_at > contacted


def test_withdraw_all_objects_to_all_marketing(page, offers, newsletter, client):
    lead = capture(page, offers=True, newsletter=True)
    response = csrf_post(client, prefs(lead), {"action": "withdraw_all"})
    assert response.status_code == 303
    assert decision(lead, offers) == "withdrawn"
    assert decision(lead, newsletter) == "withdrawn"
    entry = Suppression.objects.get()
    assert (entry.purpose, entry.source) == (None, "preferences")
    assert not may_contact(EMAIL, offers)


def test_a_consent_is_given_again_with_a_tick_only(page, offers, partners, client):
    lead = capture(page, offers=True)
    csrf_post(client, prefs(lead), {"action": "withdraw_all"})
    records = ConsentRecord.objects.count()

    refused = csrf_post(client, prefs(lead), {"action": "grant", "purpose": offers.pk})
    assert refused.status_code == 400
    text = refused.content.decode()
    assert 'role="alert"' in text and "Tick the box" in text
    assert 'aria-invalid="true"' in text
    assert ConsentRecord.objects.count() == records

    response = csrf_post(
        client, prefs(lead), {"action": "grant", "purpose": offers.pk, "consent": "yes"}
    )
    assert response.status_code == 303
    record = current_decision(lead, offers)
    assert (record.decision, record.channel) == ("granted", "preferences")
    assert record.wording == offers.wording
    # The objection is lifted for that purpose only.
    assert may_contact(EMAIL, offers)
    assert is_suppressed(EMAIL, partners)


def test_a_purpose_never_decided_on_or_in_force_cannot_be_granted(page, offers, client):
    lead = capture(page, offers=True)
    never = make_purpose(checkbox_label="Never shown")
    for data in (
        {"action": "grant", "purpose": never.pk, "consent": "yes"},
        {"action": "grant", "purpose": offers.pk, "consent": "yes"},  # in force
        {"action": "grant", "purpose": "x\x00", "consent": "yes"},
        {"action": "explode"},
    ):
        response = csrf_post(client, prefs(lead), data)
        assert response.status_code == 400, data
    assert decision(lead, never) is None
    assert lead.consent_records.filter(channel="preferences").count() == 0


def test_the_page_is_csrf_protected(page, offers):
    lead = capture(page, offers=True)
    client = Client(enforce_csrf_checks=True)
    assert client.post(prefs(lead), {"action": "withdraw_all"}).status_code == 403
    assert decision(lead, offers) == "granted"


# -- Links ----------------------------------------------------------------------------
def test_bad_links_get_a_404_page_and_change_nothing(page, offers, client):
    lead = capture(page, offers=True)
    other = capture(page, "bob@example.com", offers=True)
    genuine = token_of(lead)
    forged = [
        genuine[:-2] + ("aa" if not genuine.endswith("aa") else "bb"),  # tampered
        make_preferences_token(lead.pk, other.preferences_nonce),  # other person
        make_preferences_token(lead.pk, lead.preferences_nonce, 999_999),  # no purpose
        signing.dumps({"l": lead.pk}, salt=PREFERENCES_SALT),  # no nonce
        signing.dumps({"l": "x", "n": 1}, salt=PREFERENCES_SALT),
        signing.dumps({"l": lead.pk, "n": lead.preferences_nonce}, salt="other"),
        make_download_token(lead.preferences_nonce),
        "x" * 3000,
    ]
    for token in forged:
        for response in (
            client.get(f"/leadgen/preferences/{token}/"),
            client.post(f"/leadgen/preferences/{token}/", {"action": "withdraw_all"}),
            client.post(f"/leadgen/unsubscribe/{token}/", ONE_CLICK),
        ):
            assert response.status_code == 404, token
            assert response["Cache-Control"] == "private, no-store"
            assert "This link is not valid" in response.content.decode()
    assert decision(lead, offers) == decision(other, offers) == "granted"
    assert not Suppression.objects.exists()


def test_a_new_nonce_revokes_every_link(page, offers, client):
    lead = capture(page, offers=True)
    old = prefs(lead)
    Lead.objects.filter(pk=lead.pk).update(preferences_nonce="0" * 32)
    assert client.get(old).status_code == 404


# -- One click (RFC 8058) -------------------------------------------------------------
def test_one_click_withdraws_everything_at_once_without_cookies(
    page, offers, newsletter
):
    lead = capture(page, offers=True, newsletter=True)
    url = f"/leadgen/unsubscribe/{token_of(lead)}/"
    provider = Client(enforce_csrf_checks=True)
    response = provider.post(url, ONE_CLICK)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert "You are unsubscribed" in response.content.decode()
    assert decision(lead, offers) == decision(lead, newsletter) == "withdrawn"
    record = current_decision(lead, offers)
    assert record.channel == "unsubscribe"
    entry = Suppression.objects.get()
    assert (entry.purpose, entry.source) == (None, "unsubscribe")
    # Multipart, as some providers send it, is understood too (and idempotent).
    again = provider.post(url, ONE_CLICK)  # test client: multipart/form-data
    assert again.status_code == 200
    form = provider.post(
        url,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert form.status_code == 200
    assert Suppression.objects.count() == 1


def test_a_purpose_link_withdraws_that_purpose_only(page, offers, newsletter, client):
    lead = capture(page, offers=True, newsletter=True)
    url = f"/leadgen/unsubscribe/{token_of(lead, offers)}/"
    assert client.post(url, ONE_CLICK).status_code == 200
    assert decision(lead, offers) == "withdrawn"
    assert decision(lead, newsletter) == "pending"
    assert is_suppressed(EMAIL, offers)
    assert not is_suppressed(EMAIL, newsletter)


@pytest.mark.parametrize(
    "body",
    [
        "",
        "List-Unsubscribe=one-click",
        "List-Unsubscribe=One-Click&List-Unsubscribe=One-Click",
        "List-Unsubscribe=Yes",
        "Unsubscribe=One-Click",
    ],
)
def test_one_click_needs_the_exact_body(page, offers, client, body):
    lead = capture(page, offers=True)
    response = client.post(
        f"/leadgen/unsubscribe/{token_of(lead)}/",
        body,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert "preferences" in response.content.decode()
    assert decision(lead, offers) == "granted"
    assert not Suppression.objects.exists()


def test_a_broken_multipart_body_is_a_400(page, offers, client):
    lead = capture(page, offers=True)
    response = client.post(
        f"/leadgen/unsubscribe/{token_of(lead)}/",
        b"--x\r\nbroken",
        content_type="multipart/form-data; boundary=x",
    )
    assert response.status_code == 400
    assert decision(lead, offers) == "granted"


def test_opening_the_unsubscribe_link_shows_the_preferences_page(page, offers, client):
    lead = capture(page, offers=True)
    token = token_of(lead, offers)
    response = client.get(f"/leadgen/unsubscribe/{token}/")
    assert response.status_code == 302
    assert response["Location"] == f"/leadgen/preferences/{token}/"
    assert client.get(response["Location"]).status_code == 200
    assert decision(lead, offers) == "granted"


# -- The objection list ---------------------------------------------------------------
def test_an_objection_outlives_the_lead_and_only_a_tick_lifts_it(
    page, offers, partners, client, django_capture_on_commit_callbacks
):
    lead = capture(page, offers=True, partners=True)
    client.post(f"/leadgen/unsubscribe/{token_of(lead)}/", ONE_CLICK)
    Lead.objects.all().delete()  # erasure
    assert Suppression.objects.count() == 1

    # A later form without a tick: no consent, still objected.
    data = form_data(client, page, email="ANN@example.com")
    client.post(page.url, data)
    lead = Lead.objects.get()
    assert decision(lead, offers) is None
    assert not may_contact(EMAIL, offers)

    # A tick is an explicit consent: lifted for that purpose only.
    data = form_data(client, page, email=EMAIL)
    data.update(ticked(offers))
    client.post(page.url, data)
    assert may_contact(EMAIL, offers)
    assert is_suppressed(EMAIL, partners)
    assert not may_contact(EMAIL, partners)


# -- For site developers --------------------------------------------------------------
@override_settings(
    WAGTAIL_LEADGEN={
        "FORM_MIN_FILL_SECONDS": 0,
        "SITE_URL": "https://news.example.com",
    }
)
def test_unsubscribe_url_and_the_template_tag(page, offers, client):
    lead = capture(page, offers=True)
    url = unsubscribe_url(lead, offers)
    assert url.startswith("https://news.example.com/leadgen/unsubscribe/")
    rendered = Template(
        "{% load leadgen_tags %}{% leadgen_unsubscribe_url lead %}|"
        "{% leadgen_unsubscribe_url lead purpose %}"
    ).render(Context({"lead": lead, "purpose": offers}))
    everything, one = rendered.split("|")
    assert one == url
    assert everything == unsubscribe_url(lead)
    assert (
        client.post(
            everything.removeprefix("https://news.example.com"), ONE_CLICK
        ).status_code
        == 200
    )
    assert decision(lead, offers) == "withdrawn"


def test_no_personal_data_in_the_logs(page, offers, client, caplog):
    caplog.set_level(logging.DEBUG)
    lead = capture(page, offers=True)
    token = token_of(lead)
    client.get(f"/leadgen/preferences/{token}x/")
    client.post(f"/leadgen/unsubscribe/{token}/", ONE_CLICK)
    client.post(f"/leadgen/unsubscribe/{token}/", {"x": EMAIL})
    assert EMAIL not in caplog.text
    assert token not in caplog.text


# -- The examples of docs/consent.md, run as written ---------------------------------
DOCS = Path(__file__).resolve().parent.parent / "docs" / "consent.md"


def docs_blocks(language: str) -> list[str]:
    section = DOCS.read_text().split("## Links for your own newsletters", 1)[1]
    return re.findall(rf"```{language}\n(.*?)```", section.split("\n## ", 1)[0], re.S)


@override_settings(
    WAGTAIL_LEADGEN={"FORM_MIN_FILL_SECONDS": 0, "SITE_URL": "https://example.com"}
)
def test_the_documented_examples_give_working_one_click_links(page, offers, client):
    lead = capture(page, offers=True)
    namespace = {"lead": lead, "newsletter": offers}
    (code,) = docs_blocks("python")
    exec(compile(code, str(DOCS), "exec"), namespace)  # noqa: S102 -- our own docs
    assert namespace["headers"]["List-Unsubscribe"] == f"<{namespace['url']}>"
    assert namespace["url"] == unsubscribe_url(lead, offers)

    (template,) = docs_blocks("django")
    html = Template(template).render(Context(namespace))
    links = re.findall(r'href="https://example.com(/[^"]+)"', html)
    assert links == [
        path_of_url(unsubscribe_url(lead)),
        path_of_url(unsubscribe_url(lead, offers)),
    ]
    assert client.post(links[1], ONE_CLICK).status_code == 200
    assert decision(lead, offers) == "withdrawn"


def path_of_url(url: str) -> str:
    return url.removeprefix("https://example.com")


def test_every_documented_setting_exists():
    table = DOCS.read_text().split("## Settings", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `([A-Z_]+)` \|", table, re.M)
    assert documented and set(documented) <= set(DEFAULTS)


def test_the_pages_speak_the_language_of_the_person_s_form(page, offers, client):
    lead = make_lead(EMAIL, page=page, language="fr", decisions={offers: True}).lead
    response = client.get(prefs(lead), HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="fr">' in response.content.decode()
    unknown = client.get(f"/leadgen/preferences/{token_of(lead)}x/")
    assert '<html lang="en">' in unknown.content.decode()
