"""Erasing a person (R15): every row about them, then each CRM that has them.

One transaction: a tombstone (``Erasure``) is written first, then one
erasure delivery is planned for each destination that received the lead
(a lead delivery marked delivered there) or is receiving it right now (a
lead delivery claimed by a worker), and only then is everything deleted:
the lead, its submissions and answers, consent records with their wording
copies, confirmation requests, download grants, its deliveries with their
errors, quarantined spam carrying the address, the task-queue rows of the
deleted deliveries and the per-address email throttle. An objection stays
on the suppression list (a keyed hash, so it is honoured for good).

The address a CRM must erase survives in one place only: the erasure
delivery's ``sealed_address``, encrypted (``wagtail_leadgen.sealing``) and
cleared by the worker as soon as that delivery ends.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from datetime import datetime
from functools import partial

from django.db import transaction
from django.utils import timezone

from ..conf import leadgen_settings
from ..crm import get_backend
from ..crm.base import CRMConfigurationError
from ..erasure_worker import close_if_done
from ..models.delivery import PERSON_KINDS, Delivery, DeliveryKind, DeliveryStatus
from ..models.erasure import Erasure
from ..models.leads import Lead
from ..sealing import seal
from ..tasks import enqueue_deliveries
from ..validators import normalise_email
from .erased_rows import delete_leads, delete_spam_carrying, spam_carrying

logger = logging.getLogger("wagtail_leadgen.privacy")


class AlreadyErased(LookupError):
    """The lead was erased meanwhile (e.g. by a second click): nothing left to do."""


def erase_lead(
    lead: Lead, *, reason: str, requested_by: str = "", note: str = ""
) -> Erasure:
    """Erase this person everywhere and ask each CRM that has them to erase.

    Raises ``AlreadyErased`` when the lead no longer exists.
    """
    with transaction.atomic():
        current = Lead.objects.select_for_update().filter(pk=lead.pk).first()
        if current is None:
            raise AlreadyErased(f"lead {lead.pk} no longer exists")
        erasure = Erasure.objects.create(
            reason=reason, requested_by=requested_by, note=note
        )
        asked = _ask_destinations(erasure, current)
        removed = delete_leads({current.pk: current.email})[current.pk]
        return _finish(erasure, removed, asked)


def erase_address(
    email: str, *, reason: str, requested_by: str = "", note: str = ""
) -> Erasure | None:
    """Erase the lead with this address, if any, and quarantined spam carrying
    it; None when nothing is stored about the address."""
    address = normalise_email(email)
    lead = Lead.objects.filter(email=address).first()
    if lead is not None:
        try:
            return erase_lead(lead, reason=reason, requested_by=requested_by, note=note)
        except AlreadyErased:
            pass  # erased meanwhile: only spam may be left
    with transaction.atomic():
        if not spam_carrying(address):
            return None
        erasure = Erasure.objects.create(
            reason=reason, requested_by=requested_by, note=note
        )
        return _finish(erasure, delete_spam_carrying(address), [])


# -- The CRMs -------------------------------------------------------------------
def destinations_to_ask(lead: Lead) -> list[str]:
    """The destinations an erasure of this lead would ask now: those it was
    delivered to (one being delivered right now is asked too, when it ends)."""
    return sorted(
        set(
            Delivery.objects.filter(
                lead=lead, kind__in=PERSON_KINDS, status=DeliveryStatus.DELIVERED
            ).values_list("backend_alias", flat=True)
        )
    )


def _ask_destinations(erasure: Erasure, lead: Lead) -> list[Delivery]:
    """One erasure delivery per destination that has the lead or is receiving
    it now; destinations that never received it are never asked.

    Where a lead delivery is on its way (claimed by a worker), the erasure at
    that destination waits for the attempt to end (the worker's lease), so a
    lead arriving late cannot outlive the erasure there.
    """
    lead_deliveries = list(
        Delivery.objects.select_for_update()
        .filter(lead=lead, kind__in=PERSON_KINDS)
        .order_by("-pk")
    )
    now = timezone.now()
    in_flight: dict[str, Delivery] = {}
    for delivery in lead_deliveries:
        lease = delivery.lease_expires_at
        if delivery.status == DeliveryStatus.PENDING and lease and lease > now:
            in_flight.setdefault(delivery.backend_alias, delivery)
    delivered: dict[str, Delivery] = {}
    for delivery in lead_deliveries:
        if delivery.status == DeliveryStatus.DELIVERED:
            delivered.setdefault(delivery.backend_alias, delivery)
    planned = Delivery.objects.bulk_create(
        erasure_delivery(
            erasure,
            alias,
            lead.email,
            row.remote_id,
            wait_until=in_flight[alias].lease_expires_at
            if alias in in_flight
            else None,
        )
        for alias, row in delivered.items()
    )
    taken_over = [
        _take_over(row, erasure, lead.email)
        for alias, row in in_flight.items()
        if alias not in delivered
    ]
    return planned + taken_over


def _take_over(delivery: Delivery, erasure: Erasure, email: str) -> Delivery:
    """Turn a lead delivery (or call-back alert) a worker is sending right now into the erasure at
    that destination. It keeps the worker's lease, so it runs once that
    attempt is over; the worker, finding its row taken over, records nothing
    of the lead (see ``erasure_worker.overtaken``)."""
    Delivery.objects.filter(pk=delivery.pk).update(
        kind=DeliveryKind.ERASURE,
        erasure=erasure,
        lead=None,
        submission=None,
        consent_record=None,
        callback=None,
        sealed_address=seal(email),
        # Its own key: a CRM de-duplicating on the lead's would drop the erasure.
        idempotency_key=uuid.uuid4(),
        attempts=0,
        last_error="",
        last_status_code=None,
        next_attempt_at=delivery.lease_expires_at,
    )
    delivery.refresh_from_db()
    return delivery


def erasure_delivery(
    erasure: Erasure,
    alias: str,
    email: str,
    remote_id: str,
    *,
    wait_until: datetime | None = None,
) -> Delivery:
    """A pending erasure for a destination that can erase, not before
    ``wait_until``; "manual action needed" (and no address kept) for one
    that cannot or is gone."""
    reason = _cannot_erase(alias)
    if reason:
        return Delivery(
            kind=DeliveryKind.ERASURE,
            erasure=erasure,
            backend_alias=alias,
            remote_id=remote_id,
            status=DeliveryStatus.MANUAL,
            last_error=reason,
        )
    return Delivery(
        kind=DeliveryKind.ERASURE,
        erasure=erasure,
        backend_alias=alias,
        remote_id=remote_id,
        sealed_address=seal(email),
        next_attempt_at=wait_until or timezone.now(),
        lease_expires_at=wait_until,
    )


def _cannot_erase(alias: str) -> str:
    """Why staff must erase the person at this destination by hand; "" if it can."""
    if alias not in leadgen_settings.configured_aliases():
        return (
            f"The destination {alias} is no longer configured: erase the person "
            "there by hand, using the CRM id of this row."
        )
    try:
        backend = get_backend(alias)
    except CRMConfigurationError:
        return ""  # planned anyway: the misconfiguration shows on the row
    if not backend.supports_erasure:
        return (
            f"{type(backend).__name__} cannot erase people: erase the person at "
            f"{alias} by hand, using the CRM id of this row."
        )
    return ""


def _finish(erasure: Erasure, removed: Counter[str], asked: list[Delivery]) -> Erasure:
    erasure.removed = dict(sorted(removed.items()))
    erasure.destinations = sorted({delivery.backend_alias for delivery in asked})
    erasure.save(update_fields=["removed", "destinations"])
    close_if_done(erasure.pk)
    erasure.refresh_from_db()
    for delivery in asked:
        if delivery.status == DeliveryStatus.PENDING:
            # Where a lead was on its way, the erasure waits for that attempt.
            transaction.on_commit(
                partial(
                    enqueue_deliveries,
                    [delivery.pk],
                    run_after=delivery.lease_expires_at,
                )
            )
    logger.info(
        "Erasure %s: %s rows removed, %s destinations asked",
        erasure.pk,
        sum(removed.values()),
        len(erasure.destinations),
    )
    return erasure
