"""The person's own "my data" page: ask by email, verify by link, see and take
their data (R14), in a short session; bad links and abuse get clear pages."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
import time_machine
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from wagtail.models import ModelLogEntry

from wagtail_leadgen.models import AccessRequest, Lead

from .factories import make_landing_page, make_lead, make_purpose, set_controller
from .helpers import sweep, ticked

pytestmark = pytest.mark.django_db

MY_DATA = reverse("wagtail_leadgen:my_data")
LINK_RE = re.compile(r"https?://\S+/leadgen/my-data/verify/([A-Za-z0-9_-]+)/")


def ask(client, email: str, **extra):
    return client.post(MY_DATA, {"email": email}, **extra)


def link_token(message) -> str:
    return LINK_RE.search(message.body).group(1)


def verify_path(token: str) -> str:
    return reverse("wagtail_leadgen:my_data_verify", args=[token])


@pytest.fixture
def ann():
    newsletter = make_purpose(name="Newsletter", checkbox_label="Send me the news")
    return make_lead(
        "ann@example.com",
        answers={"first_name": "Ann", "company": "Acme"},
        decisions={newsletter: True},
    ).lead


@pytest.fixture
def signed_in(client, ann):
    """A browser in Ann's verified session."""
    ask(client, "ann@example.com")
    response = client.post(verify_path(link_token(mail.outbox[-1])))
    assert response.status_code == 303
    return client


# -- Step 1 ----------------------------------------------------------------------
def test_the_page_asks_for_an_address_with_a_labelled_field(client):
    response = client.get(MY_DATA)
    assert response.status_code == 200
    assert b'<label for="id_email">' in response.content
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_known_and_unknown_addresses_get_the_same_page(ann):
    known = ask(Client(), "ann@example.com")
    unknown = ask(Client(), "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content
    assert [message.to for message in mail.outbox] == [["ann@example.com"]]


def test_the_address_is_recognised_in_any_spelling(ann):
    ask(Client(), "  Ann@EXAMPLE.com ")
    assert [message.to for message in mail.outbox] == [["ann@example.com"]]


def test_a_malformed_address_is_refused_and_the_error_announced(client):
    response = ask(client, "not an address")
    assert response.status_code == 400
    assert b'role="alert"' in response.content
    assert b'href="#id_email"' in response.content
    assert not mail.outbox


@override_settings(
    WAGTAIL_LEADGEN={"FORM_MIN_FILL_SECONDS": 0, "MY_DATA_REQUESTS_PER_ADDRESS": 2}
)
def test_requests_for_one_address_are_throttled_with_the_same_answer(ann):
    answers = [
        ask(Client(REMOTE_ADDR=f"10.0.0.{n}"), "ann@example.com") for n in range(3)
    ]
    assert answers[0].content == answers[2].content
    assert len(mail.outbox) == 2


@override_settings(
    WAGTAIL_LEADGEN={"FORM_MIN_FILL_SECONDS": 0, "MY_DATA_REQUESTS_PER_IP": 2}
)
def test_requests_from_one_ip_are_throttled_with_the_same_answer(ann):
    client = Client()
    ask(client, "someone@example.com")
    ask(client, "other@example.com")
    throttled = ask(client, "ann@example.com")
    assert throttled.status_code == 200
    assert not mail.outbox
    ask(Client(REMOTE_ADDR="10.9.9.9"), "ann@example.com")
    assert len(mail.outbox) == 1


def test_the_form_needs_its_csrf_token(ann):
    response = ask(Client(enforce_csrf_checks=True), "ann@example.com")
    assert response.status_code == 403
    assert not mail.outbox


# -- The email and its link ----------------------------------------------------------
def test_only_the_link_s_sha256_is_stored(client, ann):
    ask(client, "ann@example.com")
    token = link_token(mail.outbox[0])
    access = AccessRequest.objects.get()
    assert access.lead == ann
    assert access.token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_the_email_is_in_the_person_s_language_with_the_footer_links(ann):
    make_lead("marie@example.com", language="fr")
    set_controller(controller_name="Acme SAS")
    ask(Client(), "marie@example.com")
    message = mail.outbox[0]
    assert '<html lang="fr">' in message.alternatives[0].content
    assert "/leadgen/my-data/" in message.body
    assert "/leadgen/preferences/" in message.body
    assert message.extra_headers["List-Unsubscribe"]


def test_opening_the_link_shows_a_button_and_changes_nothing(client, ann):
    ask(client, "ann@example.com")
    response = client.get(verify_path(link_token(mail.outbox[0])))
    assert response.status_code == 200
    assert b'<form method="post">' in response.content
    assert AccessRequest.objects.get().used_at is None
    assert client.get(MY_DATA).context["form"]  # still step 1: no session yet


def test_the_button_opens_the_data_in_a_new_session(client, ann):
    ask(client, "ann@example.com")
    before = client.session.session_key
    response = client.post(verify_path(link_token(mail.outbox[0])))
    assert response.status_code == 303
    assert response["Location"] == MY_DATA
    assert client.session.session_key != before
    page = client.get(MY_DATA)
    assert b"Acme" in page.content
    assert b"Send me the news" in page.content
    assert b"ann@example.com" in page.content


def test_a_used_link_is_refused_with_the_form_for_a_new_one(client, ann):
    ask(client, "ann@example.com")
    path = verify_path(link_token(mail.outbox[0]))
    client.post(path)
    again = Client().post(path)
    assert again.status_code == 410
    assert b"already been used" in again.content
    assert b'name="email"' in again.content


def test_an_expired_link_is_refused(ann):
    with time_machine.travel("2026-05-01 10:00Z", tick=False):
        ask(Client(), "ann@example.com")
    path = verify_path(link_token(mail.outbox[0]))
    with time_machine.travel("2026-05-01 10:29Z", tick=False):
        assert Client().get(path).status_code == 200
    with time_machine.travel("2026-05-01 10:31Z", tick=False):
        response = Client().post(path)
    assert response.status_code == 410
    assert b"expired" in response.content
    assert AccessRequest.objects.get().used_at is None


@pytest.mark.parametrize(
    "token",
    [
        "x" * 43,  # the right shape, never sent
        "abc",  # cut
        "a" * 500,
    ],
)
def test_a_tampered_or_cut_link_is_refused(client, ann, token):
    response = client.post(verify_path(token))
    assert response.status_code == 400
    assert b"not valid" in response.content
    assert b'name="email"' in response.content


def test_another_kind_of_link_opens_nothing(client, ann):
    """A double opt-in token has the same shape; it is not a data link."""
    ask(client, "ann@example.com")
    token = link_token(mail.outbox[0])
    response = client.post(verify_path(token[::-1]))
    assert response.status_code == 400


def test_someone_else_s_link_opens_their_data_not_the_session_s(signed_in, ann):
    make_lead("bob@example.com", answers={"company": "Bobco"})
    ask(Client(), "bob@example.com")
    signed_in.post(verify_path(link_token(mail.outbox[-1])))
    page = signed_in.get(MY_DATA).content
    assert b"Bobco" in page
    assert b"Acme" not in page


def test_verifying_counts_as_a_contact_from_the_person(client, ann):
    with time_machine.travel("2027-01-10 07:55Z", tick=False):
        ask(client, "ann@example.com")
    with time_machine.travel("2027-01-10 08:00Z", tick=False):
        client.post(verify_path(link_token(mail.outbox[0])))
    ann.refresh_from_db()
    assert ann.last_contact_at.isoformat().startswith("2027-01-10T08:00")


# -- The session ---------------------------------------------------------------------
def test_the_session_ends_after_its_age_and_says_so(client, ann):
    with time_machine.travel("2026-05-01 10:00Z", tick=False):
        ask(client, "ann@example.com")
        client.post(verify_path(link_token(mail.outbox[0])))
    with time_machine.travel("2026-05-01 10:14Z", tick=False):
        assert b"Acme" in client.get(MY_DATA).content
    with time_machine.travel("2026-05-01 10:16Z", tick=False):
        response = client.get(MY_DATA)
        assert b"Acme" not in response.content
        assert b"session has ended" in response.content
        download = client.get(
            reverse("wagtail_leadgen:my_data_download", args=["json"])
        )
    assert download.status_code == 303


def test_closing_the_session_takes_a_post(signed_in):
    leave = reverse("wagtail_leadgen:my_data_leave")
    assert signed_in.get(leave).status_code == 405
    assert signed_in.post(leave).status_code == 303
    assert b"Acme" not in signed_in.get(MY_DATA).content


def test_a_forged_session_value_opens_nothing(client, ann):
    session = client.session
    session["wagtail_leadgen_my_data"] = json.dumps({"l": ann.pk})
    session.save()
    assert b"Acme" not in client.get(MY_DATA).content


# -- Downloads --------------------------------------------------------------------
def test_the_json_download_holds_everything_and_is_never_cached(signed_in, ann):
    response = signed_in.get(reverse("wagtail_leadgen:my_data_download", args=["json"]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Disposition"] == 'attachment; filename="my-data.json"'
    data = json.loads(b"".join(response.streaming_content))
    assert data["person"]["email"] == "ann@example.com"
    assert data["submissions"][0]["answers"]["company"] == "Acme"
    assert data["consents"][0]["wording"].startswith("Send me the news")
    assert len(data["access_requests"]) == 1


def test_the_csv_download_has_a_row_per_item(signed_in):
    response = signed_in.get(reverse("wagtail_leadgen:my_data_download", args=["csv"]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "submissions" in text
    assert "company: Acme" in text


def test_an_unknown_format_goes_back_to_the_page(signed_in):
    response = signed_in.get(reverse("wagtail_leadgen:my_data_download", args=["xml"]))
    assert response.status_code == 303


def test_the_visit_and_downloads_are_audit_logged_without_the_address(signed_in, ann):
    signed_in.get(reverse("wagtail_leadgen:my_data_download", args=["json"]))
    entries = ModelLogEntry.objects.filter(object_id=str(ann.pk))
    actions = set(entries.values_list("action", flat=True))
    assert {
        "wagtail_leadgen.lead.my_data_view",
        "wagtail_leadgen.lead.subject_export",
    } <= actions
    for entry in entries:
        assert "ann@" not in json.dumps(entry.data) + entry.label


def test_only_the_lead_s_id_crosses_the_task_queue(ann):
    """Only the lead's id crosses the task queue: never the address or the link."""
    with override_settings(
        TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    ):
        ask(Client(), "ann@example.com")
        ask(Client(), "nobody@example.com")
        rows = list(DBTaskResult.objects.values_list("args_kwargs", flat=True))
    assert len(rows) == 2  # the same work for a known and an unknown address
    assert "example.com" not in json.dumps(rows)
    assert not mail.outbox


def test_the_page_is_linked_from_confirmation_emails(
    post_form, django_capture_on_commit_callbacks
):
    purpose = make_purpose(requires_confirmation=True)
    page = make_landing_page(purposes=[purpose])
    with django_capture_on_commit_callbacks(execute=True):
        post_form(page, email="zoe@example.com", **ticked(purpose))
    [message] = mail.outbox
    assert "/leadgen/my-data/" in message.body
    assert "/leadgen/my-data/" in message.alternatives[0].content


def test_lead_is_untouched_by_an_unknown_address(client):
    ask(client, "nobody@example.com")
    assert not Lead.objects.exists()
    assert not AccessRequest.objects.exists()


# -- Correcting and erasing ---------------------------------------------------------
CORRECT = reverse("wagtail_leadgen:my_data_correct")
ERASE = reverse("wagtail_leadgen:my_data_erase")


def test_the_person_corrects_their_company_and_it_is_recorded(signed_in, ann):
    response = signed_in.post(CORRECT, {"first_name": "Ann", "company": "Acme Ltd"})
    assert response.status_code == 303
    page = signed_in.get(response["Location"])
    assert b"Your correction is recorded" in page.content
    [correction] = ann.rectifications.all()
    assert correction.values == {"company": "Acme Ltd"}
    assert correction.source == "person"


def test_an_emptied_detail_is_refused_and_the_error_announced(signed_in, ann):
    response = signed_in.post(CORRECT, {"first_name": "Ann", "company": ""})
    assert response.status_code == 400
    assert b'role="alert"' in response.content
    assert b'href="#id_company"' in response.content
    assert not ann.rectifications.exists()


def test_an_unchanged_form_changes_nothing(signed_in, ann):
    response = signed_in.post(CORRECT, {"first_name": "Ann", "company": "Acme"})
    assert signed_in.get(response["Location"]).status_code == 200
    assert not ann.rectifications.exists()


def test_correcting_and_erasing_need_a_session(client, ann):
    assert client.post(CORRECT, {"company": "X"}).status_code == 303
    assert client.post(ERASE).status_code == 303
    assert Lead.objects.filter(pk=ann.pk).exists()
    assert not ann.rectifications.exists()


def test_erasing_asks_to_confirm_first(signed_in, ann):
    response = signed_in.get(ERASE)
    assert response.status_code == 200
    assert b"Yes, erase everything" in response.content
    assert Lead.objects.filter(pk=ann.pk).exists()


def test_erasing_through_the_page_leaves_no_trace_and_ends_the_session(signed_in, ann):
    signed_in.get(reverse("wagtail_leadgen:my_data_download", args=["json"]))
    response = signed_in.post(ERASE)
    assert response.status_code == 200
    assert b"Your data is erased" in response.content
    assert not Lead.objects.filter(email="ann@example.com").exists()
    assert sweep("ann@example.com", "Acme") == []
    page = signed_in.get(MY_DATA)
    assert b'name="email"' in page.content  # back to step 1
    assert signed_in.post(ERASE).status_code == 303  # nothing left to erase


def test_a_link_whose_person_was_erased_meanwhile_is_refused(client, ann):
    ask(client, "ann@example.com")
    path = verify_path(link_token(mail.outbox[0]))
    assert client.get(path).status_code == 200
    ann.delete()
    response = client.post(path)
    assert response.status_code == 400
    assert b'name="email"' in response.content
