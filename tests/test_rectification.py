"""Correcting a person's details (R15): recorded beside the proof of what was
sent, shown everywhere the person's details are, and handed to every CRM
that has the person, once."""

from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry

from wagtail_leadgen.models import Delivery, Lead, Rectification
from wagtail_leadgen.services.leads import annotate_inbox, export_table
from wagtail_leadgen.services.rectification import (
    InvalidCorrection,
    current_answers,
    rectify,
)

from .factories import make_landing_page, make_staff, make_submission
from .helpers import assert_denied, locmem_destinations

pytestmark = pytest.mark.django_db

ANSWERS = {
    "first_name": "Jon",
    "last_name": "Smiht",
    "company": "Acme",
    "question": "Hi",
}


def captured(email="ann@example.com", **answers):
    page = make_landing_page()
    return make_submission(page, email, answers={**ANSWERS, **answers})


def corrections():
    return Delivery.objects.filter(kind="rectification").order_by("backend_alias")


# -- Recording ---------------------------------------------------------------------
def test_a_correction_is_recorded_and_the_submission_stays_as_sent():
    submission = captured()

    rectification = rectify(
        submission.lead,
        {"first_name": "John", "last_name": "Smith", "company": "Acme"},
        source="staff",
        requested_by="Letter from Ann",
        note="Typo in the name",
    )

    assert rectification.values == {"first_name": "John", "last_name": "Smith"}
    assert rectification.fields == ["first_name", "last_name"]
    assert rectification.source == Rectification.Source.STAFF
    assert (rectification.requested_by, rectification.note) == (
        "Letter from Ann",
        "Typo in the name",
    )
    submission.refresh_from_db()
    assert submission.answers == ANSWERS  # the proof of what was sent
    assert current_answers(submission.lead) == {
        **ANSWERS,
        "first_name": "John",
        "last_name": "Smith",
    }


def test_nothing_changed_records_nothing():
    submission = captured()

    assert rectify(submission.lead, {"first_name": "Jon"}, source="person") is None
    assert not Rectification.objects.exists()


def test_values_are_cleaned_as_the_form_cleans_answers():
    submission = captured()

    rectification = rectify(
        submission.lead, {"company": "  Cafe\u0301 Ltd  "}, source="person"
    )

    assert rectification.values == {"company": "Café Ltd"}  # trimmed, NFC


def test_a_later_submission_wins_over_an_earlier_correction():
    submission = captured()
    rectify(submission.lead, {"company": "Acme Corp"}, source="person")

    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        make_submission(submission.page, "ann@example.com", answers={"company": "Beta"})

    assert current_answers(submission.lead)["company"] == "Beta"


def test_a_correction_by_the_person_counts_as_a_contact_and_one_by_staff_does_not():
    submission = captured()
    lead = submission.lead
    before = lead.last_contact_at

    with time_machine.travel(timezone.now() + timedelta(days=3)):
        rectify(lead, {"company": "Staff Corp"}, source="staff")
        lead.refresh_from_db()
        assert lead.last_contact_at == before
        rectify(lead, {"company": "Own Corp"}, source="person")
        lead.refresh_from_db()
        assert lead.last_contact_at > before + timedelta(days=2)


# -- Bad input ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "other@example.com"}, "email"),
        ({"question": "Something else"}, "question"),
        ({"phone": "+33 1 23 45 67 89"}, "phone"),  # never given
        ({"favourite_colour": "blue"}, "favourite_colour"),
        ({"first_name": ""}, "first_name"),
        ({"first_name": "   "}, "first_name"),
        ({"first_name": "x" * 1000}, "first_name"),
        ({"first_name": "Jo\x00hn"}, "first_name"),
        ({"last_name": "Smith\u202e"}, "last_name"),
    ],
)
def test_bad_corrections_are_refused_with_a_message_and_nothing_recorded(
    changes, field
):
    submission = captured()

    with pytest.raises(InvalidCorrection) as refused:
        rectify(submission.lead, changes, source="person")

    assert list(refused.value.errors) == [field]
    assert refused.value.errors[field][0]
    assert not Rectification.objects.exists()
    assert not corrections().exists()


def test_an_unsafe_note_is_refused():
    submission = captured()

    with pytest.raises(InvalidCorrection) as refused:
        rectify(submission.lead, {"first_name": "John"}, source="staff", note="a\x1bb")

    assert list(refused.value.errors) == ["note"]
    assert not Rectification.objects.exists()


def test_an_unknown_source_is_a_programming_error():
    submission = captured()

    with pytest.raises(ValueError, match="valid sources: person, staff"):
        rectify(submission.lead, {"first_name": "John"}, source="robot")


# -- Planning the CRM updates ------------------------------------------------------
@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None, archive=None))
def test_a_correction_is_planned_only_for_destinations_that_have_the_lead():
    submission = captured()
    Delivery.objects.filter(backend_alias="archive").update(status="failed")

    rectification = rectify(submission.lead, {"first_name": "John"}, source="person")

    (delivery,) = corrections()
    assert delivery.backend_alias == "sales"
    assert delivery.rectification == rectification
    assert delivery.lead_id == submission.lead_id
    assert delivery.status == "pending"


@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None))
def test_a_destination_no_longer_configured_asks_for_manual_action_at_once():
    submission = captured()
    Delivery.objects.filter(kind="lead").update(backend_alias="gone")

    rectify(submission.lead, {"first_name": "John"}, source="person")

    (delivery,) = corrections()
    assert (delivery.backend_alias, delivery.status) == ("gone", "manual")
    assert "no longer configured" in delivery.last_error


def test_erasing_the_lead_removes_its_corrections():
    submission = captured()
    rectify(submission.lead, {"first_name": "John"}, source="person")

    submission.lead.delete()

    assert not Rectification.objects.exists()


# -- Everywhere the person's details are shown ----------------------------------------
def test_the_inbox_search_and_export_show_the_corrected_values():
    submission = captured(phone="+33 1 23 45 67 89")
    captured("bob@example.com", first_name="Bob", last_name="Smiht")
    rectify(
        submission.lead,
        {"last_name": "Smith", "company": "Acme Corp", "phone": "+33 6 00 00 00 00"},
        source="person",
    )

    ann = annotate_inbox(Lead.objects.filter(pk=submission.lead_id)).get()
    assert (ann.first_name, ann.last_name) == ("Jon", "Smith")

    headings, rows = export_table(Lead.objects.order_by("email"))
    ann_row, bob_row = [dict(zip(headings, row, strict=True)) for row in rows]
    assert (ann_row["Last name"], ann_row["Company"], ann_row["Phone"]) == (
        "Smith",
        "Acme Corp",
        "+33 6 00 00 00 00",
    )
    assert bob_row["Last name"] == "Smiht"  # another person's answer is untouched


def test_a_later_submission_wins_in_the_inbox_too():
    submission = captured()
    rectify(submission.lead, {"company": "Acme Corp"}, source="person")
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        make_submission(submission.page, "ann@example.com", answers={"company": "Beta"})

    _headings, rows = export_table(Lead.objects.all())
    (row,) = rows
    assert "Beta" in row and "Acme Corp" not in row


def test_the_inbox_lists_and_finds_the_corrected_name(client):
    submission = captured()
    rectify(submission.lead, {"last_name": "Smith"}, source="person")
    client.force_login(make_staff("view_lead"))

    listing = client.get(reverse("wagtail_leadgen_leads:index"))
    found = client.get(reverse("wagtail_leadgen_leads:index"), {"q": "Smith"})

    assert "Jon Smith" in listing.content.decode()
    assert [lead.pk for lead in found.context["object_list"]] == [submission.lead_id]


# -- Staff, from the lead's page -------------------------------------------------------
def correct_url(lead) -> str:
    return reverse("wagtail_leadgen_leads:correct", args=[lead.pk])


@pytest.fixture
def corrector(client):
    client.force_login(make_staff("view_lead", "change_lead", username="corrector"))
    return client


def test_the_lead_page_offers_correct_only_to_users_who_may(client, corrector):
    lead = captured().lead
    inspect = reverse("wagtail_leadgen_leads:inspect", args=[lead.pk])

    assert correct_url(lead) in corrector.get(inspect).content.decode()
    client.force_login(make_staff("view_lead", username="viewer"))
    assert correct_url(lead) not in client.get(inspect).content.decode()


def test_the_form_is_prefilled_with_the_current_correctable_details(corrector):
    lead = captured().lead
    rectify(lead, {"company": "Acme Corp"}, source="person")

    form = corrector.get(correct_url(lead)).context["form"]

    assert {name: form[name].value() for name in form.current} == {
        "first_name": "Jon",
        "last_name": "Smiht",
        "company": "Acme Corp",
    }
    assert "question" not in form.fields and "email" not in form.fields


def test_staff_correct_with_a_reason_and_the_audit_log_holds_no_personal_data(
    corrector,
):
    lead = captured().lead

    response = corrector.post(
        correct_url(lead),
        {
            "first_name": "John",
            "last_name": "Smith",
            "company": "Acme",
            "requested_by": "Jonathan's heirs, by post",
            "note": "Letter of 3 March: the name was misspelt.",
        },
    )

    assert response.status_code == 302
    assert response.url == reverse("wagtail_leadgen_leads:inspect", args=[lead.pk])
    (rectification,) = Rectification.objects.all()
    assert rectification.values == {"first_name": "John", "last_name": "Smith"}
    assert rectification.source == "staff"
    assert rectification.requested_by == "Jonathan's heirs, by post"
    (entry,) = ModelLogEntry.objects.filter(action="wagtail_leadgen.lead.rectify")
    assert entry.object_id == str(lead.pk) and entry.label == f"Lead #{lead.pk}"
    assert entry.data["fields"] == ["first_name", "last_name"]
    logged = f"{entry.label} {entry.message} {entry.data}".lower()
    for personal in ("ann", "john", "smith", "jon", "heirs", "letter"):
        assert personal not in logged
    assert entry.message == "Corrected the person's details: First name, Last name"
    page = corrector.get(response.url).content.decode()
    assert "Letter of 3 March" in page and "Staff, on the person" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"first_name": ""}, "first_name", "cannot be removed by a correction"),
        ({"first_name": "x" * 300}, "first_name", "at most"),
        ({"last_name": "Smith\x1b[31m"}, "last_name", "control characters"),
        ({"note": ""}, "note", "required"),
        ({"note": "bad\x00note"}, "note", "control characters"),
    ],
)
def test_bad_input_is_a_form_error_and_nothing_is_recorded(
    corrector, changes, field, message
):
    lead = captured().lead
    data = {"note": "Asked by phone", **ANSWERS, **changes}
    data.pop("question")

    response = corrector.post(correct_url(lead), data)

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Rectification.objects.exists()
    assert not ModelLogEntry.objects.filter(action="wagtail_leadgen.lead.rectify")


def test_an_unchanged_form_records_nothing(corrector):
    lead = captured().lead
    data = {key: value for key, value in ANSWERS.items() if key != "question"}

    response = corrector.post(correct_url(lead), {**data, "note": "Checked"})

    assert response.status_code == 302
    assert not Rectification.objects.exists()


def test_correcting_needs_change_lead(client):
    lead = captured().lead
    client.force_login(make_staff("view_lead", "export_lead", username="viewer"))

    assert_denied(client.get(correct_url(lead)))
    response = client.post(
        correct_url(lead), {**ANSWERS, "first_name": "John", "note": "x"}
    )
    assert_denied(response)  # Wagtail's admin answers a refusal with a redirect
    assert not Rectification.objects.exists()


def test_change_lead_does_not_open_the_generic_edit_and_delete_views(corrector):
    lead = captured().lead
    for name in ("edit", "delete"):
        assert_denied(
            corrector.get(reverse(f"wagtail_leadgen_leads:{name}", args=[lead.pk]))
        )


def test_an_unknown_lead_is_a_404(corrector):
    assert (
        corrector.get(reverse("wagtail_leadgen_leads:correct", args=[999])).status_code
        == 404
    )


def test_a_lead_without_correctable_details_is_sent_back_with_a_message(corrector):
    lead = make_submission(make_landing_page(), answers={"question": "Hi"}).lead

    response = corrector.get(correct_url(lead), follow=True)

    assert response.redirect_chain[-1][0] == reverse(
        "wagtail_leadgen_leads:inspect", args=[lead.pk]
    )
    assert "gave no detail that can be corrected" in response.content.decode()
