"""Double opt-in (R12): one confirmation email per submission that left a
consent pending, a link whose page confirms on POST only, expiry, throttling."""

from __future__ import annotations

import email
import email.policy
import logging
import re
import smtplib
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.checks import run_checks
from django.core.mail.backends.locmem import EmailBackend as LocmemMailBackend
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone
from django_tasks import task_backends
from django_tasks_db.models import DBTaskResult

from wagtail_leadgen import tasks as leadgen_tasks
from wagtail_leadgen.models import (
    ConfirmationRequest,
    ConsentRecord,
    Delivery,
    DeliveryKind,
    Lead,
)
from wagtail_leadgen.services.consent import current_decision, withdraw_consent
from wagtail_leadgen.tokens import make_download_token, make_preferences_token

from .factories import make_landing_page, make_lead, make_purpose, set_controller
from .helpers import form_data, ticked
from .test_task_queues import run_db_worker

pytestmark = pytest.mark.django_db

EMAIL = "ann@example.com"
LOCMEM = {"locmem": {"BACKEND": "wagtail_leadgen.crm.locmem.LocmemBackend"}}
DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def leadgen(**options) -> dict:
    """The test suite's WAGTAIL_LEADGEN with some options changed."""
    return {"FORM_MIN_FILL_SECONDS": 0, "CRM_BACKENDS": LOCMEM, **options}


@pytest.fixture
def newsletter():
    return make_purpose(
        name="Newsletter",
        checkbox_label="Send me the monthly newsletter",
        purpose_text="<p>One email a month with <b>new guides</b>.</p>",
        requires_confirmation=True,
    )


@pytest.fixture
def page(newsletter):
    return make_landing_page(purposes=[newsletter])


@pytest.fixture
def submit(client, page, django_capture_on_commit_callbacks):
    """Post the page's form (newsletter ticked unless told), running what
    the capture enqueues on commit; returns the response."""

    def _submit(address=EMAIL, *, tick=True, target=None, **extra):
        target = target or page
        data = form_data(client, target, email=address)
        if tick:
            data.update(ticked(*target.get_purposes()))
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(target.url, data, **extra)
        assert response.status_code == 303, response.content
        return response

    return _submit


def confirm_link(message) -> str:
    return re.search(r"https?://\S+/leadgen/confirm/[\w-]+/", message.body).group(0)


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def state(address=EMAIL, purpose=None) -> str | None:
    lead = Lead.objects.get(email=address)
    record = current_decision(lead, purpose or lead.consent_records.first().purpose)
    return record.decision if record else None


# -- The email ----------------------------------------------------------------------
def test_a_tick_on_a_double_opt_in_purpose_sends_one_confirmation_email(
    submit, newsletter
):
    set_controller(controller_name="Example SAS", contact_email="privacy@example.com")
    submit()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [EMAIL]
    assert message.subject == "Please confirm your subscription"
    assert "Send me the monthly newsletter" in message.body
    assert "One email a month with new guides." in message.body
    html = message.alternatives[0][0]
    assert "<b>new guides</b>" in html
    assert confirm_link(message) in html
    assert "Example SAS" in message.body
    request = ConfirmationRequest.objects.get()
    assert request.sent_at is not None
    assert request.expires_at == request.sent_at + timedelta(hours=24)
    token = confirm_link(message).rstrip("/").rsplit("/", 1)[1]
    assert token not in str(request.__dict__)  # only its hash is stored
    assert state() == "pending"


def test_the_headers_carry_one_click_unsubscribe_and_no_visitor_input(submit):
    set_controller(contact_email="privacy@example.com")
    submit(HTTP_HOST="evil.example")

    (message,) = mail.outbox
    parsed = email.message_from_bytes(
        message.message().as_bytes(), policy=email.policy.default
    )
    https, mailto = [
        part.strip().strip("<>") for part in str(parsed["List-Unsubscribe"]).split(",")
    ]
    # Links come from the Wagtail Site's root URL, never the request's Host.
    assert https.startswith("http://localhost/leadgen/unsubscribe/")
    assert mailto == "mailto:privacy@example.com?subject=unsubscribe"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"<[^@>]+@localhost>", parsed["Message-ID"])
    everything = message.message().as_string()
    assert "evil.example" not in everything
    assert confirm_link(message).startswith("http://localhost/leadgen/confirm/")
    # The visible link to the preferences page.
    assert "http://localhost/leadgen/preferences/" in message.body
    # The unsubscribe link works: a one-click POST to it is understood.
    response = Client().post(path_of(https), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200


@override_settings(WAGTAIL_LEADGEN=leadgen(SITE_URL="https://www.example.com/"))
def test_site_url_gives_the_links_and_no_mailto_without_an_address(submit):
    submit(HTTP_HOST="evil.example")
    (message,) = mail.outbox
    header = message.extra_headers["List-Unsubscribe"]
    assert header.startswith("<https://www.example.com/leadgen/unsubscribe/")
    assert "mailto:" not in header
    assert confirm_link(message).startswith("https://www.example.com/leadgen/confirm/")


def test_no_email_when_nothing_awaits_confirmation(submit, newsletter):
    plain = make_purpose(checkbox_label="Partner offers")
    other = make_landing_page(purposes=[plain, newsletter])
    submit(target=other, tick=False)
    assert mail.outbox == []
    assert not ConfirmationRequest.objects.exists()
    submit("bob@example.com", target=make_landing_page(purposes=[plain]))
    assert mail.outbox == []


def test_several_pending_purposes_make_one_request_and_one_email(submit, newsletter):
    offers = make_purpose(checkbox_label="Send me offers", requires_confirmation=True)
    submit(target=make_landing_page(purposes=[newsletter, offers]))
    assert ConfirmationRequest.objects.count() == 1
    (message,) = mail.outbox
    assert "Send me offers" in message.body
    assert "Send me the monthly newsletter" in message.body


def test_the_email_speaks_the_language_of_the_form(newsletter):
    page = make_landing_page(purposes=[newsletter])
    result = make_lead(page=page, language="fr", decisions={newsletter: True})
    assert (
        leadgen_tasks.send_confirmation_email.call(
            ConfirmationRequest.objects.get(submission=result.submission).pk
        )
        == "sent"
    )
    (message,) = mail.outbox
    assert '<html lang="fr">' in message.alternatives[0][0]


def test_a_consent_withdrawn_before_the_email_goes_gets_no_email(newsletter, page):
    result = make_lead(page=page, decisions={newsletter: True})
    withdraw_consent(result.lead, newsletter, language="en", channel="staff")
    request = ConfirmationRequest.objects.get()
    assert leadgen_tasks.send_confirmation_email.call(request.pk) == "nothing pending"
    assert mail.outbox == []


# -- The confirmation page ------------------------------------------------------------
PRIVATE = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


def assert_private(response, *, has_form=False):
    expected = {**PRIVATE, "Referrer-Policy": "same-origin"} if has_form else PRIVATE
    for header, value in expected.items():
        assert response[header] == value
    assert "Content-Security-Policy" in response


def test_pages_with_a_form_keep_the_referrer_on_the_site_only(submit, client):
    """Under "no-referrer" a browser posts a form with "Origin: null", which
    Django's CSRF check refuses (tests/test_browser_optin.py posts for real)."""
    submit()
    link = path_of(confirm_link(mail.outbox[0]))
    assert_private(client.get(link), has_form=True)
    assert_private(client.post(link))


def test_get_and_head_show_the_page_and_confirm_nothing(submit, client):
    submit()
    link = path_of(confirm_link(mail.outbox[0]))
    for method in (client.get, client.head, client.get):
        response = method(link)
        assert response.status_code == 200
        assert_private(response, has_form=True)
    page = client.get(link).content.decode()
    assert "Send me the monthly newsletter" in page
    assert 'method="post"' in page and "Yes, I confirm" in page
    assert state() == "pending"
    assert ConfirmationRequest.objects.get().confirmed_at is None


def test_the_button_confirms_once(submit, client, newsletter):
    submit()
    lead = Lead.objects.get()
    contacted = lead.last_contact_at
    link = path_of(confirm_link(mail.outbox[0]))

    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        response = client.post(link)
    assert response.status_code == 200
    assert_private(response)
    assert "Thank you, it is confirmed" in response.content.decode()
    record = current_decision(lead, newsletter)
    assert (record.decision, record.channel) == ("granted", "confirmation")
    assert record.wording == lead.consent_records.get(decision="pending").wording
    assert ConfirmationRequest.objects.get().confirmed_at is not None
    lead.refresh_from_db()
    assert lead.last_contact_at > contacted
    # The confirmation goes to the CRM that has the lead, through the outbox.
    assert Delivery.objects.filter(
        kind=DeliveryKind.CONSENT_CHANGE, consent_record=record
    ).exists()
    # Maturity counts the confirmed consent (opt-in signal).
    assert lead.maturity in ("cold", "warm", "hot")

    records = ConsentRecord.objects.count()
    for method in (client.post, client.get):
        again = method(link)
        assert again.status_code == 410
        assert "already been used" in again.content.decode()
        assert "/leadgen/preferences/" in again.content.decode()
    assert ConsentRecord.objects.count() == records


def test_the_confirmation_post_is_csrf_protected(submit):
    submit()
    link = path_of(confirm_link(mail.outbox[0]))
    browser = Client(enforce_csrf_checks=True)
    assert browser.post(link).status_code == 403
    assert state() == "pending"
    page = browser.get(link)
    token = re.search(
        r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()
    ).group(1)
    assert browser.post(link, {"csrfmiddlewaretoken": token}).status_code == 200
    assert state() == "granted"


def test_a_link_expires_after_24_hours(submit, client):
    submit()
    link = path_of(confirm_link(mail.outbox[0]))
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        for method in (client.get, client.post):
            response = method(link)
            assert response.status_code == 410
            assert_private(response)
            assert "expired" in response.content.decode()
    assert state() == "pending"


@pytest.mark.parametrize(
    "token",
    [
        "A" * 43,  # the right shape, never sent
        "not-a-token",
        "x" * 5000,
        "%00",
    ],
)
def test_unknown_links_get_a_clear_404(client, token, submit):
    submit()
    response = client.get(f"/leadgen/confirm/{token}/")
    assert response.status_code == 404
    assert_private(response)
    assert "not valid" in response.content.decode()
    assert client.post(f"/leadgen/confirm/{token}/").status_code == 404
    assert state() == "pending"


def test_a_tampered_confirmation_link_confirms_nothing(client, submit):
    submit()
    link = path_of(confirm_link(mail.outbox[0]))
    tampered = link[:-3] + ("A" if link[-3] != "A" else "B") + link[-2:]
    assert client.post(tampered).status_code == 404
    assert state() == "pending"


def test_other_kinds_of_links_are_not_confirmation_links(client, submit):
    submit()
    lead = Lead.objects.get()
    for token in (
        make_preferences_token(lead.pk, lead.preferences_nonce),
        make_download_token("0" * 32),
    ):
        assert client.post(f"/leadgen/confirm/{token}/").status_code == 404
    assert state() == "pending"
    # ...and a confirmation token opens no preferences page.
    token = confirm_link(mail.outbox[0]).rstrip("/").rsplit("/", 1)[1]
    assert client.get(f"/leadgen/preferences/{token}/").status_code == 404
    response = client.post(
        f"/leadgen/unsubscribe/{token}/", {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 404
    assert state() == "pending"


def test_a_link_whose_consent_was_withdrawn_has_nothing_left(
    submit, client, newsletter
):
    submit()
    withdraw_consent(Lead.objects.get(), newsletter, language="en", channel="staff")
    link = path_of(confirm_link(mail.outbox[0]))
    assert client.get(link).status_code == 410
    assert client.post(link).status_code == 410
    assert state() == "withdrawn"


# -- Expiry ---------------------------------------------------------------------------
def expire(*args) -> str:
    out = StringIO()
    call_command("leadgen_expire_confirmations", *args, stdout=out)
    return out.getvalue()


def test_the_expiry_command_expires_unconfirmed_consents_once(submit):
    submit()
    submit("bob@example.com")
    assert expire() == "Pending consents expired: 0 (of 0 leads).\n"

    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        dry = expire("--dry-run")
        assert dry == "Pending consents would expire: 2 (of 2 leads).\n"
        assert state() == "pending"
        assert expire() == "Pending consents expired: 2 (of 2 leads).\n"
        assert expire() == "Pending consents expired: 0 (of 0 leads).\n"
    assert state() == "expired"
    assert state("bob@example.com") == "expired"
    assert EMAIL not in dry


def test_a_later_link_still_in_force_keeps_the_consent_pending(submit, client):
    submit()
    with time_machine.travel(timezone.now() + timedelta(hours=20)):
        submit()
    with time_machine.travel(timezone.now() + timedelta(hours=30)):
        assert expire() == "Pending consents expired: 0 (of 0 leads).\n"
        # The second email's link still confirms.
        assert client.post(path_of(confirm_link(mail.outbox[1]))).status_code == 200
    assert state() == "granted"


# -- Throttling -----------------------------------------------------------------------
def test_the_fourth_email_within_a_day_is_skipped_and_logged_without_the_address(
    submit, caplog
):
    caplog.set_level(logging.DEBUG)
    for _ in range(4):
        submit("Ann@Example.com")
    assert len(mail.outbox) == 3
    assert Lead.objects.get().consent_records.filter(decision="pending").count() == 4
    assert state() == "pending"
    assert "too many" in caplog.text
    assert "ann@example.com" not in caplog.text.lower()
    skipped = ConfirmationRequest.objects.filter(sent_at__isnull=True).get()
    assert skipped.token_hash is None

    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        submit()
    assert len(mail.outbox) == 4


# -- The queue and retries ------------------------------------------------------------
@override_settings(TASKS=DUMMY_TASKS)
def test_the_task_carries_ids_only(newsletter, page, submit):
    backend = task_backends["default"]
    backend.results.clear()
    submit()
    # The email and the lead's delivery, in one task.
    (queued,) = backend.results
    assert queued.task.name == "send_confirmation_and_deliver"
    request = ConfirmationRequest.objects.get()
    assert list(queued.args) == [request.pk, [Delivery.objects.get().pk]]
    assert queued.kwargs == {}
    assert mail.outbox == []
    assert EMAIL not in repr((queued.args, queued.kwargs))


@pytest.fixture
def failing_mail(monkeypatch):
    def refuse(self, messages):
        raise smtplib.SMTPServerDisconnected("relay down for ann@example.com")

    monkeypatch.setattr(LocmemMailBackend, "send_messages", refuse)
    return monkeypatch


@override_settings(TASKS=DUMMY_TASKS)
def test_a_failed_send_is_retried_later_and_never_lost(
    newsletter, page, failing_mail, caplog
):
    caplog.set_level(logging.DEBUG)
    make_lead(page=page, decisions={newsletter: True})
    request = ConfirmationRequest.objects.get()
    backend = task_backends["default"]
    backend.results.clear()

    assert leadgen_tasks.send_confirmation_email.call(request.pk, 1) == "failed"
    request.refresh_from_db()
    assert (request.sent_at, request.token_hash) == (None, None)
    (retry,) = backend.results
    assert list(retry.args) == [request.pk, 2]
    assert retry.task.run_after > timezone.now()
    assert "SMTPServerDisconnected" in caplog.text
    assert EMAIL not in caplog.text

    failing_mail.undo()
    out = StringIO()
    call_command("leadgen_send_confirmations", stdout=out)
    assert out.getvalue() == "sent: 1\n"
    assert len(mail.outbox) == 1
    out = StringIO()
    call_command("leadgen_send_confirmations", stdout=out)
    assert out.getvalue() == "No confirmation email due.\n"


def test_nothing_is_sent_after_the_deadline(newsletter, page, failing_mail):
    make_lead(page=page, decisions={newsletter: True})
    request = ConfirmationRequest.objects.get()
    assert leadgen_tasks.send_confirmation_email.call(request.pk) == "failed"
    failing_mail.undo()
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        out = StringIO()
        call_command("leadgen_send_confirmations", stdout=out)
        assert out.getvalue() == "No confirmation email due.\n"
        assert leadgen_tasks.send_confirmation_email.call(request.pk) == "late"
    assert mail.outbox == []


# -- Settings -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "options",
    [
        {"SITE_URL": "www.example.com"},
        {"SITE_URL": "ftp://example.com"},
        {"SITE_URL": "https://example.com/site/"},
        {"SITE_URL": "https://example.com/?x=1"},
        {"SITE_URL": "https://exa mple.com"},
        {"UNSUBSCRIBE_MAILTO": "a@example.com>, <https://evil.example"},
        {"UNSUBSCRIBE_MAILTO": "Ann <a@example.com>"},
        {"UNSUBSCRIBE_MAILTO": "a@example.com\r\nBcc: b@example.com"},
    ],
)
def test_site_url_and_the_unsubscribe_address_are_checked_at_start_up(options):
    with override_settings(WAGTAIL_LEADGEN=leadgen(**options)):
        errors = [e for e in run_checks() if e.id == "wagtail_leadgen.E007"]
    assert len(errors) == 1
    assert list(options)[0] in errors[0].msg


@override_settings(
    WAGTAIL_LEADGEN=leadgen(UNSUBSCRIBE_MAILTO="unsubscribe@example.com")
)
def test_unsubscribe_mailto_overrides_the_controller_address(submit):
    set_controller(contact_email="privacy@example.com")
    submit()
    header = mail.outbox[0].extra_headers["List-Unsubscribe"]
    assert header.endswith(", <mailto:unsubscribe@example.com?subject=unsubscribe>")


@pytest.mark.django_db(transaction=True)
def test_the_database_queue_stores_no_address_and_no_token(wagtail_tree, newsletter):
    """The queue a site deploys keeps task arguments and results in its own
    table: they hold the request id, the attempt and the outcome only."""
    page = make_landing_page(purposes=[newsletter])
    with override_settings(
        TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    ):
        make_lead(page=page, decisions={newsletter: True})
        request = ConfirmationRequest.objects.get()
        queued = DBTaskResult.objects.get(
            task_path="wagtail_leadgen.tasks.send_confirmation_email"
        )
        assert queued.args_kwargs == {"args": [request.pk, 1], "kwargs": {}}
        assert mail.outbox == []
        output = run_db_worker()

    (message,) = mail.outbox
    token = confirm_link(message).rstrip("/").rsplit("/", 1)[1]
    queued.refresh_from_db()
    assert queued.status == "SUCCESSFUL", output
    assert queued.return_value == "sent"
    stored = repr(list(DBTaskResult.objects.values()))
    assert EMAIL not in stored
    assert token not in stored
