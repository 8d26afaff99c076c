"""The worker side of a call-back alert: the ``callback.requested`` event to
each alert destination, and the email to the sales address.

Run by ``worker.attempt`` for a delivery of kind ``CALLBACK`` (claimed ahead
of every ordinary delivery: see ``DeliveryPriority``), and by the
``send_callback_email`` task. Both read the request from the database at
send time, so a request erased meanwhile is never announced.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from .conf import leadgen_settings
from .crm.base import BaseCRMBackend, DeliveryResult, PermanentCRMError
from .lead_links import admin_url_for
from .models.callbacks import CallbackRequest
from .models.delivery import Delivery

logger = logging.getLogger("wagtail_leadgen.delivery")

EVENT = "callback.requested"


def _when(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def callback_data(callback: CallbackRequest) -> dict[str, Any]:
    """The ``data`` of a ``callback.requested`` event."""
    submission = callback.submission
    page = submission.page
    return {
        "callback_id": callback.pk,
        "submission_id": submission.pk,
        "email": callback.lead.email,
        "phone": callback.phone,
        "requested_at": _when(callback.requested_at),
        "slot_start": _when(callback.slot_start),
        "slot_end": _when(callback.slot_end),
        "sla_starts_at": _when(callback.sla_starts_at),
        "due_at": _when(callback.due_at),
        "page_title": page.title if page else "",
        "admin_url": admin_url_for(submission),
    }


def send_callback_event(backend: BaseCRMBackend, delivery: Delivery) -> DeliveryResult:
    """POST the signed event where the destination takes events (webhooks);
    a destination that cannot is a configuration the system check refuses,
    dead-lettered here rather than retried."""
    callback = delivery.callback
    if callback is None:
        raise ValueError(f"delivery {delivery.pk} has no call-back request")
    event_request = getattr(backend, "event_request", None)
    get_event = getattr(backend, "get_event", None)
    if event_request is None or get_event is None:
        raise PermanentCRMError(
            "this destination cannot receive call-back events (webhooks only)",
            backend=backend.alias,
        )
    key = str(delivery.idempotency_key)
    event = get_event(EVENT, key, callback.requested_at, callback_data(callback))
    response = backend.send(event_request(key, event))
    return DeliveryResult(detail=f"HTTP {response.status}")


def _inbox_url() -> str:
    try:
        path = reverse("wagtail_leadgen_callbacks:index")
    except NoReverseMatch:
        return ""
    base = getattr(settings, "WAGTAILADMIN_BASE_URL", "").rstrip("/")
    return f"{base}{path}"


def send_callback_email(callback_id: int) -> str:
    """Email the sales address; "sent", "no_one" (erased or already
    alerted) or "failed" (the task retries)."""
    address = leadgen_settings.callback["SALES_EMAIL"]
    callback = (
        CallbackRequest.objects.select_related("lead", "submission__page")
        .filter(pk=callback_id, alerted_at__isnull=True)
        .first()
    )
    if callback is None or not address:
        return "no_one"
    data = callback_data(callback)
    local = timezone.localtime(callback.due_at)
    lines = [
        f"Call back {callback.phone} ({callback.lead.email}).",
        f"Requested: {data['requested_at']}",
        f"Due by: {local:%Y-%m-%d %H:%M %Z}",
        f"Preferred window: {data['slot_start'] or 'as soon as possible'}"
        + (f" - {data['slot_end']}" if data["slot_end"] else ""),
        f"Page: {data['page_title']}",
        f"Lead: {data['admin_url']}",
    ]
    inbox = _inbox_url()
    if inbox:
        lines.append(f"Call-backs: {inbox}")
    message = EmailMessage(
        subject=f"Call back {callback.phone} by {local:%H:%M}",
        body="\n".join(lines) + "\n",
        from_email=leadgen_settings.EMAIL_FROM or settings.DEFAULT_FROM_EMAIL,
        to=[address],
        headers={"X-Priority": "1", "Importance": "high"},
    )
    try:
        message.send()
    except Exception as error:  # the type only: the message holds the number
        logger.warning(
            "Call-back alert %s could not be emailed (%s)",
            callback.pk,
            type(error).__name__,
        )
        return "failed"
    CallbackRequest.objects.filter(pk=callback.pk).update(alerted_at=timezone.now())
    logger.info("Call-back alert %s emailed", callback.pk)
    return "sent"
