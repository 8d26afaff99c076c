"""Spam review: staff with ``change_lead`` see quarantined submissions (and
that is audited), release a false positive through the form's capture path,
or delete one; bad input gets a message, never an error page."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import override_settings
from django.urls import reverse
from wagtail.models import ModelLogEntry

from wagtail_leadgen.crm import locmem
from wagtail_leadgen.models import (
    ConsentDecision,
    Delivery,
    DeliveryStatus,
    Erasure,
    Lead,
    Submission,
)

from .factories import make_landing_page, make_purpose, make_staff, republish
from .helpers import assert_denied, form_data, locmem_destinations, ticked

pytestmark = pytest.mark.django_db

EMAIL = "ann@example.com"
# Every form is "too fast": quarantined as spam, as autofill can make it.
TOO_FAST = {**locmem_destinations(sales=None), "FORM_MIN_FILL_SECONDS": 60}
INDEX = reverse("wagtail_leadgen_quarantine:index")


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.WAGTAIL_LEADGEN = TOO_FAST


@pytest.fixture
def newsletter():
    return make_purpose(name="Newsletter", checkbox_label="Send me the newsletter")


@pytest.fixture
def page(newsletter):
    first_name = ("first_name", {"label": "", "required": False, "help_text": ""})
    return make_landing_page(purposes=[newsletter], form_fields=[first_name])


@pytest.fixture
def spam(client, page, newsletter):
    """A genuine person's form, quarantined as too fast, newsletter ticked."""
    data = form_data(client, page, email=EMAIL, first_name="Ann", **ticked(newsletter))
    client.post(page.url, data)
    return Submission.objects.get(is_spam=True)


@pytest.fixture
def reviewer(client):
    user = make_staff("view_lead", "change_lead", username="reviewer")
    client.force_login(user)
    return user


def release(client, spam):
    return client.post(reverse("wagtail_leadgen_quarantine:release", args=[spam.pk]))


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# -- The list ---------------------------------------------------------------------
def test_the_list_shows_reason_date_page_and_address_and_is_audited(
    client, spam, page, reviewer
):
    response = client.get(INDEX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "too_fast" in html and page.title in html and EMAIL in html
    entry = ModelLogEntry.objects.get(action="wagtail_leadgen.spam.view")
    assert entry.object_id == str(spam.pk) and entry.user == reviewer
    assert EMAIL not in f"{entry.label} {entry.data}"


def test_spam_review_needs_change_lead(client, spam):
    client.force_login(make_staff("view_lead", username="viewer"))
    assert_denied(client.get(INDEX))
    assert_denied(release(client, spam))
    assert_denied(
        client.post(reverse("wagtail_leadgen_quarantine:delete", args=[spam.pk]))
    )
    assert Submission.objects.filter(pk=spam.pk, is_spam=True).exists()
    assert not ModelLogEntry.objects.filter(action__startswith="wagtail_leadgen.spam")


# -- Release ----------------------------------------------------------------------
def test_release_captures_the_lead_with_the_consents_as_shown(
    client, spam, newsletter, reviewer, django_capture_on_commit_callbacks
):
    shown_version = newsletter.live_revision_id
    republish(newsletter, checkbox_label="A newer wording nobody saw")

    with django_capture_on_commit_callbacks(execute=True):
        response = release(client, spam)

    assert response.status_code == 302
    assert "now a lead" in messages_of(response)[0]
    assert not Submission.objects.filter(pk=spam.pk).exists()
    lead = Lead.objects.get(email=EMAIL)
    submission = lead.submissions.get()
    assert submission.answers == {"first_name": "Ann"}
    record = lead.consent_records.get()
    assert record.decision == ConsentDecision.GRANTED
    assert record.purpose_revision_id == shown_version
    assert record.wording.startswith("Send me the newsletter")
    # Delivered as usual.
    delivery = Delivery.objects.get(lead=lead)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert [alias for alias, _payload in locmem.outbox] == ["sales"]
    entry = ModelLogEntry.objects.get(action="wagtail_leadgen.spam.release")
    assert entry.object_id == str(lead.pk) and EMAIL not in str(entry.data)


def test_releasing_twice_says_it_is_done(client, spam, reviewer):
    release(client, spam)
    again = release(client, spam)
    assert again.status_code == 302
    assert "no longer in quarantine" in messages_of(again)[-1]
    assert Lead.objects.count() == 1


def test_a_spam_row_whose_page_was_deleted_cannot_be_released(
    client, spam, page, reviewer
):
    page.delete()
    response = release(client, spam)
    assert "no longer exists" in messages_of(response)[0]
    assert Submission.objects.filter(pk=spam.pk, is_spam=True).exists()
    assert not Lead.objects.exists()


def test_a_spam_row_with_an_invalid_address_cannot_be_released(client, spam, reviewer):
    Submission.objects.filter(pk=spam.pk).update(answers={"email": "not an address"})
    response = release(client, spam)
    assert "no valid email address" in messages_of(response)[0]
    assert not Lead.objects.exists()


def test_a_spam_row_whose_consent_text_was_deleted_cannot_be_released(
    client, spam, newsletter, reviewer
):
    newsletter.delete()
    response = release(client, spam)
    assert "text this form showed was deleted" in messages_of(response)[0]
    assert not Lead.objects.exists()


def test_release_and_delete_are_post_only(client, spam, reviewer):
    url = reverse("wagtail_leadgen_quarantine:release", args=[spam.pk])
    assert client.get(url).status_code == 405


# -- Delete ----------------------------------------------------------------------
def test_delete_removes_the_row_and_leaves_a_tombstone(client, spam, reviewer):
    response = client.post(reverse("wagtail_leadgen_quarantine:delete", args=[spam.pk]))
    assert "deleted" in messages_of(response)[0]
    assert not Submission.objects.exists()
    erasure = Erasure.objects.get()
    assert erasure.reason == Erasure.Reason.SPAM
    assert erasure.requested_by == "reviewer"
    entry = ModelLogEntry.objects.get(action="wagtail_leadgen.spam.delete")
    assert (
        entry.object_id == str(spam.pk) and EMAIL not in f"{entry.label} {entry.data}"
    )

    again = client.post(reverse("wagtail_leadgen_quarantine:delete", args=[spam.pk]))
    assert "no longer in quarantine" in messages_of(again)[-1]
    assert Erasure.objects.count() == 1


@override_settings(WAGTAIL_LEADGEN={**TOO_FAST, "FORM_MIN_FILL_SECONDS": 0})
def test_a_bad_token_spam_keeps_the_versions_live_when_it_was_posted(
    client, page, newsletter, reviewer
):
    data = form_data(client, page, email=EMAIL, **ticked(newsletter))
    data["leadgen_token"] = "signed-with-an-old-secret-key"
    client.post(page.url, data)
    spam = Submission.objects.get(is_spam=True)
    assert spam.spam_reason == "bad_token"
    assert spam.shown_form["purposes"] == {
        str(newsletter.pk): newsletter.live_revision_id
    }
    assert spam.shown_form["ticked"] == [newsletter.pk]

    release(client, spam)
    assert Lead.objects.get().consent_records.get().decision == "granted"
    assert Delivery.objects.count() == 1
