"""Erasing many leads at once, for retention (R16): what ``erase_lead`` does
for each, in a few queries per batch instead of a few dozen per lead.

Each lead still gets its own tombstone, counting what was removed as
``erase_lead`` counts it (``erased_rows`` deletes for both), and one erasure
delivery per destination that received it; destinations that never had it
are never asked. A lead with a delivery in flight (claimed by a worker right
now) goes through ``erase_lead``, which takes that delivery over. Call it
inside a transaction: the rows are written and deleted in it, and the
erasure deliveries are enqueued once it commits, a few to a task.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from ..models.delivery import Delivery, DeliveryKind, DeliveryStatus
from ..models.erasure import Erasure
from ..models.leads import Lead
from ..tasks import enqueue_delivery_batches
from .erased_rows import delete_leads
from .erasure import erase_lead, erasure_delivery

logger = logging.getLogger("wagtail_leadgen.privacy")


def _destinations(
    lead_ids: Sequence[int],
) -> tuple[dict[int, dict[str, str]], set[int]]:
    """Per lead, the destinations it was delivered to (with the CRM id), and
    the leads with a lead delivery a worker is sending right now."""
    now = timezone.now()
    delivered: dict[int, dict[str, str]] = defaultdict(dict)
    in_flight: set[int] = set()
    for lead_id, alias, status, lease, remote_id in (
        Delivery.objects.filter(lead_id__in=lead_ids, kind=DeliveryKind.LEAD)
        .order_by("-pk")
        .values_list(
            "lead_id", "backend_alias", "status", "lease_expires_at", "remote_id"
        )
    ):
        if status == DeliveryStatus.DELIVERED:
            delivered[lead_id].setdefault(alias, remote_id)
        elif status == DeliveryStatus.PENDING and lease is not None and lease > now:
            in_flight.add(lead_id)
    return delivered, in_flight


def _enqueue_together(delivery_ids: list[int]) -> None:
    """One transaction for the batch's tasks: a database queue then writes
    them in one commit instead of one commit (and one disk sync) each."""
    with transaction.atomic():
        enqueue_delivery_batches(delivery_ids)


def erase_leads(lead_ids: Sequence[int], *, reason: str, requested_by: str) -> int:
    """Erase these leads, each as ``erase_lead`` would; returns how many."""
    emails = dict(
        Lead.objects.select_for_update()
        .filter(pk__in=lead_ids)
        .order_by("pk")
        .values_list("pk", "email")
    )
    delivered, in_flight = _destinations(list(emails))
    for lead in Lead.objects.filter(pk__in=in_flight):
        erase_lead(lead, reason=reason, requested_by=requested_by)
        del emails[lead.pk]
    if not emails:
        return len(in_flight)
    removed = delete_leads(emails)
    erasures = Erasure.objects.bulk_create(
        [
            Erasure(
                reason=reason,
                requested_by=requested_by,
                removed=dict(sorted(removed[pk].items())),
                destinations=sorted(delivered[pk]),
            )
            for pk in emails
        ]
    )
    erasure_of = dict(zip(emails, erasures, strict=True))
    planned = Delivery.objects.bulk_create(
        [
            erasure_delivery(erasure_of[pk], alias, emails[pk], remote_id)
            for pk in emails
            for alias, remote_id in delivered[pk].items()
        ]
    )
    waiting = {d.erasure_id for d in planned if d.status == DeliveryStatus.PENDING}
    Erasure.objects.filter(
        pk__in=[e.pk for e in erasures if e.pk not in waiting]
    ).update(completed_at=timezone.now())
    pending = [d.pk for d in planned if d.status == DeliveryStatus.PENDING]
    transaction.on_commit(lambda: _enqueue_together(pending))
    logger.info(
        "%s leads erased (%s), %s CRM erasures planned",
        len(emails),
        reason,
        len(planned),
    )
    return len(emails) + len(in_flight)
