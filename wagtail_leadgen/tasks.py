"""Background work on django-tasks; arguments are primary keys only.

Task backends keep their arguments (and results) in their own tables, so no
personal data may ever be passed to or returned from a task.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django_tasks import task

from . import worker
from .conf import leadgen_settings
from .models.delivery import DeliveryStatus

logger = logging.getLogger("wagtail_leadgen.delivery")


@task()
def deliver_lead(delivery_id: int) -> str:
    """Attempt one delivery; schedule the next attempt where the queue can defer."""
    delivery = worker.claim(delivery_id)
    if delivery is None:  # not due, already taken, done, or its destination is paused
        return "skipped"
    delivery = worker.attempt(delivery)
    if delivery.status == DeliveryStatus.PENDING:
        enqueue_deliveries([delivery.pk], run_after=delivery.next_attempt_at)
    else:
        # Consent changes for this person and destination waited for it.
        enqueue_deliveries(worker.waiting_behind(delivery))
    return delivery.status


def enqueue_deliveries(ids: Iterable[int], *, run_after=None) -> None:
    """Enqueue the task for each id; a queue outage leaves rows for ``leadgen_deliver``."""
    task = deliver_lead.using(backend=leadgen_settings.TASK_BACKEND)
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return  # this queue cannot wait: ``leadgen_deliver`` retries when due
        task = task.using(run_after=run_after)
    for delivery_id in ids:
        try:
            task.enqueue(delivery_id)
        except (
            Exception
        ):  # the row is the source of truth; the cron fallback picks it up
            logger.exception(
                "Could not enqueue delivery %s; it stays pending", delivery_id
            )
