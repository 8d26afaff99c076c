"""The auditor's pack: one ZIP with the register and one person's evidence."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from wagtail.log_actions import registry as log_registry

from wagtail_leadgen.audit import PACK_ACTION
from wagtail_leadgen.models import Delivery, DeliveryStatus, Lead
from wagtail_leadgen.services.consent import withdraw_consent
from wagtail_leadgen.services.outbox import propagate_consent_change
from wagtail_leadgen.services.pack import auditor_pack
from wagtail_leadgen.services.suppression import suppress

from .factories import make_landing_page, make_lead, make_purpose, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead():
    """A person who ticked the newsletter, then withdrew it and objected."""
    newsletter = make_purpose(name="Newsletter", checkbox_label="Send me the news")
    page = make_landing_page(purposes=[newsletter])
    make_lead(
        "ann@example.com",
        page=page,
        answers={"first_name": "Ann"},
        decisions={newsletter: True},
        destinations=page.get_crm_destinations(),
        request_processing=page.request_processing,
    )
    person = Lead.objects.get(email="ann@example.com")
    withdrawal = withdraw_consent(
        person, newsletter, language="en", channel="preferences"
    )
    propagate_consent_change([withdrawal])
    suppress(person.email, newsletter, source="preferences")
    return person


def open_pack(content: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(content))


def test_the_pack_holds_the_register_the_proofs_and_a_readme(lead):
    pack = open_pack(auditor_pack(lead))
    names = set(pack.namelist())
    assert {
        "README.txt",
        "person.json",
        "register.json",
        "register.html",
        "consent-proofs.json",
        "withdrawals.json",
        "deliveries.json",
    } <= names
    readme = pack.read("README.txt").decode()
    assert f"lead #{lead.pk}" in readme
    assert "sha256sum" in readme
    person = json.loads(pack.read("person.json"))
    assert person["person"]["email"] == "ann@example.com"
    assert person["submissions"][0]["answers"] == {"first_name": "Ann"}
    register = json.loads(pack.read("register.json"))
    assert "Newsletter" in [p["name"] for p in register["processings"]]
    assert "@media print" in pack.read("register.html").decode()


def test_each_proof_carries_the_wording_and_fingerprint_as_stored(lead):
    pack = open_pack(auditor_pack(lead))
    proofs = json.loads(pack.read("consent-proofs.json"))["consents"]
    records = list(lead.consent_records.order_by("created_at", "pk"))
    assert [p["decision"] for p in proofs] == ["granted", "withdrawn"]
    for proof, record in zip(proofs, records, strict=True):
        assert proof["wording"] == record.wording
        assert proof["wording_sha256"] == record.wording_sha256
        assert proof["wording_matches_sha256"] is True
        # the wording's own file hashes to the stored fingerprint
        wording_file = pack.read(proof["wording_file"])
        assert hashlib.sha256(wording_file).hexdigest() == record.wording_sha256


def test_the_request_wording_shown_next_to_the_button_is_in_the_pack(lead):
    pack = open_pack(auditor_pack(lead))
    (request,) = json.loads(pack.read("consent-proofs.json"))["requests"]
    submission = lead.submissions.get()
    assert request["wording"] == submission.request_wording
    assert (
        hashlib.sha256(pack.read(request["wording_file"])).hexdigest()
        == submission.request_wording_sha256
    )


def test_withdrawals_and_objections_are_listed(lead):
    withdrawals = json.loads(open_pack(auditor_pack(lead)).read("withdrawals.json"))
    assert [w["decision"] for w in withdrawals["withdrawn_consents"]] == ["withdrawn"]
    (objection,) = withdrawals["objections"]
    assert objection["purpose"] == "Newsletter"
    assert objection["source"] == "preferences"


def test_deliveries_are_listed_without_payloads_or_errors(lead):
    delivery = Delivery.objects.filter(lead=lead).first()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.FAILED, attempts=3, last_error="ann@example.com refused"
    )
    pack = open_pack(auditor_pack(lead))
    deliveries = json.loads(pack.read("deliveries.json"))
    proofs = json.loads(pack.read("consent-proofs.json"))["consents"]
    assert {d["kind"] for d in deliveries} == {"lead", "consent_change"}
    failed = next(d for d in deliveries if d["id"] == delivery.pk)
    assert failed["status"] == "failed" and failed["attempts"] == 3
    change = next(d for d in deliveries if d["kind"] == "consent_change")
    withdrawal = next(p for p in proofs if p["id"] == change["consent_change"])
    assert withdrawal["decision"] == "withdrawn"
    assert b"refused" not in pack.read("deliveries.json")


def test_the_lead_page_offers_the_pack_to_who_may_export(client, lead):
    inspect = reverse("wagtail_leadgen_leads:inspect", args=[lead.pk])
    pack_url = reverse("wagtail_leadgen_leads:auditor_pack", args=[lead.pk])
    client.force_login(make_staff("view_lead"))
    assert pack_url not in client.get(inspect).content.decode()
    assert client.get(pack_url).status_code == 302  # refused by the admin
    client.force_login(make_staff("view_lead", "export_lead", username="exporter"))
    assert pack_url in client.get(inspect).content.decode()


def test_downloading_the_pack_is_audited_and_never_cached(client, lead):
    user = make_staff("view_lead", "export_lead", username="exporter")
    client.force_login(user)
    response = client.get(reverse("wagtail_leadgen_leads:auditor_pack", args=[lead.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "no-store" in response["Cache-Control"]
    assert open_pack(response.content).read("README.txt")
    (entry,) = log_registry.get_logs_for_instance(lead).filter(action=PACK_ACTION)
    assert entry.user == user
    assert entry.label == f"Lead #{lead.pk}"
    assert entry.data == {"channel": "admin"}
    assert entry.message == "Made the lead's auditor's pack from the admin"


def test_an_unknown_lead_is_a_404(client):
    client.force_login(make_staff("view_lead", "export_lead", username="exporter"))
    response = client.get(reverse("wagtail_leadgen_leads:auditor_pack", args=[999999]))
    assert response.status_code == 404


def test_the_export_command_writes_the_pack_where_it_is_redirected(lead):
    out = io.TextIOWrapper(io.BytesIO())
    call_command("leadgen_export", "--email", "ann@example.com", "--pack", stdout=out)
    pack = open_pack(out.buffer.getvalue())
    assert "consent-proofs.json" in pack.namelist()
    (entry,) = log_registry.get_logs_for_instance(lead).filter(action=PACK_ACTION)
    assert entry.user is None
    assert entry.data == {"channel": "command"}


def test_the_export_command_refuses_to_print_a_zip_without_a_byte_stream(lead):
    with pytest.raises(CommandError, match="redirect the output"):
        call_command(
            "leadgen_export",
            "--email",
            "ann@example.com",
            "--pack",
            stdout=io.StringIO(),
        )
