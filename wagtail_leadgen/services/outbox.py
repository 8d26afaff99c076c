"""Writing the transactional outbox and the operator actions on it (R20).

Delivery rows are written in the capture transaction, so the database is the
single source of truth; the task that hands each one to its backend is
enqueued in that transaction when the task queue lives in the same database,
once it commits otherwise (``tasks.enqueue_with_transaction``). A consent granted or withdrawn after
capture goes the same way (``propagate_consent_change``), as a delivery of
its own to each destination that has the person, and so does a correction
of their details (``propagate_rectification``). The worker side (claiming,
ordering, attempting, backoff) is ``wagtail_leadgen.worker``.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Sequence

from django.db import transaction
from django.utils import timezone

from ..conf import leadgen_settings
from ..crm import get_backend
from ..crm.base import CRMConfigurationError
from ..models.consent import ConsentDecision, ConsentPurpose, ConsentRecord
from ..models.delivery import Delivery, DeliveryKind, DeliveryStatus, PausedDestination
from ..models.leads import Lead, Submission
from ..models.rectification import Rectification
from ..tasks import (
    enqueue_after_capture,
    enqueue_deliveries,
    enqueue_with_transaction,
)
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
    *,
    enqueue: bool = True,
) -> list[Delivery]:
    """One pending delivery per destination the lead may go to (its consents
    decide, see ``crm.destination``), enqueued with the transaction
    (``tasks.enqueue_with_transaction``): one ``deliver_lead`` task for one
    delivery, one ``deliver_batch`` task (one task row) for several. Each
    delivery keeps its own attempts and retries either way, and one
    destination failing does not stop the next from being attempted.
    ``enqueue=False``: the caller enqueues them (the capture, with its
    confirmation email, ``tasks.enqueue_after_capture``)."""
    deliveries = Delivery.objects.bulk_create(
        [
            Delivery(
                submission=submission, lead_id=submission.lead_id, backend_alias=alias
            )
            for alias in allowed_destinations(aliases, granted)
        ]
    )
    if enqueue:
        ids = [delivery.pk for delivery in deliveries]
        enqueue_with_transaction(lambda: enqueue_after_capture(ids, None))
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


def applied_by_hand(delivery: Delivery) -> bool:
    """Record that staff applied a consent change, a correction or an erasure
    by hand where the destination could not (a "manual action needed"
    delivery); False for any other."""
    done = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.MANUAL).update(
        status=DeliveryStatus.DELIVERED,
        delivered_at=timezone.now(),
        last_error=(
            "Erased by hand at the destination."
            if delivery.kind == DeliveryKind.ERASURE
            else "Applied by hand (see the lead's history)."
        ),
    )
    delivery.refresh_from_db()
    return bool(done)


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


# -- Changes for a person destinations already have ---------------------------
def destinations_with_lead(lead: Lead) -> list[str]:
    """The destinations that have the person: a lead delivered there, or on
    its way (a change planned now is sent after it). A destination whose lead
    delivery failed never had the person, and hears of no change."""
    return sorted(
        set(
            Delivery.objects.filter(
                lead=lead,
                kind=DeliveryKind.LEAD,
                status__in=(DeliveryStatus.PENDING, DeliveryStatus.DELIVERED),
            ).values_list("backend_alias", flat=True)
        )
    )


def no_longer_configured(alias: str) -> str:
    """Why a change for a destination removed from the settings needs staff."""
    return (
        f"The destination {alias} is no longer configured: "
        "apply this change by hand where its leads went."
    )


# -- Consent changes after capture (R12, R13) ----------------------------------
# The decisions CRMs hear about: a consent now in force, or no longer. A
# pending consent was never sent as granted, so neither it nor its expiry
# changes anything at a CRM; a refusal never changes a state.
PROPAGATED_DECISIONS = (ConsentDecision.GRANTED, ConsentDecision.WITHDRAWN)


def _concerns(alias: str, purpose: ConsentPurpose) -> bool:
    """Whether the destination hears of this purpose (see ``Receives.concerns``)."""
    try:
        return get_backend(alias).receives.concerns(purpose.pk, purpose.name)
    except CRMConfigurationError:
        return True  # the misconfiguration shows on the delivery instead


def _change_deliveries(
    lead: Lead, records: Sequence[ConsentRecord], already_told: Collection[str] = ()
) -> list[Delivery]:
    """One consent-change delivery per record and destination that has the
    person (a lead delivered there, or on its way) and hears of the purpose.

    A destination no longer configured cannot be sent anything: its row is
    written "manual action needed" at once, so the change is not forgotten.
    """
    have_lead = [
        alias for alias in destinations_with_lead(lead) if alias not in already_told
    ]
    configured = set(leadgen_settings.configured_aliases())
    planned = []
    for record in records:
        for alias in have_lead:
            if alias not in configured:
                planned.append(
                    Delivery(
                        kind=DeliveryKind.CONSENT_CHANGE,
                        lead=lead,
                        consent_record=record,
                        backend_alias=alias,
                        status=DeliveryStatus.MANUAL,
                        last_error=no_longer_configured(alias),
                    )
                )
            elif _concerns(alias, record.purpose):
                planned.append(
                    Delivery(
                        kind=DeliveryKind.CONSENT_CHANGE,
                        lead=lead,
                        consent_record=record,
                        backend_alias=alias,
                    )
                )
    return planned


def _opened_deliveries(lead: Lead) -> list[Delivery]:
    """New lead deliveries to the destinations the person's consents now open
    (a partner webhook needing "Partner offers"), each with the latest
    submission whose page routes leads there. A destination the person was
    ever planned to is not planned again."""
    planned_before = set(
        Delivery.objects.filter(lead=lead, kind=DeliveryKind.LEAD).values_list(
            "backend_alias", flat=True
        )
    )
    routes: dict[str, Submission] = {}
    for submission in lead.submissions.filter(is_spam=False).select_related("page"):
        page = submission.page.specific if submission.page else None
        for alias in page.get_crm_destinations() if page is not None else ():
            if alias not in planned_before:
                routes.setdefault(alias, submission)
    if not routes:
        return []
    granted = [
        record.purpose
        for record in current_records(
            lead=lead, decision=ConsentDecision.GRANTED
        ).select_related("purpose")
    ]
    return [
        Delivery(submission=routes[alias], lead=lead, backend_alias=alias)
        for alias in allowed_destinations(list(routes), granted)
    ]


def propagate_consent_change(
    records: Iterable[ConsentRecord],
    *,
    already_told: Collection[str] = (),
    open_destinations: bool = True,
) -> list[Delivery]:
    """Hand consent changes (a confirmation, a withdrawal, a consent given
    again) to the CRMs, through the same outbox as new leads. Call it in the
    transaction that wrote the records; deliveries are enqueued on commit.

    - Every destination that has the person (a lead delivery, sent or still
      on its way) and hears of the purpose gets one consent-change delivery
      per record; the worker sends it after anything older for that person
      and destination, and marks it "manual action needed" where the
      destination cannot apply it.
    - A grant can open destinations the lead could not go to before (a
      partner webhook needing that consent): the lead is planned there now.

    Pending and expired consents, and refusals, are not propagated
    (``PROPAGATED_DECISIONS``). ``already_told``: destinations that learn of
    the change another way (the new lead delivery of the same capture);
    ``open_destinations=False`` leaves the opening of new destinations to
    the caller (the capture plans its own).
    """
    by_lead: dict[int, list[ConsentRecord]] = {}
    for record in records:
        if record.decision in PROPAGATED_DECISIONS:
            by_lead.setdefault(record.lead_id, []).append(record)
    planned: list[Delivery] = []
    for lead_records in by_lead.values():
        lead = lead_records[0].lead
        planned += _change_deliveries(lead, lead_records, already_told)
        if open_destinations and any(
            r.decision == ConsentDecision.GRANTED for r in lead_records
        ):
            planned += _opened_deliveries(lead)
    deliveries = Delivery.objects.bulk_create(planned)
    ids = [d.pk for d in deliveries if d.status == DeliveryStatus.PENDING]
    enqueue_with_transaction(lambda: enqueue_deliveries(ids))
    return deliveries


# -- Corrections (R15) -------------------------------------------------------------
def propagate_rectification(rectification: Rectification) -> list[Delivery]:
    """Hand a correction to every destination that has the person, through
    the same outbox: one delivery each, which the worker sends after
    anything older for that person there (``BaseCRMBackend.correct``). Call
    it in the transaction that wrote the correction.

    Destinations the lead never reached get nothing; a destination no longer
    configured gets a "manual action needed" row at once.
    """
    configured = set(leadgen_settings.configured_aliases())
    planned = []
    for alias in destinations_with_lead(rectification.lead):
        delivery = Delivery(
            kind=DeliveryKind.RECTIFICATION,
            lead_id=rectification.lead_id,
            rectification=rectification,
            backend_alias=alias,
        )
        if alias not in configured:
            delivery.status = DeliveryStatus.MANUAL
            delivery.last_error = no_longer_configured(alias)
        planned.append(delivery)
    deliveries = Delivery.objects.bulk_create(planned)
    ids = [d.pk for d in deliveries if d.status == DeliveryStatus.PENDING]
    transaction.on_commit(lambda: enqueue_deliveries(ids))
    return deliveries
