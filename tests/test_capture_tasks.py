"""A submission that asks for a double opt-in confirmation and goes to CRM
destinations leaves one task row for both (``send_confirmation_and_deliver``),
and each part keeps its own reliability: the email is sent once and retried
when the mail backend fails, each delivery keeps its own retries, and neither
part stops the other."""

from __future__ import annotations

import logging
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemMailBackend
from django.test import override_settings
from django.utils import timezone
from django_tasks import task_backends
from django_tasks_db.models import DBTaskResult

from wagtail_leadgen import mailer
from wagtail_leadgen.crm import locmem
from wagtail_leadgen.crm.base import TransientCRMError
from wagtail_leadgen.models import ConfirmationRequest, Delivery
from wagtail_leadgen.models.delivery import DeliveryStatus
from wagtail_leadgen.tasks import (
    deliver_batch,
    send_confirmation_and_deliver,
    send_confirmation_email,
)

from .factories import make_landing_page, make_purpose, make_submission
from .helpers import failing, locmem_destinations

pytestmark = pytest.mark.django_db

EMAIL = "ann@example.com"
DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
TWO_DESTINATIONS = locmem_destinations(sales=None, archive=None)


@pytest.fixture(autouse=True)
def empty_outboxes():
    locmem.outbox.clear()


@pytest.fixture
def newsletter():
    return make_purpose(name="Newsletter", requires_confirmation=True)


@pytest.fixture
def submit(newsletter, django_capture_on_commit_callbacks):
    """Capture a submission with the newsletter ticked (or not), running
    what is enqueued on commit (a queue outside the leads' database)."""

    def _submit(*, tick=True, before=None):
        page = make_landing_page(purposes=[newsletter])
        backend = task_backends["default"]
        if hasattr(backend, "results"):  # the dummy queue: this submission's only
            backend.results.clear()
        if before:
            before()
        with django_capture_on_commit_callbacks(execute=True):
            return make_submission(page, EMAIL, decisions={newsletter: tick})

    return _submit


def ours():
    """The plugin's task rows (Wagtail's search index has its own)."""
    return DBTaskResult.objects.filter(task_path__startswith="wagtail_leadgen.")


def queued():
    """The one task the plugin enqueued on the dummy queue."""
    (result,) = [
        result
        for result in task_backends["default"].results
        if result.task.module_path.startswith("wagtail_leadgen.")
    ]
    return result


@override_settings(TASKS=DATABASE_QUEUE, WAGTAIL_LEADGEN=TWO_DESTINATIONS)
def test_the_email_and_the_deliveries_are_one_task_row_of_ids(submit):
    submission = submit()
    (row,) = ours()
    assert row.task_path == send_confirmation_and_deliver.module_path
    request = ConfirmationRequest.objects.get()
    request_id, delivery_ids = row.args_kwargs["args"]
    assert request_id == request.pk
    assert sorted(delivery_ids) == sorted(
        submission.deliveries.values_list("pk", flat=True)
    )
    assert EMAIL not in repr(row.args_kwargs)


@override_settings(TASKS=DATABASE_QUEUE, WAGTAIL_LEADGEN=TWO_DESTINATIONS)
def test_without_a_confirmation_the_deliveries_keep_their_own_task(submit):
    submit(tick=False)
    assert list(ours().values_list("task_path", flat=True)) == [
        deliver_batch.module_path
    ]


@override_settings(TASKS=DATABASE_QUEUE, WAGTAIL_LEADGEN=locmem_destinations())
def test_without_a_destination_the_email_keeps_its_own_task(submit):
    submit()
    (row,) = ours()
    assert row.task_path == send_confirmation_email.module_path
    assert row.args_kwargs["args"] == [ConfirmationRequest.objects.get().pk, 1]


@override_settings(TASKS=DUMMY_TASKS, WAGTAIL_LEADGEN=TWO_DESTINATIONS)
def test_the_task_sends_the_email_once_and_delivers_each_lead(submit):
    submission = submit()
    args = queued().args
    outcome = send_confirmation_and_deliver.call(*args)
    assert outcome == {
        "confirmation": mailer.Outcome.SENT,
        "deliveries": {DeliveryStatus.DELIVERED: 2},
    }
    (message,) = mail.outbox
    assert message.to == [EMAIL]
    assert len(locmem.outbox) == 2
    assert set(submission.deliveries.values_list("status", flat=True)) == {
        DeliveryStatus.DELIVERED
    }
    # Run again (a queue that delivers a task twice): nothing is sent twice.
    again = send_confirmation_and_deliver.call(*args)
    assert again["confirmation"] == mailer.Outcome.DONE
    assert len(mail.outbox) == 1
    assert len(locmem.outbox) == 2


@pytest.fixture
def failing_mail(monkeypatch):
    def refuse(self, messages):
        raise smtplib.SMTPServerDisconnected(f"relay down for {EMAIL}")

    monkeypatch.setattr(LocmemMailBackend, "send_messages", refuse)
    return monkeypatch


@override_settings(TASKS=DUMMY_TASKS, WAGTAIL_LEADGEN=TWO_DESTINATIONS)
def test_a_failed_email_is_retried_on_its_own_and_the_leads_still_go(
    submit, failing_mail
):
    submit()
    backend = task_backends["default"]
    args = queued().args
    backend.results.clear()
    outcome = send_confirmation_and_deliver.call(*args)
    assert outcome["confirmation"] == mailer.Outcome.FAILED
    assert outcome["deliveries"] == {DeliveryStatus.DELIVERED: 2}
    request = ConfirmationRequest.objects.get()
    assert (request.sent_at, request.token_hash) == (None, None)
    # The retry is the email alone, the second attempt, later.
    (retry,) = backend.results
    assert retry.task.name == "send_confirmation_email"
    assert list(retry.args) == [request.pk, 2]
    assert retry.task.run_after > timezone.now()

    failing_mail.undo()
    assert send_confirmation_email.call(*retry.args) == mailer.Outcome.SENT
    assert len(mail.outbox) == 1


@override_settings(
    TASKS=DUMMY_TASKS,
    WAGTAIL_LEADGEN=locmem_destinations(
        archive=failing(TransientCRMError("the CRM failed", status=503)), sales=None
    ),
)
def test_a_failing_destination_keeps_its_retry_and_the_email_goes(submit):
    submit()
    outcome = send_confirmation_and_deliver.call(*queued().args)
    assert outcome == {
        "confirmation": mailer.Outcome.SENT,
        "deliveries": {DeliveryStatus.PENDING: 1, DeliveryStatus.DELIVERED: 1},
    }
    assert len(mail.outbox) == 1
    failed = Delivery.objects.get(backend_alias="archive")
    assert failed.attempts == 1 and failed.next_attempt_at > timezone.now()


@override_settings(TASKS=DUMMY_TASKS, WAGTAIL_LEADGEN=TWO_DESTINATIONS)
def test_an_email_that_breaks_stays_due_and_the_leads_still_go(
    submit, monkeypatch, caplog
):
    submit()
    args = queued().args

    def broken(request_id):
        raise RuntimeError(f"no site root for {EMAIL}")

    monkeypatch.setattr(mailer, "send_confirmation", broken)
    caplog.set_level(logging.ERROR)
    outcome = send_confirmation_and_deliver.call(*args)
    assert outcome == {
        "confirmation": "error",
        "deliveries": {DeliveryStatus.DELIVERED: 2},
    }
    assert ConfirmationRequest.objects.get().sent_at is None  # still due
    assert "RuntimeError" in caplog.text
    assert EMAIL not in caplog.text


@override_settings(TASKS=DATABASE_QUEUE, WAGTAIL_LEADGEN=TWO_DESTINATIONS)
def test_a_queue_outage_loses_nothing(submit, monkeypatch, caplog):
    def outage(self, *args, **kwargs):
        raise ConnectionError("queue down")

    caplog.set_level(logging.ERROR)
    submission = submit(
        before=lambda: monkeypatch.setattr(
            type(send_confirmation_and_deliver), "enqueue", outage
        ),
    )
    assert not ours().exists()
    # The rows are the source of truth: leadgen_deliver and
    # leadgen_send_confirmations find them due.
    assert submission.deliveries.filter(status=DeliveryStatus.PENDING).count() == 2
    assert ConfirmationRequest.objects.get(submission=submission).sent_at is None
    assert "ConnectionError" in caplog.text
