"""The worker side of an erasure (R15): ask one CRM to erase, close the tombstone.

An erasure delivery carries the address only sealed (``sealing``) in
``sealed_address``; the worker opens it to call ``backend.erase(address)``,
and the field is cleared as soon as the delivery ends, delivered or not.
Retries and backoff are those of any delivery (``worker.attempt``).

A lead delivery can be on its way when the person is erased. The erasure
then takes its row over (``services.erasure``) and the worker, recording
its outcome, finds the row changed under it (``overtaken``): if the CRM
accepted the lead, or may have (a timeout), the erasure there runs at once;
if the CRM refused it, there is nothing to erase and it is marked done.
"""

from __future__ import annotations

import logging
from typing import Any

from django.utils import timezone

from .crm.base import (
    BaseCRMBackend,
    DeliveryResult,
    ManualActionNeeded,
    UnsupportedFeature,
)
from .models.delivery import Delivery, DeliveryKind, DeliveryStatus
from .models.erasure import Erasure
from .sealing import BrokenSeal, unseal

logger = logging.getLogger("wagtail_leadgen.delivery")

NOTHING_TO_ERASE = "The lead never reached this destination: nothing to erase there."


def send_erasure(backend: BaseCRMBackend, delivery: Delivery) -> DeliveryResult:
    """Ask the destination to erase the person; ``ManualActionNeeded`` where
    staff must (a backend without erasure, an address that cannot be opened)."""
    try:
        backend.require_feature("erasure")
    except UnsupportedFeature as unsupported:
        raise ManualActionNeeded(
            f"{unsupported} Erase the person there by hand, using the CRM id of this row.",
            backend=backend.alias,
        ) from None
    if not delivery.sealed_address:
        raise ManualActionNeeded(
            "The address was cleared when this erasure first ended: erase the "
            "person by hand, using the CRM id of this row.",
            backend=backend.alias,
        )
    try:
        address = unseal(delivery.sealed_address)
    except BrokenSeal:
        raise ManualActionNeeded(
            "The address to erase cannot be opened (SECRET_KEY changed without a "
            "fallback): erase the person by hand, using the CRM id of this row.",
            backend=backend.alias,
        ) from None
    backend.erase(address, idempotency_key=str(delivery.idempotency_key))
    return DeliveryResult(remote_id=delivery.remote_id, detail="erased")


def ending_fields(delivery: Delivery, fields: dict[str, Any]) -> dict[str, Any]:
    """What else to write when an erasure delivery ends: the sealed address goes."""
    ended = fields.get("status", DeliveryStatus.PENDING) != DeliveryStatus.PENDING
    if delivery.kind == DeliveryKind.ERASURE and ended:
        return {"sealed_address": ""}
    return {}


def close_if_done(erasure_id: int | None) -> None:
    """Mark the erasure completed once none of its deliveries is pending."""
    if erasure_id is None:
        return
    if Delivery.objects.filter(
        erasure_id=erasure_id, status=DeliveryStatus.PENDING
    ).exists():
        return
    Erasure.objects.filter(pk=erasure_id, completed_at__isnull=True).update(
        completed_at=timezone.now()
    )


def overtaken(delivery: Delivery, *, refused: bool) -> Delivery:
    """A worker's outcome for a row that changed under it: nothing of the lead
    is written back. ``refused``: the destination definitely did not keep it."""
    taken_over = Delivery.objects.filter(
        pk=delivery.pk, kind=DeliveryKind.ERASURE, status=DeliveryStatus.PENDING
    )
    if delivery.kind != DeliveryKind.LEAD or not taken_over.exists():
        logger.info("Delivery %s was erased meanwhile; outcome dropped", delivery.pk)
        delivery.status = DeliveryStatus.DELIVERED  # nothing left to retry
        return delivery
    now = timezone.now()
    if refused:
        taken_over.update(
            status=DeliveryStatus.DELIVERED,
            delivered_at=now,
            sealed_address="",
            lease_expires_at=None,
            last_error=NOTHING_TO_ERASE,
        )
    else:
        taken_over.update(lease_expires_at=None, next_attempt_at=now)
    erasure_row = Delivery.objects.get(pk=delivery.pk)
    close_if_done(erasure_row.erasure_id)
    return erasure_row
