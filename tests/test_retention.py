"""Retention (R16): periods from the person's last contact, re-permission
before a consent lapses, lapsed consents told to the CRMs, leads erased when
nothing is left, old spam deleted; ``leadgen_purge`` is dry-runnable,
idempotent and resumable, and prints no address."""

from __future__ import annotations

import re
import smtplib
from datetime import UTC, datetime, timedelta
from io import StringIO
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.core.checks import run_checks
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command
from django.test import Client, override_settings
from django_tasks_db.models import DBTaskResult

from wagtail_leadgen import worker
from wagtail_leadgen.crm import locmem
from wagtail_leadgen.crm.base import TransientCRMError
from wagtail_leadgen.models import (
    ConsentDecision,
    ConsentRecord,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Erasure,
    Lead,
    RenewalRequest,
    Submission,
    Suppression,
)
from wagtail_leadgen.services import optin
from wagtail_leadgen.services import purge as purge_module
from wagtail_leadgen.services.capture import SubmissionContext, quarantine_spam
from wagtail_leadgen.services.consent import current_decision
from wagtail_leadgen.services.preferences import withdraw
from wagtail_leadgen.services.purge import purge, run_purge
from wagtail_leadgen.services.retention import months_after, months_before
from wagtail_leadgen.tasks import deliver_batch

from .factories import make_landing_page, make_lead, make_purpose, republish
from .helpers import form_data, locmem_destinations, ticked

pytestmark = pytest.mark.django_db

EMAIL = "ann@example.com"
T0 = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)
LEADGEN = locmem_destinations(sales=None)


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.WAGTAIL_LEADGEN = LEADGEN


@pytest.fixture
def newsletter():
    return make_purpose(
        name="Newsletter", checkbox_label="Send me the newsletter", retention_months=36
    )


@pytest.fixture
def page(newsletter):
    return make_landing_page(purposes=[newsletter])  # request processing: 12 months


def capture(page, email=EMAIL, *, ticks=(), when=T0):
    with time_machine.travel(when, tick=False):
        return make_lead(
            email,
            page=page,
            decisions={purpose: purpose in ticks for purpose in page.get_purposes()},
            destinations=["sales"],
        ).lead


def purge_at(when, **kwargs):
    with time_machine.travel(when, tick=False):
        return purge(**kwargs)


def renewal_link(message) -> str:
    url = re.search(r"https?://\S+/leadgen/renew/[\w-]+/", message.body).group(0)
    return re.sub(r"^https?://[^/]+", "", url)


# -- Periods ----------------------------------------------------------------------
def test_months_are_calendar_months_clamped_to_the_month_end():
    assert months_before(datetime(2027, 3, 31), 1) == datetime(2027, 2, 28)
    assert months_after(datetime(2028, 1, 31), 1) == datetime(2028, 2, 29)
    assert months_after(datetime(2027, 1, 15), 36) == datetime(2030, 1, 15)


def test_a_request_only_lead_is_erased_after_the_request_period(page):
    lead = capture(page)  # nothing ticked: kept to answer the request only

    assert purge_at(months_after(T0, 12) - timedelta(hours=1)).leads_erased == 0
    assert Lead.objects.filter(pk=lead.pk).exists()

    report = purge_at(months_after(T0, 12) + timedelta(hours=1))
    assert report.leads_erased == 1
    assert not Lead.objects.exists()
    assert not Submission.objects.exists()
    erasure = Erasure.objects.get()
    assert erasure.reason == Erasure.Reason.RETENTION
    assert erasure.requested_by == "retention"


def test_a_consent_keeps_the_lead_until_its_own_period_ends(page, newsletter):
    capture(page, ticks=[newsletter])

    report = purge_at(months_after(T0, 13))
    assert report.leads_erased == 0 and report.consents_lapsed == 0

    report = purge_at(months_after(T0, 36) + timedelta(hours=1))
    assert report.leads_erased == 1
    assert not Lead.objects.exists()


def test_the_period_runs_from_the_last_contact_from_the_person(page):
    lead = capture(page)
    capture(page, when=months_after(T0, 10))  # a new form: a contact

    assert purge_at(months_after(T0, 13)).leads_erased == 0
    lead.refresh_from_db()
    assert lead.last_contact_at == months_after(T0, 10)


def test_each_erased_lead_asks_only_the_crms_that_received_it(page):
    delivered = capture(page, "a@example.com")
    never = capture(page, "b@example.com")
    sending = capture(page, "c@example.com")
    when = months_after(T0, 12) + timedelta(days=1)
    Delivery.objects.filter(lead=delivered).update(
        status=DeliveryStatus.DELIVERED, remote_id="crm-1"
    )
    Delivery.objects.filter(lead=never).update(status=DeliveryStatus.FAILED)
    Delivery.objects.filter(lead=sending).update(
        lease_expires_at=when + timedelta(minutes=5)  # a worker is sending it now
    )
    taken_over = Delivery.objects.get(lead=sending).pk

    assert purge_at(when).leads_erased == 3

    assert not Lead.objects.exists()
    by_destinations = sorted(Erasure.objects.values_list("destinations", flat=True))
    assert by_destinations == [[], ["sales"], ["sales"]]
    asked = Delivery.objects.filter(kind=DeliveryKind.ERASURE).order_by("pk")
    assert [d.backend_alias for d in asked] == ["sales", "sales"]
    assert {d.remote_id for d in asked} >= {"crm-1"}
    assert taken_over in {d.pk for d in asked}  # the delivery in flight, taken over
    tombstone = Erasure.objects.get(deliveries__remote_id="crm-1")
    assert tombstone.removed["wagtail_leadgen.lead"] == 1
    assert tombstone.removed["wagtail_leadgen.submission"] == 1
    (unasked,) = [e for e in Erasure.objects.all() if not e.destinations]
    assert unasked.completed_at is not None  # nothing to wait for


@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}})
def test_a_retention_tombstone_counts_what_erase_lead_counts(
    page, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lead = capture(page)  # its delivery is a task row in the queue
    spam = quarantine_spam(
        context=SubmissionContext(page=page, language="en"),
        answers={"email": EMAIL.upper()},
        reason="honeypot",
    )

    purge_at(months_after(T0, 12) + timedelta(days=1))

    assert not Lead.objects.filter(pk=lead.pk).exists()
    assert not Submission.objects.filter(pk=spam.pk).exists()
    removed = Erasure.objects.get().removed
    assert removed["wagtail_leadgen.submission"] == 2  # the lead's and the spam
    assert removed["wagtail_leadgen.delivery"] == 1
    assert removed["django_tasks_database.dbtaskresult"] == 1


@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}})
def test_a_purge_queues_its_crm_erasures_a_few_to_a_task_each_sent_once(
    page, django_capture_on_commit_callbacks
):
    for n in range(3):
        capture(page, f"person{n}@example.com")
    Delivery.objects.update(status=DeliveryStatus.DELIVERED)
    when = months_after(T0, 12) + timedelta(days=1)

    with django_capture_on_commit_callbacks(execute=True):
        purge_at(when)

    planned = sorted(
        Delivery.objects.filter(kind=DeliveryKind.ERASURE).values_list("pk", flat=True)
    )
    (task,) = DBTaskResult.objects.filter(task_path=deliver_batch.module_path)
    assert sorted(task.args_kwargs["args"][0]) == planned
    with time_machine.travel(when, tick=False):
        assert deliver_batch.call(planned) == {DeliveryStatus.DELIVERED: 3}
        assert deliver_batch.call(planned) == {"skipped": 3}  # a repeat sends nothing
    assert sorted(email for _alias, email in locmem.erased) == [
        f"person{n}@example.com" for n in range(3)
    ]


def test_a_shorter_purpose_lapses_alone_and_the_crms_are_told(page, newsletter):
    offers = make_purpose(checkbox_label="Partner offers", retention_months=6)
    two = make_landing_page(purposes=[newsletter, offers])
    lead = capture(two, ticks=[newsletter, offers])
    Delivery.objects.filter(lead=lead).update(status=DeliveryStatus.DELIVERED)

    report = purge_at(months_after(T0, 7))

    assert report.consents_lapsed == 1 and report.leads_erased == 0
    ended = current_decision(lead, offers)
    assert ended.decision == ConsentDecision.WITHDRAWN
    assert ended.channel == "retention"
    assert (
        ended.wording
        == ConsentRecord.objects.filter(
            purpose=offers, decision=ConsentDecision.GRANTED
        )
        .get()
        .wording
    )
    assert current_decision(lead, newsletter).decision == ConsentDecision.GRANTED
    change = Delivery.objects.get(kind=DeliveryKind.CONSENT_CHANGE)
    assert change.consent_record == ended and change.backend_alias == "sales"
    # Not an objection: the person may consent again.
    assert not Suppression.objects.exists()


# -- Re-permission -----------------------------------------------------------------
def test_one_renewal_email_per_cycle_before_the_consent_lapses(page, newsletter):
    capture(page, ticks=[newsletter])
    end = months_after(T0, 36)

    assert purge_at(end - timedelta(days=31)).renewal_emails == 0
    assert purge_at(end - timedelta(days=29)).renewal_emails == 1
    assert purge_at(end - timedelta(days=10)).renewal_emails == 0

    (message,) = mail.outbox
    assert message.to == [EMAIL]
    assert message.subject == "Shall we keep your data?"
    assert "Send me the newsletter" in message.body
    assert "List-Unsubscribe" in message.extra_headers
    request = RenewalRequest.objects.get()
    assert request.expires_at == end
    token = renewal_link(message).rstrip("/").rsplit("/", 1)[1]
    assert token not in str(request.__dict__)  # only its hash is stored


def test_no_renewal_email_for_a_consent_withdrawn_or_objected_to(page, newsletter):
    lead = capture(page, ticks=[newsletter])
    capture(page, "bob@example.com")  # no consent: nothing to renew
    withdraw(lead, [newsletter], channel="preferences", source="preferences")

    assert purge_at(months_after(T0, 36) - timedelta(days=5)).renewal_emails == 0
    assert mail.outbox == []


@override_settings(WAGTAIL_LEADGEN={**LEADGEN, "RENEWAL_NOTICE_DAYS": 60})
def test_the_notice_is_a_setting(page, newsletter):
    capture(page, ticks=[newsletter])
    assert purge_at(months_after(T0, 36) - timedelta(days=50)).renewal_emails == 1


def test_a_refused_renewal_email_leaves_nothing_and_goes_next_run(
    page, newsletter, caplog
):
    capture(page, ticks=[newsletter])
    when = months_after(T0, 36) - timedelta(days=20)
    refused = smtplib.SMTPException(f"{EMAIL}: mailbox unavailable")
    with mock.patch.object(EmailMultiAlternatives, "send", side_effect=refused):
        report = purge_at(when)
    assert report.renewal_emails == 0 and report.renewal_emails_failed == 1
    assert not RenewalRequest.objects.exists()
    assert EMAIL not in caplog.text

    assert purge_at(when).renewal_emails == 1
    assert len(mail.outbox) == 1


def test_the_renewal_link_shows_a_button_and_renews_on_post_only(page, newsletter):
    lead = capture(page, ticks=[newsletter])
    end = months_after(T0, 36)
    purge_at(end - timedelta(days=20))
    link = renewal_link(mail.outbox[0])
    republish(newsletter, purpose_text="<p>Our newsletter, now every two weeks.</p>")
    client = Client()

    with time_machine.travel(end - timedelta(days=10), tick=False):
        shown = client.get(link)
        assert shown.status_code == 200
        assert b"every two weeks" in shown.content  # the wording it would record
        assert "no-store" in shown["Cache-Control"]
        lead.refresh_from_db()
        assert lead.last_contact_at == T0  # a page load is not a contact
        renewed = client.post(link)
    assert renewed.status_code == 200
    lead.refresh_from_db()
    assert lead.last_contact_at == end - timedelta(days=10)
    record = current_decision(lead, newsletter)
    assert record.decision == ConsentDecision.GRANTED
    assert record.channel == "renewal"
    assert "every two weeks" in record.wording

    # The old end date passes: nothing lapses, nothing is erased.
    report = purge_at(end + timedelta(days=1))
    assert report.consents_lapsed == 0 and report.leads_erased == 0
    assert RenewalRequest.objects.get().renewed_at is not None


def test_a_renewal_link_reused_expired_or_tampered_changes_nothing(page, newsletter):
    capture(page, ticks=[newsletter])
    end = months_after(T0, 36)
    purge_at(end - timedelta(days=20))
    link = renewal_link(mail.outbox[0])
    client = Client()

    with time_machine.travel(end + timedelta(hours=1), tick=False):
        assert client.get(link).status_code == 410  # expired
        assert client.post(link).status_code == 410
    assert RenewalRequest.objects.get().renewed_at is None

    with time_machine.travel(end - timedelta(days=10), tick=False):
        assert client.get(link[:-5] + "xxxx/").status_code == 404  # tampered
        assert client.get("/leadgen/renew/not-a-token/").status_code == 404
        assert client.post(link).status_code == 200
        reused = client.post(link)
    assert reused.status_code == 410
    assert b"already kept" in reused.content
    assert ConsentRecord.objects.filter(channel="renewal").count() == 1


# -- What counts as a contact --------------------------------------------------------
def test_acts_of_the_person_count_as_contact_and_our_emails_do_not(client):
    confirmed = make_purpose(checkbox_label="Weekly tips", requires_confirmation=True)
    page = make_landing_page(purposes=[confirmed])
    with time_machine.travel(T0, tick=False):
        data = form_data(client, page, email=EMAIL, **ticked(confirmed))
        client.post(page.url, data)  # the confirmation email goes out on commit
    lead = Lead.objects.get()
    assert lead.last_contact_at == T0

    later = T0 + timedelta(hours=2)
    with time_machine.travel(later, tick=False):
        optin.confirm(lead.confirmation_requests.get(), language="en")
    lead.refresh_from_db()
    assert lead.last_contact_at == later

    with time_machine.travel(later + timedelta(days=1), tick=False):
        withdraw(lead, [confirmed], channel="preferences", source="preferences")
    lead.refresh_from_db()
    assert lead.last_contact_at == later + timedelta(days=1)


# -- Spam ------------------------------------------------------------------------
@override_settings(WAGTAIL_LEADGEN={**LEADGEN, "FORM_MIN_FILL_SECONDS": 60})
def test_quarantined_spam_goes_after_its_period(page, client):
    with time_machine.travel(T0, tick=False):
        client.post(page.url, form_data(client, page, email=EMAIL))
    assert Submission.objects.get().is_spam

    assert purge_at(T0 + timedelta(days=29)).spam_deleted == 0
    assert purge_at(T0 + timedelta(days=31)).spam_deleted == 1
    assert not Submission.objects.exists()
    assert Erasure.objects.get().reason == Erasure.Reason.SPAM


# -- The command ------------------------------------------------------------------
def _everything() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Lead,
            Submission,
            ConsentRecord,
            Delivery,
            RenewalRequest,
            Erasure,
        )
    }


def test_a_dry_run_counts_and_changes_nothing(page, newsletter):
    capture(page)  # erased at 12 months
    offers = make_purpose(checkbox_label="Offers", retention_months=6)
    two = make_landing_page(purposes=[newsletter, offers])
    capture(two, "cy@example.com", ticks=[newsletter, offers])  # offers lapse
    before = _everything()
    out = StringIO()

    with time_machine.travel(months_after(T0, 12) + timedelta(days=1), tick=False):
        call_command("leadgen_purge", "--dry-run", stdout=out)

    assert _everything() == before
    assert mail.outbox == []
    text = out.getvalue()
    assert "Dry run" in text
    assert "Leads erased (every period over): 1" in text
    assert "Consents lapsed (purpose's period over): 1" in text


def test_the_command_is_idempotent_and_prints_no_address(page, newsletter):
    capture(page)
    capture(page, "bob@example.com", ticks=[newsletter])
    out = StringIO()

    with time_machine.travel(months_after(T0, 36) - timedelta(days=1), tick=False):
        call_command("leadgen_purge", stdout=out)
        first = out.getvalue()
        out = StringIO()
        call_command("leadgen_purge", stdout=out)
        second = out.getvalue()

    assert "Leads erased (every period over): 1" in first
    assert "Renewal emails sent: 1" in first
    assert re.findall(r": (\d+)", second) == ["0"] * 7
    for text in (first, second):
        assert "@" not in text and "example" not in text


@override_settings(WAGTAIL_LEADGEN={**LEADGEN, "PURGE_BATCH_SIZE": 2})
def test_an_interrupted_run_leaves_whole_batches_and_the_next_run_finishes(page):
    for n in range(5):
        capture(page, f"person{n}@example.com")
    real_erase = purge_module.erase_leads
    calls = []

    def erase_then_crash(lead_ids, **kwargs):
        calls.append(lead_ids)
        erased = real_erase(lead_ids, **kwargs)
        if len(calls) == 2:  # the second batch, halfway through
            raise RuntimeError("power cut")
        return erased

    when = months_after(T0, 12) + timedelta(days=1)
    with (
        mock.patch.object(purge_module, "erase_leads", erase_then_crash),
        pytest.raises(RuntimeError),
    ):
        purge_at(when)
    # The first batch is done; the interrupted one is whole, nothing half-erased.
    assert Lead.objects.count() == 3
    for lead in Lead.objects.all():
        assert lead.submissions.count() == 1
        assert lead.consent_records.count() == 1
    assert Erasure.objects.count() == 2

    assert purge_at(when).leads_erased == 3
    assert not Lead.objects.exists()
    assert Erasure.objects.count() == 5


def test_the_task_runs_the_purge_and_returns_counts_only(page):
    capture(page)
    with time_machine.travel(months_after(T0, 13), tick=False):
        result = run_purge.call()
    assert result["leads_erased"] == 1
    assert all(isinstance(value, int) for value in result.values())


def test_a_delivered_lead_keeps_no_error_text():
    """A CRM's error (which may quote the person) goes once it is delivered."""
    flaky = iter([TransientCRMError("ann@example.com rejected"), None])
    settings = locmem_destinations(sales=lambda payload: next(flaky))
    with override_settings(WAGTAIL_LEADGEN=settings):
        page = make_landing_page()
        make_lead(page=page, destinations=["sales"])
        delivery = Delivery.objects.get()
        worker.attempt(delivery)
        assert Delivery.objects.get().last_error
        worker.attempt(delivery)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.last_error == ""


# -- Settings -------------------------------------------------------------------
@pytest.mark.parametrize(
    "key, value",
    [
        ("SPAM_RETENTION_DAYS", 0),
        ("RENEWAL_NOTICE_DAYS", -1),
        ("PURGE_BATCH_SIZE", "50"),
    ],
)
def test_a_bad_retention_setting_is_a_system_check_error(key, value):
    with override_settings(WAGTAIL_LEADGEN={**LEADGEN, key: value}):
        errors = [m for m in run_checks() if m.id == "wagtail_leadgen.E011"]
    assert len(errors) == 1 and key in errors[0].msg


def test_a_notice_as_long_as_a_purpose_s_period_is_a_warning():
    make_purpose(name="Flash sales", retention_months=1)
    with override_settings(WAGTAIL_LEADGEN={**LEADGEN, "RENEWAL_NOTICE_DAYS": 45}):
        warnings = [
            m
            for m in run_checks(include_deployment_checks=False, databases=["default"])
            if m.id == "wagtail_leadgen.W013"
        ]
    assert len(warnings) == 1 and "Flash sales" in warnings[0].msg
