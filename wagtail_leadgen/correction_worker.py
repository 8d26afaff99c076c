"""The worker side of a correction (R15): its payload, read from the
database at send time, and whether a destination applies it itself, asks
staff to, or has nothing to correct.

Run by ``worker.attempt`` for a delivery of kind ``RECTIFICATION``, which
waits, like a consent change, until nothing older for that person and
destination is pending; the worker records the outcome.
"""

from __future__ import annotations

from .crm.base import (
    BaseCRMBackend,
    CorrectionItem,
    DeliveryResult,
    LeadPayload,
    ManualActionNeeded,
    UnsupportedFeature,
)
from .lead_links import admin_url_for
from .models.delivery import Delivery, DeliveryKind, DeliveryStatus


def build_correction_payload(delivery: Delivery) -> LeadPayload | None:
    """The person, the submission this destination received, and the
    corrected answers. None when no lead of the person was delivered there
    (its delivery failed after the correction was planned): nothing to correct."""
    rectification = delivery.rectification
    if rectification is None:
        raise ValueError(f"delivery {delivery.pk} has no correction")
    received = (
        Delivery.objects.filter(
            lead_id=rectification.lead_id,
            backend_alias=delivery.backend_alias,
            kind=DeliveryKind.LEAD,
            status=DeliveryStatus.DELIVERED,
            submission__lead__isnull=False,
        )
        .select_related("submission__lead", "submission__page")
        .order_by("-pk")
        .first()
    )
    if received is None or received.submission is None:
        return None
    submission = received.submission
    page = submission.page
    return LeadPayload(
        idempotency_key=str(delivery.idempotency_key),
        delivery_id=delivery.pk,
        submission_id=submission.pk,
        submitted_at=submission.created_at,
        email=str(submission.lead),
        answers={},
        consents=(),
        page_id=submission.page_id,
        page_title=page.title if page else "",
        page_url=(page.full_url or "") if page else "",
        language=submission.language,
        admin_url=admin_url_for(submission),
        correction=CorrectionItem(
            values=dict(rectification.values),
            corrected_at=rectification.created_at,
        ),
    )


def send_correction(backend: BaseCRMBackend, delivery: Delivery) -> DeliveryResult:
    """``correct`` where the destination can; ``ManualActionNeeded`` where
    staff must; nothing sent where it never received the lead or any of the
    corrected answers."""
    payload = build_correction_payload(delivery)
    if payload is None:
        return DeliveryResult(detail="the lead never reached this destination")
    assert payload.correction is not None  # built with it
    if not backend.needs_correction(list(payload.correction.values)):
        return DeliveryResult(detail="nothing to correct at this destination")
    try:
        backend.require_feature("correction")
    except UnsupportedFeature as unsupported:
        raise ManualActionNeeded(str(unsupported), backend=backend.alias) from None
    return backend.correct(payload)
