"""Correcting a person's details (R15): recorded beside the proof of what was
sent, shown everywhere the person's details are, and handed to every CRM
that has the person, once."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from wagtail_leadgen.models import Delivery, Rectification
from wagtail_leadgen.services.rectification import (
    InvalidCorrection,
    current_answers,
    rectify,
)

from .factories import make_landing_page, make_submission
from .helpers import locmem_destinations

pytestmark = pytest.mark.django_db

ANSWERS = {
    "first_name": "Jon",
    "last_name": "Smiht",
    "company": "Acme",
    "question": "Hi",
}


def run_due():
    call_command("leadgen_deliver", "--once")


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
