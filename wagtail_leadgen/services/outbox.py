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
from ..models.consent import (
    STATE_DECISIONS,
    ConsentDecision,
    ConsentPurpose,
    ConsentRecord,
)
from ..models.delivery import Delivery, DeliveryKind, DeliveryStatus, PausedDestination
from ..models.leads import Submission
from ..tasks import enqueue_deliveries
from .consent import current_records

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


# -- Consent changes after capture (R12, R13) ----------------------------------
def propagate_consent_change(records: Iterable[ConsentRecord]) -> list[Delivery]:
    """Hand consent changes (a confirmation, a withdrawal, a consent given
    again) to the CRMs, through the same outbox as new leads.

    - Every destination that has the lead (a lead delivery, sent or still on
      its way) gets one consent-change delivery per record, sent after the
      lead itself (the worker keeps the order).
    - A grant can open destinations the lead could not go to before (a
      partner webhook needing that consent): the person's latest submission
      is planned there now, as a new lead.
    """
    records = [r for r in records if r.decision in STATE_DECISIONS]
    if not records:
        return []
    lead = records[0].lead
    have_lead = set(
        Delivery.objects.filter(lead=lead, kind=DeliveryKind.LEAD).values_list(
            "backend_alias", flat=True
        )
    )
    planned = [
        Delivery(
            kind=DeliveryKind.CONSENT_CHANGE,
            lead=lead,
            consent_record=record,
            backend_alias=alias,
        )
        for record in records
        for alias in sorted(have_lead)
    ]
    latest = lead.submissions.filter(is_spam=False).select_related("page").first()
    page = latest.page.specific if latest is not None and latest.page else None
    if page is not None and any(r.decision == ConsentDecision.GRANTED for r in records):
        granted = [
            record.purpose
            for record in current_records(
                lead=lead, decision=ConsentDecision.GRANTED
            ).select_related("purpose")
        ]
        aliases = [
            alias for alias in page.get_crm_destinations() if alias not in have_lead
        ]
        planned += [
            Delivery(submission=latest, lead=lead, backend_alias=alias)
            for alias in allowed_destinations(aliases, granted)
        ]
    deliveries = Delivery.objects.bulk_create(planned)
    ids = [delivery.pk for delivery in deliveries]
    transaction.on_commit(lambda: enqueue_deliveries(ids))
    return deliveries
