"""The proof holds what the visitor was shown, and a later form never unsays a consent."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from wagtail.models import Revision

from wagtail_leadgen.crm import locmem
from wagtail_leadgen.models import ConsentRecord, Delivery, Lead, Submission

from .factories import make_landing_page, make_lead, make_purpose, republish
from .helpers import form_data, locmem_destinations, ticked

pytestmark = pytest.mark.django_db


def test_a_purpose_added_while_the_form_was_open_gets_no_record(client):
    newsletter = make_purpose()
    page = make_landing_page(purposes=[newsletter])
    data = form_data(client, page, email="ann@example.com", **ticked(newsletter))
    partners = make_purpose()
    page.consent_purposes.add(partners)
    page.save_revision().publish()
    assert client.post(page.url, data).status_code == 303
    records = ConsentRecord.objects.values_list("purpose_id", "decision")
    assert list(records) == [(newsletter.pk, "granted")]


def test_a_shown_version_that_is_gone_sends_the_form_back_and_stores_nothing(client):
    newsletter = make_purpose()
    page = make_landing_page(purposes=[newsletter])
    data = form_data(client, page, email="ann@example.com", **ticked(newsletter))
    Revision.objects.filter(pk=newsletter.live_revision_id).delete()
    response = client.post(page.url, data)
    assert response.status_code == 400
    assert b"changed while it was open" in response.content
    assert b'value="ann@example.com"' in response.content  # nothing typed is lost
    assert not Submission.objects.exists()
    assert not ConsentRecord.objects.exists()


def test_a_purpose_deleted_while_the_form_was_open_sends_the_form_back(client):
    newsletter, partners = make_purpose(), make_purpose(name="Partner offers")
    page = make_landing_page(purposes=[newsletter, partners])
    data = form_data(client, page, email="ann@example.com", **ticked(newsletter))
    page.consent_purposes.remove(partners)
    page.save_revision().publish()
    partners.delete()
    response = client.post(page.url, data)
    assert response.status_code == 400
    assert not Lead.objects.exists()
    # Shown again with the page's texts as they are now.
    assert f'name="consent_{newsletter.pk}"'.encode() in response.content


def test_the_wording_kept_is_the_version_shown_not_the_one_published_since(client):
    newsletter = make_purpose(checkbox_label="Send me the newsletter")
    page = make_landing_page(purposes=[newsletter])
    shown = newsletter.live_revision_id
    data = form_data(client, page, email="ann@example.com", **ticked(newsletter))
    republish(newsletter, checkbox_label="Send me offers from everyone")
    client.post(page.url, data)
    record = ConsentRecord.objects.get()
    assert record.purpose_revision_id == shown
    assert record.wording.startswith("Send me the newsletter")


def test_ticking_again_a_confirmed_double_opt_in_keeps_the_grant(client):
    newsletter = make_purpose(requires_confirmation=True)
    page = make_landing_page(purposes=[newsletter])
    lead = make_lead(page=page, decisions={newsletter: True}).lead
    ConsentRecord.objects.create(
        lead=lead,
        purpose=newsletter,
        decision="granted",
        wording="w",
        wording_sha256="0" * 64,
        language="en",
        channel="confirmation",
    )
    client.post(
        page.url, form_data(client, page, email=lead.email, **ticked(newsletter))
    )
    latest = lead.consent_records.order_by("-created_at", "-pk").first()
    assert latest.decision == "granted"


def test_a_consent_given_on_a_later_form_reaches_the_destinations_that_have_the_person(
    client, settings
):
    settings.WAGTAIL_LEADGEN = locmem_destinations(sales=None, partner=None)
    newsletter = make_purpose()
    first = make_landing_page(crm_destinations="sales")
    second = make_landing_page(purposes=[newsletter], crm_destinations="partner")
    client.post(first.url, form_data(client, first, email="ann@example.com"))
    client.post(
        second.url,
        form_data(client, second, email="ann@example.com", **ticked(newsletter)),
    )
    changes = Delivery.objects.filter(kind="consent_change")
    assert [(d.backend_alias, d.consent_record.purpose_id) for d in changes] == [
        ("sales", newsletter.pk)
    ]
    # The partner destination hears of it with the new lead itself, not twice.
    assert Delivery.objects.filter(backend_alias="partner").count() == 1
    call_command("leadgen_deliver", "--once")
    assert sorted(alias for alias, _lead in locmem.outbox) == ["partner", "sales"]
    assert [alias for alias, _change in locmem.updated] == ["sales"]
