"""Writing the transactional outbox and the operator actions on it (R20).

Delivery rows are written in the capture transaction, so the database is the
single source of truth; the task that hands each one to its backend is
enqueued once the transaction commits. The worker side (claiming, attempting,
backoff) is ``wagtail_leadgen.worker``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from django.db import transaction
from django.utils import timezone

from ..crm import get_backend
from ..crm.base import CRMConfigurationError
from ..models.consent import ConsentPurpose
from ..models.delivery import Delivery, DeliveryStatus, PausedDestination
from ..models.leads import Submission
from ..tasks import enqueue_deliveries

logger = logging.getLogger("wagtail_leadgen.delivery")


# -- Writing the outbox (inside the capture transaction) ------------------------
def allowed_destinations(
    aliases: Sequence[str], granted: Iterable[ConsentPurpose]
) -> list[str]:
    """The destinations among ``aliases`` a lead may go to, given the purposes
    it consented to (each destination's ``RECEIVES``)."""
    granted = list(granted)
    allowed = []
    for alias in aliases:
        try:
            receives = get_backend(alias).receives
        except CRMConfigurationError:
            # Planned anyway, so the misconfiguration shows on the delivery in
            # the admin (and in ``manage.py check``) instead of losing the lead.
            logger.warning("Delivery planned to misconfigured destination %s", alias)
            allowed.append(alias)
            continue
        if receives.allows(granted):
            allowed.append(alias)
    return allowed


def plan_deliveries(
    submission: Submission,
    aliases: Sequence[str],
    granted: Iterable[ConsentPurpose] = (),
) -> list[Delivery]:
    """One pending delivery per destination the lead may go to (its consents
    decide, see ``crm.destination``); enqueued once the transaction commits."""
    deliveries = Delivery.objects.bulk_create(
        [
            Delivery(
                submission=submission, lead_id=submission.lead_id, backend_alias=alias
            )
            for alias in allowed_destinations(aliases, granted)
        ]
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
