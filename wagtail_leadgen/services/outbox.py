"""Writing the transactional outbox and the operator actions on it (R20).

Delivery rows are written in the capture transaction, so the database is the
single source of truth; the task that hands each one to its backend is
enqueued once the transaction commits. The worker side (claiming, attempting,
backoff) is ``wagtail_leadgen.worker``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction
from django.utils import timezone

from ..models.delivery import Delivery, DeliveryStatus, PausedDestination
from ..models.leads import Submission
from ..tasks import enqueue_deliveries


# -- Writing the outbox (inside the capture transaction) ------------------------
def plan_deliveries(submission: Submission, aliases: Sequence[str]) -> list[Delivery]:
    """One pending delivery per destination; enqueued once the transaction commits."""
    deliveries = Delivery.objects.bulk_create(
        [Delivery(submission=submission, backend_alias=alias) for alias in aliases]
    )
    ids = [delivery.pk for delivery in deliveries]
    transaction.on_commit(lambda: enqueue_deliveries(ids))
    return deliveries


# -- Operator actions ------------------------------------------------------------
def retry_now(deliveries: Iterable[Delivery]) -> int:
    """Put failed or waiting deliveries back in the queue, due now."""
    ids = [d.pk for d in deliveries if d.status != DeliveryStatus.DELIVERED]
    count = Delivery.objects.filter(pk__in=ids).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now()
    )
    transaction.on_commit(lambda: enqueue_deliveries(ids))
    return count


def resume_destination(alias: str) -> int:
    """Un-pause a destination and enqueue what waited for it."""
    PausedDestination.objects.filter(backend_alias=alias).delete()
    ids = list(
        Delivery.objects.filter(
            backend_alias=alias, status=DeliveryStatus.PENDING
        ).values_list("pk", flat=True)
    )
    transaction.on_commit(lambda: enqueue_deliveries(ids))
    return len(ids)
