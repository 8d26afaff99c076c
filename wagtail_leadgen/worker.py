"""The worker side of the outbox: claim due deliveries, attempt them, record the outcome.

At-least-once: a delivery is claimed with a lease, attempted, then marked.
A worker that dies between the CRM's answer and the mark leaves the lease to
expire; the delivery is attempted again with the same idempotency key, so the
CRM can recognise the repeat.

Four kinds of deliveries: a new lead (``deliver``); for a person the
destination already has, a consent change (``update``) or a correction of
their details (``correct``); and an erasure (``erase``, in
``erasure_worker``). A change waits, unclaimed and without an attempt
counted, while an older delivery for the same person and destination is
pending, so a withdrawal or a correction never overtakes the lead or an
earlier change. A destination that cannot apply a change itself gets the
delivery marked "manual action needed", never retried.

This sits below the services and above the CRM backends: the delivery task
(``tasks.py``) and ``manage.py leadgen_deliver`` run it, and it never enqueues
anything itself, so the outbox -> task -> worker chain has no cycle.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable
from dataclasses import replace
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from .callback_worker import send_callback_event
from .conf import leadgen_settings
from .correction_worker import send_correction
from .crm import get_backend
from .crm.base import (
    BaseCRMBackend,
    ConsentItem,
    CRMConfigurationError,
    CRMError,
    DeliveryResult,
    DestinationGone,
    LeadPayload,
    ManualActionNeeded,
    PermanentCRMError,
    RequestItem,
    TransientCRMError,
    UnsupportedFeature,
)
from .erasure_worker import close_if_done, ending_fields, overtaken, send_erasure
from .lead_links import admin_url_for
from .models.consent import STATE_DECISIONS, ConsentDecision, ConsentRecord
from .models.delivery import (
    FOLLOW_UP_KINDS,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    PausedDestination,
)
from .models.leads import Submission
from .models.rectification import answers_as_corrected

logger = logging.getLogger("wagtail_leadgen.delivery")


# -- Claiming -----------------------------------------------------------------
def _claimable(now) -> Q:
    return Q(status=DeliveryStatus.PENDING) & (
        Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now)
    )


def _older_pending() -> Exists:
    """An older delivery, still pending, for the same person and destination."""
    return Exists(
        Delivery.objects.filter(
            lead=OuterRef("lead"),
            backend_alias=OuterRef("backend_alias"),
            status=DeliveryStatus.PENDING,
            pk__lt=OuterRef("pk"),
        )
    )


def _runnable(now, *, ignore_backoff: bool):
    """Pending, unclaimed (or claim expired), due, not for a paused destination,
    and, for a change (``FOLLOW_UP_KINDS``), nothing older for that person and
    destination still pending (it waits without an attempt being counted)."""
    queryset = (
        Delivery.objects.filter(_claimable(now))
        .exclude(backend_alias__in=PausedDestination.objects.values("backend_alias"))
        .exclude(_older_pending(), kind__in=FOLLOW_UP_KINDS)
    )
    return queryset if ignore_backoff else queryset.filter(next_attempt_at__lte=now)


def _take(queryset, delivery_id: int, now) -> bool:
    """Atomically take one delivery: exactly one worker wins the conditional update."""
    lease = now + timedelta(seconds=leadgen_settings.DELIVERY_LEASE_SECONDS)
    return bool(
        queryset.filter(_claimable(now), pk=delivery_id).update(
            lease_expires_at=lease, attempts=F("attempts") + 1
        )
    )


def claim(delivery_id: int, *, ignore_backoff: bool = False) -> Delivery | None:
    """Claim one delivery if it is runnable; None if another worker has it or it is not due."""
    now = timezone.now()
    if not _take(_runnable(now, ignore_backoff=ignore_backoff), delivery_id, now):
        return None
    return Delivery.objects.select_related(
        "submission", "consent_record__purpose", "rectification", "callback__lead"
    ).get(pk=delivery_id)


def claim_due(
    *, limit: int = 100, ignore_backoff: bool = False, exclude: Iterable[int] = ()
) -> list[Delivery]:
    """Claim up to ``limit`` due deliveries; safe with several workers at once.

    On PostgreSQL rows are locked with ``SKIP LOCKED`` so workers split the
    work instead of queueing on each other; everywhere, the conditional
    update in ``_take`` guarantees that one delivery has one owner.
    """
    now = timezone.now()
    runnable = _runnable(now, ignore_backoff=ignore_backoff)
    # A call-back alert (high priority) first, whatever the backlog.
    queryset = runnable.exclude(pk__in=list(exclude)).order_by(
        "-priority", "next_attempt_at", "pk"
    )
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            queryset = queryset.select_for_update(skip_locked=True, of=("self",))
        ids = list(queryset.values_list("pk", flat=True)[:limit])
        taken = [pk for pk in ids if _take(runnable, pk, now)]
    return list(
        Delivery.objects.select_related(
            "submission", "consent_record__purpose", "rectification"
        ).filter(pk__in=taken)
    )


# -- Attempting ---------------------------------------------------------------
def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Capped exponential backoff with full jitter, never sooner than Retry-After."""
    cap = leadgen_settings.DELIVERY_BACKOFF_CAP
    ceiling = min(
        cap, leadgen_settings.DELIVERY_BACKOFF_BASE * 2 ** max(0, attempts - 1)
    )
    delay = random.uniform(ceiling / 2, ceiling)
    if retry_after is not None:
        delay = max(delay, min(retry_after, cap))
    return delay


def waiting_behind(delivery: Delivery) -> list[int]:
    """The changes that waited for ``delivery`` (same person and destination,
    newer, pending): due once it is no longer pending."""
    if delivery.lead_id is None:
        return []
    return list(
        Delivery.objects.filter(
            lead_id=delivery.lead_id,
            backend_alias=delivery.backend_alias,
            kind__in=FOLLOW_UP_KINDS,
            status=DeliveryStatus.PENDING,
            pk__gt=delivery.pk,
        ).values_list("pk", flat=True)
    )


def consent_item(record: ConsentRecord) -> ConsentItem:
    return ConsentItem(
        purpose_id=record.purpose_id,
        purpose_name=record.purpose.name,
        legal_basis=record.purpose.legal_basis,
        granted=record.granted,
        wording=record.wording,
        wording_sha256=record.wording_sha256,
        version=record.purpose_revision_id,
        decided_at=record.created_at,
        decision=record.decision,
    )


def _consents(submission: Submission) -> tuple[ConsentItem, ...]:
    """For each purpose the submission showed, the consent in force now (a
    confirmation or a withdrawal since then counts), else what was answered;
    then the consents in force the person gave elsewhere (e.g. on their
    preferences page), which may be why the lead goes to this destination."""
    shown = list(submission.consent_records.select_related("purpose").order_by("pk"))
    in_force: dict[int, ConsentRecord] = {}
    for record in (
        ConsentRecord.objects.filter(lead=submission.lead, decision__in=STATE_DECISIONS)
        .select_related("purpose")
        .order_by("-created_at", "-pk")
    ):
        in_force.setdefault(record.purpose_id, record)
    shown_ids = {record.purpose_id for record in shown}
    granted_elsewhere = [
        record
        for purpose_id, record in sorted(in_force.items())
        if purpose_id not in shown_ids and record.decision == ConsentDecision.GRANTED
    ]
    return tuple(
        consent_item(in_force.get(record.purpose_id, record)) for record in shown
    ) + tuple(consent_item(record) for record in granted_elsewhere)


def _request(submission: Submission) -> RequestItem | None:
    processing = submission.request_processing
    if processing is None:
        return None
    return RequestItem(
        name=processing.name,
        legal_basis=processing.legal_basis,
        legitimate_interest=processing.legitimate_interest,
        wording=submission.request_wording,
        wording_sha256=submission.request_wording_sha256,
        version=submission.request_revision_id,
    )


def _in_force_at(change: ConsentRecord) -> tuple[ConsentItem, ...]:
    """The consent in force for each purpose the person decided on, as the
    change left it (later decisions have deliveries of their own)."""
    in_force: dict[int, ConsentRecord] = {}
    for record in (
        ConsentRecord.objects.filter(
            lead_id=change.lead_id, decision__in=STATE_DECISIONS, pk__lte=change.pk
        )
        .select_related("purpose")
        .order_by("-created_at", "-pk")
    ):
        in_force.setdefault(record.purpose_id, record)
    in_force[change.purpose_id] = change
    return tuple(consent_item(in_force[pk]) for pk in sorted(in_force))


def _received_submission(lead_id: int, alias: str) -> Submission | None:
    """The submission this destination received for the person: its latest
    lead delivered there (else on its way), else their latest submission."""
    leads = Delivery.objects.filter(
        lead_id=lead_id,
        backend_alias=alias,
        kind=DeliveryKind.LEAD,
        submission__isnull=False,
    ).select_related("submission__page", "submission__request_processing")
    for status in (DeliveryStatus.DELIVERED, DeliveryStatus.PENDING):
        found = leads.filter(status=status).order_by("-pk").first()
        if found is not None:
            return found.submission
    return (
        Submission.objects.filter(lead_id=lead_id, is_spam=False)
        .select_related("page", "request_processing")
        .first()
    )


def build_change_payload(delivery: Delivery) -> LeadPayload:
    """The payload of a consent change, read from the database at send time:
    the person, the submission the destination received, the change, and the
    consent in force for each purpose as the change left it. No answers."""
    record = delivery.consent_record
    submission = (
        _received_submission(delivery.lead_id, delivery.backend_alias)
        if delivery.lead_id is not None
        else None
    )
    if record is None or submission is None or submission.lead is None:
        raise ValueError(f"delivery {delivery.pk} has no consent change of a lead")
    page = submission.page
    return LeadPayload(
        idempotency_key=str(delivery.idempotency_key),
        delivery_id=delivery.pk,
        submission_id=submission.pk,
        submitted_at=submission.created_at,
        email=submission.lead.email,
        answers={},
        consents=_in_force_at(record),
        page_id=submission.page_id,
        page_title=page.title if page else "",
        page_url=(page.full_url or "") if page else "",
        language=submission.language,
        admin_url=admin_url_for(submission),
        request=_request(submission),
        change=consent_item(record),
    )


def build_payload(delivery: Delivery) -> LeadPayload:
    """The normalised payload of a new lead or a consent change, read from the
    database at send time. A lead carries the corrections made since it was
    submitted (``answers_as_corrected``)."""
    if delivery.kind == DeliveryKind.CONSENT_CHANGE:
        return build_change_payload(delivery)
    submission = delivery.submission
    if submission is None or submission.lead is None:
        raise ValueError(f"delivery {delivery.pk} has no submission of a lead")
    page = submission.page
    return LeadPayload(
        idempotency_key=str(delivery.idempotency_key),
        delivery_id=delivery.pk,
        submission_id=submission.pk,
        submitted_at=submission.created_at,
        email=submission.lead.email,
        answers=answers_as_corrected(submission),
        consents=_consents(submission),
        page_id=submission.page_id,
        page_title=page.title if page else "",
        page_url=(page.full_url or "") if page else "",
        language=submission.language,
        utm={
            key: getattr(submission, key)
            for key in (
                "utm_source",
                "utm_medium",
                "utm_campaign",
                "utm_term",
                "utm_content",
            )
            if getattr(submission, key)
        },
        referrer=submission.referrer,
        admin_url=admin_url_for(submission),
        request=_request(submission),
    )


def _describe(error: CRMError) -> str:
    """What admins see: the error class and the backend's own words, no payload."""
    return f"{type(error).__name__}: {error}"[:500]


def for_destination(backend: BaseCRMBackend, payload: LeadPayload) -> LeadPayload:
    """The payload as this destination may see it: a destination that
    receives only some purposes hears only of those consents."""
    if backend.receives.request:
        return payload
    return replace(
        payload,
        consents=tuple(
            consent
            for consent in payload.consents
            if backend.receives.concerns(consent.purpose_id, consent.purpose_name)
        ),
    )


def _send(backend: BaseCRMBackend, delivery: Delivery) -> DeliveryResult:
    """Hand a lead over, or apply a change: ``update`` or ``correct`` where
    the destination can, ``ManualActionNeeded`` where staff must; or ask it to
    erase a person."""
    if delivery.kind == DeliveryKind.ERASURE:
        return send_erasure(backend, delivery)
    if delivery.kind == DeliveryKind.RECTIFICATION:
        return send_correction(backend, delivery)
    if delivery.kind == DeliveryKind.CALLBACK:
        return send_callback_event(backend, delivery)
    payload = for_destination(backend, build_payload(delivery))
    if payload.change is None:
        return backend.deliver(payload)
    if not backend.needs_update(payload.change):
        return DeliveryResult(detail="nothing to change at this destination")
    try:
        backend.require_feature("update")
    except UnsupportedFeature as unsupported:
        raise ManualActionNeeded(str(unsupported), backend=backend.alias) from None
    return backend.update(payload)


def attempt(delivery: Delivery) -> Delivery:
    """Send a claimed delivery once and record the outcome on its row.

    Configuration errors are not caught: they propagate to the worker (and
    ``manage.py check`` reports them); the lease then expires and nothing is
    lost. A consent change the destination cannot apply is marked "manual
    action needed" with the reason, and never retried. Any other unexpected
    exception in a backend counts as a transient failure, so it shows in the
    admin and ends as ``failed`` instead of stalling silently.
    """
    backend = get_backend(delivery.backend_alias)
    now = timezone.now()
    try:
        result = _send(backend, delivery)
    except CRMConfigurationError:
        raise
    except ManualActionNeeded as manual:
        logger.info("Delivery %s needs manual action", delivery.pk)
        return _record(
            delivery,
            refused=True,
            status=DeliveryStatus.MANUAL,
            last_error=str(manual)[:500],
            last_status_code=manual.status,
        )
    except CRMError as crm_error:
        error = crm_error
    except Exception as exc:
        # The type only: a backend's message or traceback can quote the lead.
        logger.error(
            "Backend %s crashed on delivery %s: %s",
            delivery.backend_alias,
            delivery.pk,
            type(exc).__name__,
        )
        error = TransientCRMError(f"unexpected {type(exc).__name__} in the backend")
    else:
        return _record(
            delivery,
            status=DeliveryStatus.DELIVERED,
            delivered_at=now,
            remote_id=result.remote_id[:255],
            last_error="",
            last_status_code=None,
        )

    if isinstance(error, DestinationGone):
        PausedDestination.objects.get_or_create(
            backend_alias=delivery.backend_alias, defaults={"reason": _describe(error)}
        )
        logger.warning(
            "Destination %s answered 410 and is paused", delivery.backend_alias
        )
        return _record(delivery, next_attempt_at=now, error=error)
    if isinstance(error, PermanentCRMError):
        logger.warning(
            "Delivery %s dead-lettered: %s", delivery.pk, type(error).__name__
        )
        return _record(delivery, status=DeliveryStatus.FAILED, error=error)
    if delivery.attempts >= leadgen_settings.DELIVERY_MAX_ATTEMPTS:
        logger.warning(
            "Delivery %s failed after %s attempts", delivery.pk, delivery.attempts
        )
        return _record(delivery, status=DeliveryStatus.FAILED, error=error)
    delay = backoff_seconds(delivery.attempts, error.retry_after)
    return _record(
        delivery, next_attempt_at=now + timedelta(seconds=delay), error=error
    )


def _record(
    delivery: Delivery,
    *,
    error: CRMError | None = None,
    refused: bool = False,
    **fields,
) -> Delivery:
    """Write the outcome, unless the row was erased or taken over by an
    erasure meanwhile (then nothing of the lead is written back)."""
    if error is not None:
        fields.update(last_error=_describe(error), last_status_code=error.status)
    fields["lease_expires_at"] = None
    fields.update(ending_fields(delivery, fields))
    if not Delivery.objects.filter(pk=delivery.pk, kind=delivery.kind).update(**fields):
        return overtaken(
            delivery, refused=refused or isinstance(error, PermanentCRMError)
        )
    delivery.refresh_from_db()
    close_if_done(delivery.erasure_id)
    return delivery
