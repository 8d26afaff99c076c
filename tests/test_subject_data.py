"""A person's whole record, for their right of access and to portability (R14)."""

from __future__ import annotations

import csv
import io
import json

import pytest
import time_machine
from django.test import override_settings

from wagtail_leadgen.models import Delivery, DeliveryStatus, Submission
from wagtail_leadgen.services.exports import iter_csv
from wagtail_leadgen.services.preferences import withdraw
from wagtail_leadgen.services.subject import subject_csv_rows, subject_data

from .factories import (
    make_document,
    make_ebook_page,
    make_lead,
    make_purpose,
    make_submission,
)

pytestmark = pytest.mark.django_db

DESTINATIONS = {
    "WAGTAIL_LEADGEN": {
        "FORM_MIN_FILL_SECONDS": 0,
        "CRM_BACKENDS": {
            "sales": {
                "BACKEND": "wagtail_leadgen.crm.locmem.LocmemBackend",
                "RECIPIENT": {"NAME": "Acme CRM Ltd", "COUNTRY": "France"},
            }
        },
    }
}


@pytest.fixture
def person():
    """Ann, who downloaded the guide with the newsletter ticked, then withdrew it."""
    newsletter = make_purpose(name="Newsletter", checkbox_label="Send me the news")
    page = make_ebook_page(title="The guide", purposes=[newsletter])
    with time_machine.travel("2026-03-02 09:00Z", tick=False):
        result = make_lead(
            "ann@example.com",
            page=page,
            answers={"first_name": "Ann", "company": "Acme"},
            decisions={newsletter: True},
            destinations=["sales"],
            document=page.document,
            utm={"utm_campaign": "spring"},
            referrer="https://search.example/",
        )
    with time_machine.travel("2026-03-05 10:00Z", tick=False):
        withdraw(result.lead, [newsletter], channel="preferences", source="preferences")
    return result.lead


@override_settings(**DESTINATIONS)
def test_the_record_holds_every_submission_with_its_answers_and_origin(person):
    data = subject_data(person)
    assert data["person"]["email"] == "ann@example.com"
    [submission] = data["submissions"]
    assert submission["answers"] == {"first_name": "Ann", "company": "Acme"}
    assert submission["page_title"] == "The guide"
    assert submission["page_url"].endswith("/")
    assert submission["date"].startswith("2026-03-02T09:00")
    assert submission["utm"]["campaign"] == "spring"
    assert submission["referrer"] == "https://search.example/"
    assert submission["language"] == "en"


@override_settings(**DESTINATIONS)
def test_the_record_holds_the_consent_history_with_the_exact_wordings(person):
    consents = subject_data(person)["consents"]
    assert [c["decision"] for c in consents] == ["granted", "withdrawn"]
    granted = consents[0]
    assert granted["purpose"] == "Newsletter"
    assert granted["wording"].startswith("Send me the news\n\n")
    assert len(granted["wording_sha256"]) == 64
    assert granted["version"] is not None


@override_settings(**DESTINATIONS)
def test_the_record_names_the_objection_downloads_and_destinations(person):
    data = subject_data(person)
    [objection] = data["objections"]
    assert objection["purpose"] == "Newsletter"
    [grant] = data["download_grants"]
    assert grant["document"] == "The guide"
    assert grant["uses"] == 0
    leads_sent = [d for d in data["deliveries"] if d["kind"] == "lead"]
    assert leads_sent[0]["destination"] == "sales"
    assert leads_sent[0]["recipient"] == "Acme CRM Ltd"


@override_settings(**DESTINATIONS)
def test_what_other_systems_answered_never_appears(person):
    Delivery.objects.update(
        status=DeliveryStatus.FAILED,
        last_error="HTTP 500 from crm: secret-internal-detail",
        remote_id="crm-internal-id-42",
    )
    text = json.dumps(subject_data(person))
    assert "secret-internal-detail" not in text
    assert "crm-internal-id-42" not in text
    assert person.preferences_nonce not in text


@override_settings(**DESTINATIONS)
def test_the_record_is_plain_json(person):
    assert json.loads(json.dumps(subject_data(person)))["version"] == 1


def test_nothing_about_someone_else_is_in_the_record():
    ann = make_lead("ann@example.com", answers={"first_name": "Ann"}).lead
    make_lead("bob@example.com", answers={"first_name": "Bob"})
    text = json.dumps(subject_data(ann))
    assert "Bob" not in text
    assert "bob@example.com" not in text


def test_the_number_of_queries_does_not_grow_with_submissions(
    django_assert_max_num_queries,
):
    document = make_document()
    page = make_ebook_page(document=document)
    lead = make_lead("ann@example.com", page=page, document=document).lead
    with django_assert_max_num_queries(20) as few:
        subject_data(lead)
    for _n in range(15):
        make_submission(page, "ann@example.com", document=document)
    with django_assert_max_num_queries(len(few.captured_queries)):
        data = subject_data(lead)
    assert len(data["submissions"]) == 16
    assert len(data["download_grants"]) == 16


def test_the_csv_has_one_row_per_item_with_its_section():
    make_lead("ann@example.com", answers={"first_name": "Ann"})
    make_lead("ann@example.com", answers={"first_name": "Ann", "company": "Acme"})
    lead = Submission.objects.first().lead
    headings, rows = subject_csv_rows(lead)
    parsed = list(csv.reader(io.StringIO(b"".join(iter_csv(headings, rows)).decode())))
    sections = [row[0] for row in parsed[1:]]
    assert sections == ["person", "submissions", "submissions"]
    assert "company: Acme" in parsed[3][3]
    assert "answers.first_name: Ann" in parsed[2][3]


def test_a_formula_typed_in_a_form_never_starts_a_csv_cell():
    lead = make_lead("ann@example.com", answers={"company": "=HYPERLINK(1)"}).lead
    make_submission(email="ann@example.com", answers={"first_name": "@SUM(A1)"})
    text = b"".join(iter_csv(*subject_csv_rows(lead))).decode()
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert any("=HYPERLINK(1)" in cell for cell in cells)
    assert not [cell for cell in cells if cell[:1] in ("=", "@", "+", "-")]
