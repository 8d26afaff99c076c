"""A correction reaches every CRM that has the person (R15): through the
outbox, after the lead itself, once, retried when the CRM is down, never to
a destination the lead never reached; and the request each backend makes."""

from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from wagtail.models import ModelLogEntry

from tests.fake_crm import verify_standard_webhook
from wagtail_leadgen.crm import locmem
from wagtail_leadgen.crm.base import (
    ManualActionNeeded,
    PermanentCRMError,
    TransientCRMError,
    UnsupportedFeature,
)
from wagtail_leadgen.crm.email import EmailBackend
from wagtail_leadgen.crm.hubspot import HubSpotBackend
from wagtail_leadgen.crm.salesforce import SalesforceBackend
from wagtail_leadgen.crm.webhook import WebhookBackend
from wagtail_leadgen.models import Delivery
from wagtail_leadgen.services.rectification import rectify

from .crm_payloads import correction_payload
from .factories import make_landing_page, make_staff, make_submission
from .fake_http import FakeHTTP, json_response
from .helpers import (
    LOCMEM,
    NO_UPDATES,
    destinations,
    failing,
    failing_once,
    locmem_destinations,
)

NAMES = {"first_name": "Jon", "last_name": "Smiht", "company": "Acme"}


def run_due(**options):
    call_command("leadgen_deliver", "--once", **options)


def captured(email="ann@example.com"):
    return make_submission(make_landing_page(), email, answers=NAMES)


def corrections():
    return Delivery.objects.filter(kind="rectification").order_by("backend_alias")


@pytest.fixture
def fake_http(monkeypatch) -> FakeHTTP:
    return FakeHTTP.install(monkeypatch)


# -- Through the outbox --------------------------------------------------------------
@pytest.mark.django_db
@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None, archive=None))
def test_a_correction_reaches_each_destination_that_has_the_lead_once():
    submission = captured()
    run_due()

    rectify(submission.lead, {"last_name": "Smith"}, source="person")
    run_due()
    run_due()

    assert sorted(alias for alias, _payload in locmem.corrected) == [
        "archive",
        "sales",
    ]
    for _alias, payload in locmem.corrected:
        assert payload.email == "ann@example.com"
        assert payload.correction.values == {"last_name": "Smith"}
        assert payload.submission_id == submission.pk
        assert payload.answers == {} and payload.consents == ()
    assert [d.status for d in corrections()] == ["delivered", "delivered"]


@pytest.mark.django_db
@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None, archive=None))
def test_a_destination_whose_lead_failed_is_never_sent_the_correction():
    submission = captured()
    Delivery.objects.filter(backend_alias="archive").update(status="failed")
    run_due()

    rectify(submission.lead, {"last_name": "Smith"}, source="person")
    run_due()

    assert [alias for alias, _payload in locmem.corrected] == ["sales"]
    assert list(corrections().values_list("backend_alias", flat=True)) == ["sales"]


@pytest.mark.django_db
@override_settings(
    WAGTAIL_LEADGEN=locmem_destinations(
        sales=failing_once(TransientCRMError("CRM down"))
    )
)
def test_a_correction_waits_for_the_lead_and_a_pending_lead_carries_it():
    """The lead failed once (the CRM is down) when the correction is made: the
    lead goes with the corrected name, then the correction, in that order."""
    submission = captured()
    run_due()
    assert locmem.outbox == []

    rectify(submission.lead, {"last_name": "Smith"}, source="person")
    run_due(all=True)
    run_due(all=True)

    ((_alias, lead),) = locmem.outbox
    assert lead.answers["last_name"] == "Smith"
    assert lead.answers["first_name"] == "Jon"
    assert [p.correction.values for _a, p in locmem.corrected] == [
        {"last_name": "Smith"}
    ]
    submission.refresh_from_db()
    assert submission.answers == NAMES  # the proof stays as sent


@pytest.mark.django_db
def test_a_correction_sent_while_the_crm_is_down_is_retried_and_sent_once():
    config = locmem_destinations(sales=None)
    with override_settings(WAGTAIL_LEADGEN=config):
        submission = captured()
        run_due()
    down = locmem_destinations(sales=failing(TransientCRMError("CRM down")))
    with override_settings(WAGTAIL_LEADGEN=down):
        rectify(submission.lead, {"company": "Acme Corp"}, source="staff")
        run_due()
        (delivery,) = corrections()
        assert (delivery.status, delivery.attempts) == ("pending", 1)
        assert "CRM down" in delivery.last_error
    with override_settings(WAGTAIL_LEADGEN=config):
        run_due(all=True)
        run_due(all=True)

    assert [p.correction.values for _a, p in locmem.corrected] == [
        {"company": "Acme Corp"}
    ]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)


@pytest.mark.django_db
@override_settings(
    WAGTAIL_LEADGEN=destinations(
        sales={"BACKEND": NO_UPDATES}, local={"BACKEND": LOCMEM}
    )
)
def test_a_destination_that_cannot_correct_asks_for_manual_action():
    submission = captured()
    run_due()

    rectify(submission.lead, {"first_name": "John"}, source="person")
    run_due()

    by_alias = {d.backend_alias: d for d in corrections()}
    assert by_alias["sales"].status == "manual"
    assert "NoUpdatesBackend cannot apply corrections" in by_alias["sales"].last_error
    assert by_alias["local"].status == "delivered"


@pytest.mark.django_db
@override_settings(
    WAGTAIL_LEADGEN=destinations(
        site={"BACKEND": "wagtail_leadgen.crm.database.DatabaseBackend"}
    )
)
def test_the_site_database_needs_no_correction_request():
    submission = captured()
    run_due()

    rectify(submission.lead, {"first_name": "John"}, source="person")
    run_due()

    (delivery,) = corrections()
    assert delivery.status == "delivered"


# -- Webhook -------------------------------------------------------------------------
SECRET = "whsec_3q2+7wEjRWeJq83vASNFZ4mrze8BI0VniavN7wEjRWc="


def webhook(url, **options):
    options.setdefault("SECRET", SECRET)
    options.setdefault("ALLOW_HTTP", True)
    options.setdefault("ALLOW_PRIVATE_ADDRESSES", True)
    return WebhookBackend("hooks", {"URL": url, **options})


def test_the_webhook_sends_a_signed_lead_updated_event_with_listed_answers(fake_crm):
    lead = correction_payload(
        {"first_name": "Augusta Ada", "company": "Babbage & Co"},
        idempotency_key="5d2f7a0e-3c4b-4e8a-9b1d-2f6e8c7a1b3d",
        submission_id=42,
    )

    result = webhook(fake_crm.url, FIELDS=["company"]).correct(lead)

    [request] = fake_crm.requests
    assert request.webhook_id == lead.idempotency_key
    assert verify_standard_webhook(SECRET, request) == {
        "type": "lead.updated",
        "version": 1,
        "id": "5d2f7a0e-3c4b-4e8a-9b1d-2f6e8c7a1b3d",
        "timestamp": "2026-03-06T14:30:00Z",
        "data": {
            "email": "ada@example.com",
            "submission_id": 42,
            "corrected_at": "2026-03-06T14:30:00Z",
            "answers": {"company": "Babbage & Co"},
        },
    }
    assert result.remote_id == "crm-1"
    assert b"Augusta" not in request.body  # the first name is not in FIELDS


def test_a_retried_webhook_correction_sends_the_same_id_and_body(fake_crm):
    backend = webhook(fake_crm.url, FIELDS=["company"])
    lead = correction_payload()
    fake_crm.script("status", 503)

    with pytest.raises(TransientCRMError):
        backend.correct(lead)
    backend.correct(lead)

    first, second = fake_crm.requests
    assert first.body == second.body
    assert fake_crm.unique_ids == [lead.idempotency_key]


def test_the_webhook_hears_only_of_answers_it_receives():
    backend = webhook("https://hooks.example.com/", FIELDS=["company"])
    assert backend.needs_correction(["company", "first_name"]) is True
    assert backend.needs_correction(["first_name"]) is False


# -- HubSpot -------------------------------------------------------------------------
HUBSPOT_TOKEN = "pat-eu1-0000aaaa-1111-bbbb-2222-cccc3333dddd"


def hubspot(**options):
    options.setdefault("PORTAL_ID", "12345678")
    options.setdefault("FORM_GUID", "78c2891f-ebdd-44c0-bd94-15c012bbbfbf")
    return HubSpotBackend("sales", options)


def test_hubspot_updates_the_contact_properties_mapped_in_field_map(fake_http):
    fake_http.answers.append(json_response({"id": "501", "properties": {}}))

    result = hubspot(ACCESS_TOKEN=HUBSPOT_TOKEN).correct(
        correction_payload({"first_name": "Augusta Ada", "company": "Babbage & Co"})
    )

    call = fake_http.last
    assert call["method"] == "PATCH"
    assert call["url"] == (
        "https://api.hubapi.com/crm/v3/objects/contacts/ada%40example.com"
        "?idProperty=email"
    )
    assert call["headers"]["Authorization"] == f"Bearer {HUBSPOT_TOKEN}"
    assert fake_http.json() == {
        "properties": {"firstname": "Augusta Ada", "company": "Babbage & Co"}
    }
    assert result.detail == "contact properties corrected in HubSpot"


def test_hubspot_corrections_need_an_access_token(fake_http):
    assert hubspot().supports_correction is False
    with pytest.raises(UnsupportedFeature, match="ACCESS_TOKEN"):
        hubspot().correct(correction_payload())
    assert fake_http.calls == []


def test_hubspot_without_the_contact_asks_for_manual_action(fake_http):
    fake_http.answers.append(PermanentCRMError("not found", status=404))

    with pytest.raises(ManualActionNeeded) as caught:
        hubspot(ACCESS_TOKEN=HUBSPOT_TOKEN).correct(correction_payload())

    assert "ada@example.com" not in str(caught.value)
    assert caught.value.backend == "sales"


def test_hubspot_hears_only_of_mapped_answers():
    backend = hubspot(FIELD_MAP={"company": "company"})
    assert backend.needs_correction(["company"]) is True
    assert backend.needs_correction(["first_name", "last_name"]) is False


# -- Salesforce ----------------------------------------------------------------------
INSTANCE = "https://example.my.salesforce.com"
SF_TOKEN = "00D5g000004XyZa!AQ0AQExampleExampleExample.Example_Token"
LEAD_A = "00Q5g00000AbCdEEAV"
LEAD_B = "00Q5g00000AbCdF"


def salesforce(**options):
    options.setdefault("ORG_ID", "00D5g000004XyZa")
    return SalesforceBackend(
        "sales", {"INSTANCE_URL": INSTANCE, "ACCESS_TOKEN": SF_TOKEN, **options}
    )


def leads_found(*records):
    return json_response(
        {"totalSize": len(records), "done": True, "records": list(records)}
    )


def test_salesforce_sets_the_corrected_fields_on_every_lead_by_api_name(fake_http):
    fake_http.answers.append(
        leads_found(
            {"Id": LEAD_A, "IsConverted": False}, {"Id": LEAD_B, "IsConverted": False}
        )
    )

    result = salesforce().correct(
        correction_payload({"first_name": "Augusta Ada", "company": "Babbage & Co"})
    )

    query, first, second = fake_http.calls
    assert parse_qsl(urlsplit(query["url"]).query) == [
        ("q", "SELECT Id, IsConverted FROM Lead WHERE Email = 'ada@example.com'")
    ]
    for index, (call, record) in enumerate(((first, LEAD_A), (second, LEAD_B)), 1):
        assert call["method"] == "PATCH"
        assert call["url"] == f"{INSTANCE}/services/data/v62.0/sobjects/Lead/{record}"
        assert fake_http.json(index) == {
            "FirstName": "Augusta Ada",
            "Company": "Babbage & Co",
        }
    assert result.detail == "2 Lead(s) corrected"


def test_salesforce_shortens_a_value_as_web_to_lead_does(fake_http):
    fake_http.answers.append(leads_found({"Id": LEAD_A, "IsConverted": False}))

    salesforce().correct(correction_payload({"first_name": "A" * 60}))

    assert fake_http.json(1) == {"FirstName": "A" * 39 + "…"}


def test_salesforce_asks_staff_for_converted_leads_and_fields_mapped_by_id(fake_http):
    fake_http.answers.append(
        leads_found(
            {"Id": LEAD_A, "IsConverted": True}, {"Id": LEAD_B, "IsConverted": False}
        )
    )
    backend = salesforce(
        FIELD_MAP={"first_name": "first_name", "company": "00N5g00000Abc12"}
    )

    with pytest.raises(ManualActionNeeded) as caught:
        backend.correct(correction_payload())

    assert [call["method"] for call in fake_http.calls] == ["GET", "PATCH"]
    assert fake_http.json(1) == {"FirstName": "Augusta Ada"}
    message = str(caught.value)
    assert "1 Lead(s) with this address were converted" in message
    assert "company" in message
    assert "ada@example.com" not in message and "Babbage" not in message


def test_salesforce_corrections_need_the_rest_api():
    assert (
        SalesforceBackend("sales", {"ORG_ID": "00D5g000004XyZa"}).supports_correction
        is False
    )
    assert salesforce().supports_correction is True


# -- Email ---------------------------------------------------------------------------
def test_the_sales_inbox_is_mailed_the_corrected_values_it_had(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    backend = EmailBackend(
        "inbox", {"TO": ["sales@example.com"], "FIELDS": ["first_name", "phone"]}
    )
    lead = correction_payload(
        {"first_name": "Augusta Ada", "company": "Babbage & Co"},
        admin_url="https://admin.example.com/admin/leadgen/leads/inspect/5/",
    )

    backend.correct(lead)

    (message,) = mail.outbox
    assert message.subject == "Lead details corrected"
    assert message.to == ["sales@example.com"]
    assert "2026-03-06 14:30 UTC" in message.body
    assert "https://admin.example.com/admin/leadgen/leads/inspect/5/" in message.body
    assert "    Augusta Ada" in message.body
    assert "Babbage" not in message.body  # the company is not in FIELDS
    assert "ada@example.com" not in message.body + message.subject
    assert backend.needs_correction(["company"]) is False
    assert backend.needs_correction(["first_name"]) is True


@pytest.mark.django_db
@override_settings(WAGTAIL_LEADGEN=destinations(sales={"BACKEND": NO_UPDATES}))
def test_staff_see_what_to_do_and_mark_a_correction_applied_by_hand(client):
    submission = captured()
    run_due()
    rectify(submission.lead, {"first_name": "John"}, source="person")
    run_due()
    (delivery,) = corrections()
    client.force_login(make_staff("view_delivery", "change_delivery"))

    page = client.get(reverse("wagtail_leadgen_deliveries:inspect", args=[delivery.pk]))
    response = client.post(
        reverse("wagtail_leadgen_deliveries:applied", args=[delivery.pk]), follow=True
    )

    assert "cannot apply this correction (" in page.content.decode()
    assert "first_name" in page.content.decode()
    assert "The correction is recorded as applied." in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    (entry,) = ModelLogEntry.objects.filter(
        action="wagtail_leadgen.lead.correction_applied"
    )
    assert entry.message == (
        f"Applied a correction by hand at sales (delivery #{delivery.pk})"
    )
    assert "john" not in f"{entry.label} {entry.message} {entry.data}".lower()
