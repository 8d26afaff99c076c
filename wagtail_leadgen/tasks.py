"""Background work on django-tasks; arguments are primary keys only.

Task backends keep their arguments (and results) in their own tables, so no
personal data may ever be passed to or returned from a task.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from django.db import connection, router, transaction
from django.utils import timezone
from django_tasks import task
from django_tasks.base import TASK_MAX_PRIORITY

from . import callback_worker, mailer, worker
from .conf import leadgen_settings
from .models.delivery import Delivery, DeliveryStatus

logger = logging.getLogger("wagtail_leadgen.delivery")

# A confirmation email the mail backend refused is tried again after 1, 2, 4…
# minutes, at most an hour apart, until the request's deadline
# (``CONFIRMATION_MAX_AGE`` after the submission).
CONFIRMATION_RETRY_BASE = 60
CONFIRMATION_RETRY_CAP = 60 * 60


# The deliveries one ``deliver_batch`` task attempts: few enough that each is
# attempted promptly (several workers share the batches), many enough that a
# purge erasing 100,000 people writes 2,000 queue rows, not 100,000.
DELIVERIES_PER_TASK = 50


@task()
def deliver_lead(delivery_id: int) -> str:
    """Attempt one delivery; schedule the next attempt where the queue can defer."""
    return _deliver(delivery_id)


@task()
def deliver_batch(delivery_ids: list[int]) -> dict[str, int]:
    """``deliver_lead`` for each of these deliveries in turn; how many ended
    in each status. One failing unexpectedly does not stop the others (it
    stays claimed until its lease ends, then ``leadgen_deliver`` has it)."""
    return dict(_deliver_each(delivery_ids))


def _deliver_each(delivery_ids: Iterable[int]) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    for delivery_id in delivery_ids:
        try:
            outcomes[_deliver(delivery_id)] += 1
        except Exception as exc:  # no traceback: it may quote the CRM's answer
            logger.error(
                "Delivery %s failed unexpectedly (%s)", delivery_id, type(exc).__name__
            )
            outcomes["error"] += 1
    return outcomes


def _deliver(delivery_id: int) -> str:
    delivery = worker.claim(delivery_id)
    if delivery is None:  # not due, already taken, done, or its destination is paused
        return "skipped"
    delivery = worker.attempt(delivery)
    if delivery.status == DeliveryStatus.PENDING:
        enqueue_deliveries(
            [delivery.pk],
            run_after=delivery.next_attempt_at,
            priority=delivery.priority or None,
        )
    else:
        # Changes for this person and destination waited for it.
        enqueue_deliveries(worker.waiting_behind(delivery))
    return delivery.status


def queue_shares_the_database() -> bool:
    """Whether the task queue (``TASK_BACKEND``) keeps its tasks in the
    database that holds the leads: django-tasks-db's backend, routed to the
    same database as the deliveries."""
    try:
        from django_tasks_db import DatabaseBackend  # noqa: PLC0415 - optional extra (queue-db)
        from django_tasks_db.models import DBTaskResult  # noqa: PLC0415 - same
    except ImportError:
        return False
    backend = deliver_lead.using(backend=leadgen_settings.TASK_BACKEND).get_backend()
    return isinstance(backend, DatabaseBackend) and router.db_for_write(
        DBTaskResult
    ) == router.db_for_write(Delivery)


def enqueue_with_transaction(enqueue: Callable[[], None]) -> None:
    """Run ``enqueue`` as part of the current transaction when the task queue
    lives in the same database (its rows then commit, or roll back, with the
    rows they name: one write transaction instead of two); once the
    transaction commits otherwise (a queue elsewhere must never run a task
    for rows that are not committed, or that roll back).

    Inside the transaction the enqueue runs in a savepoint where a failed
    statement would abort the whole transaction (PostgreSQL), so that a
    queue failure, logged by ``enqueue``, never loses the rows."""
    if not connection.in_atomic_block or not queue_shares_the_database():
        transaction.on_commit(enqueue)
        return
    if connection.vendor == "sqlite":  # a failed INSERT leaves the transaction usable
        enqueue()
        return
    with transaction.atomic():
        enqueue()


def enqueue_deliveries(
    ids: Iterable[int], *, run_after=None, priority: int | None = None
) -> None:
    """Enqueue the task for each id; a queue outage leaves rows for
    ``leadgen_deliver``. ``priority``: the task's (a call-back alert's is
    the highest, so a queue that orders by priority runs it first)."""
    task = deliver_lead.using(backend=leadgen_settings.TASK_BACKEND)
    if priority is not None:
        task = task.using(priority=priority)
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return  # this queue cannot wait: ``leadgen_deliver`` retries when due
        task = task.using(run_after=run_after)
    for delivery_id in ids:
        try:
            task.enqueue(delivery_id)
        except Exception as exc:  # the row is the source of truth: the cron picks it up
            logger.error(
                "Could not enqueue delivery %s (%s); it stays pending",
                delivery_id,
                type(exc).__name__,
            )


def enqueue_delivery_batches(ids: Sequence[int]) -> None:
    """Enqueue these deliveries, due now, ``DELIVERIES_PER_TASK`` to a task;
    a queue outage leaves their rows for ``leadgen_deliver``."""
    task = deliver_batch.using(backend=leadgen_settings.TASK_BACKEND)
    for start in range(0, len(ids), DELIVERIES_PER_TASK):
        batch = list(ids[start : start + DELIVERIES_PER_TASK])
        try:
            task.enqueue(batch)
        except Exception as exc:  # the rows are the source of truth
            logger.error(
                "Could not enqueue %s deliveries (%s); they stay pending",
                len(batch),
                type(exc).__name__,
            )


@task()
def send_confirmation_email(request_id: int, attempt: int = 1) -> str:
    """Send one double opt-in email (the token is made here, never passed in);
    when the mail backend fails, try again later where the queue can defer."""
    return _send_confirmation(request_id, attempt)


def _send_confirmation(request_id: int, attempt: int) -> str:
    outcome = mailer.send_confirmation(request_id)
    if outcome == mailer.Outcome.FAILED:
        delay = min(
            CONFIRMATION_RETRY_CAP, CONFIRMATION_RETRY_BASE * 2 ** (attempt - 1)
        )
        enqueue_confirmation(
            request_id,
            attempt=attempt + 1,
            run_after=timezone.now() + timedelta(seconds=delay),
        )
    return outcome


@task()
def send_confirmation_and_deliver(
    request_id: int, delivery_ids: list[int]
) -> dict[str, object]:
    """What one submission leaves to do, in one task row: its double opt-in
    email (as ``send_confirmation_email``, retried the same way when the mail
    backend fails), then its deliveries (as ``deliver_batch``). Neither part
    stops the other: an email that fails unexpectedly stays due for
    ``leadgen_send_confirmations``, a delivery for ``leadgen_deliver``."""
    try:
        confirmation = str(_send_confirmation(request_id, 1))
    except Exception as exc:  # the type only: the message may quote the address
        logger.error(
            "Confirmation email %s failed unexpectedly (%s); it stays due",
            request_id,
            type(exc).__name__,
        )
        confirmation = "error"
    return {
        "confirmation": confirmation,
        "deliveries": dict(_deliver_each(delivery_ids)),
    }


def enqueue_after_capture(
    delivery_ids: Sequence[int], confirmation_id: int | None
) -> None:
    """Enqueue what a capture leaves to do in as few task rows as possible:
    one ``send_confirmation_and_deliver`` for a confirmation email and the
    deliveries, else one ``deliver_lead`` or ``deliver_batch``, or one
    ``send_confirmation_email``. A queue outage is logged and leaves the rows
    due for ``leadgen_deliver`` and ``leadgen_send_confirmations``."""
    ids = list(delivery_ids)
    if confirmation_id is None:
        if len(ids) > 1:
            enqueue_delivery_batches(ids)
        else:
            enqueue_deliveries(ids)
        return
    if not ids:
        enqueue_confirmation(confirmation_id)
        return
    head, rest = ids[:DELIVERIES_PER_TASK], ids[DELIVERIES_PER_TASK:]
    task = send_confirmation_and_deliver.using(backend=leadgen_settings.TASK_BACKEND)
    try:
        task.enqueue(confirmation_id, head)
    except Exception as exc:  # the rows are the source of truth
        logger.error(
            "Could not enqueue confirmation email %s and %s deliveries (%s); "
            "they stay due",
            confirmation_id,
            len(head),
            type(exc).__name__,
        )
    if rest:
        enqueue_delivery_batches(rest)


def enqueue_confirmation(
    request_id: int, *, attempt: int = 1, run_after: datetime | None = None
) -> None:
    """Enqueue the confirmation email of one request; a queue outage (or a
    queue that cannot defer a retry) leaves it to ``leadgen_send_confirmations``."""
    task = send_confirmation_email.using(backend=leadgen_settings.TASK_BACKEND)
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return
        task = task.using(run_after=run_after)
    try:
        task.enqueue(request_id, attempt)
    except Exception as exc:  # the request row is the source of truth
        logger.error(
            "Could not enqueue confirmation email %s (%s); it stays due",
            request_id,
            type(exc).__name__,
        )


@task()
def send_my_data_link(lead_id: int | None) -> str:
    """Email a "my data" link to the lead; nothing for an unknown address
    (``None``): the request that enqueued it did the same work either way."""
    if lead_id is None:
        return mailer.Outcome.NO_ONE
    return mailer.send_my_data_link(lead_id)


def enqueue_my_data_link(lead_id: int | None) -> None:
    """Enqueue the "my data" email; a queue outage is logged (the person asks again)."""
    try:
        send_my_data_link.using(backend=leadgen_settings.TASK_BACKEND).enqueue(lead_id)
    except Exception:  # nothing to keep: the person sees the same page and retries
        logger.exception("Could not enqueue a data access email")


# -- Call-back alerts (ahead of everything else) ---------------------------------
#: The task priority of a call-back alert: the highest django-tasks allows.
ALERT_PRIORITY = TASK_MAX_PRIORITY


@task(priority=ALERT_PRIORITY)
def send_callback_email(callback_id: int, attempt: int = 1) -> str:
    """Email sales about one call-back request; a failing mail backend is
    tried again after 1, 2, 4... minutes (at most 5 apart) where the queue can
    defer, and by ``leadgen_deliver`` otherwise."""
    outcome = callback_worker.send_callback_email(callback_id)
    if outcome == "failed":
        delay = min(5 * 60, CONFIRMATION_RETRY_BASE * 2 ** (attempt - 1))
        enqueue_callback_email(
            callback_id,
            attempt=attempt + 1,
            run_after=timezone.now() + timedelta(seconds=delay),
        )
    return outcome


def enqueue_callback_email(
    callback_id: int, *, attempt: int = 1, run_after: datetime | None = None
) -> None:
    """Enqueue the sales email of one call-back request; a queue outage (or a
    queue that cannot defer a retry) leaves it to ``leadgen_deliver``."""
    task = send_callback_email.using(backend=leadgen_settings.TASK_BACKEND)
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return
        task = task.using(run_after=run_after)
    try:
        task.enqueue(callback_id, attempt)
    except (
        Exception
    ) as exc:  # the request row (alerted_at empty) is the source of truth
        logger.error(
            "Could not enqueue call-back alert %s (%s); it stays due",
            callback_id,
            type(exc).__name__,
        )


def enqueue_callback_alerts(callback_id: int, delivery_ids: Sequence[int]) -> None:
    """The call-back's events and email, at the highest task priority."""
    enqueue_deliveries(delivery_ids, priority=ALERT_PRIORITY)
    if leadgen_settings.callback["SALES_EMAIL"]:
        enqueue_callback_email(callback_id)
