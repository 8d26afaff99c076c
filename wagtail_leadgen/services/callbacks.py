"""Call-back requests: recorded with their submission, announced at once,
marked called from the leads inbox, measured against the SLA.

``callback_recorder`` gives the capture of a call-back form the step that
runs ``record_callback`` inside its transaction (the form's intake and a
release from quarantine alike), so a request is stored with its lead,
consents and alerts, or not at all.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..business_hours import sla_start
from ..callback_forms import CallbackDetails, CallbackForm
from ..cleaning import clean_metadata
from ..conf import leadgen_settings
from ..forms import LeadForm
from ..models.callbacks import CallbackOutcome, CallbackRequest
from ..models.delivery import Delivery, DeliveryKind, DeliveryPriority
from ..models.leads import Lead, Submission
from ..tasks import enqueue_callback_alerts, enqueue_with_transaction


def clock_start(details: CallbackDetails, requested_at: dt.datetime) -> dt.datetime:
    """When the SLA clock starts: the chosen window's start, or the request
    itself during business hours, or the next opening outside them."""
    if details.slot_start is not None:
        return details.slot_start
    return sla_start(leadgen_settings.callback["hours"], requested_at)


def callback_recorder(form: LeadForm) -> Callable[[Submission], object] | None:
    """What the capture of a valid ``form`` also stores (``capture_lead``'s
    ``also``): a call-back form's request; nothing for any other form."""
    if not isinstance(form, CallbackForm):
        return None
    details = form.callback_details()
    return lambda submission: record_callback(submission, details)


def record_callback(
    submission: Submission, details: CallbackDetails
) -> CallbackRequest:
    """Store the request and plan its alerts (a ``callback.requested`` event
    to each alert destination and the sales email), enqueued ahead of every
    other task with the transaction."""
    section = leadgen_settings.callback
    if submission.lead_id is None:
        raise ValueError("a call-back request needs the submission of a lead")
    requested_at = submission.created_at or timezone.now()
    start = clock_start(details, requested_at)
    callback = CallbackRequest.objects.create(
        submission=submission,
        lead_id=submission.lead_id,
        phone=details.phone,
        requested_at=requested_at,
        slot_start=details.slot_start,
        slot_end=details.slot_end,
        sla_starts_at=start,
        due_at=start + dt.timedelta(minutes=section["SLA_MINUTES"]),
    )
    deliveries = Delivery.objects.bulk_create(
        [
            Delivery(
                kind=DeliveryKind.CALLBACK,
                callback=callback,
                lead_id=submission.lead_id,
                backend_alias=alias,
                priority=DeliveryPriority.HIGH,
            )
            for alias in section["ALERT_DESTINATIONS"]
        ]
    )
    ids = [delivery.pk for delivery in deliveries]
    enqueue_with_transaction(lambda: enqueue_callback_alerts(callback.pk, ids))
    return callback


@transaction.atomic
def mark_called(
    callback: CallbackRequest,
    *,
    user: Any,
    outcome: str,
    notes: str = "",
    when: dt.datetime | None = None,
) -> bool:
    """Record a call: the first one sets ``first_called_at`` and who called;
    a later one updates the outcome and notes. False for an unknown outcome."""
    if outcome not in CallbackOutcome.values:
        return False
    when = when or timezone.now()
    locked = CallbackRequest.objects.select_for_update().get(pk=callback.pk)
    if locked.first_called_at is None:
        locked.first_called_at = when
        locked.called_by = user if user is not None and user.pk else None
    locked.outcome = outcome
    notes = clean_metadata(notes, 2000, multiline=True)  # no NUL or control characters
    if notes:
        locked.notes = notes
    locked.save(update_fields=["first_called_at", "called_by", "outcome", "notes"])
    callback.refresh_from_db()
    return True


# -- The leads inbox's filter ---------------------------------------------------------
class CallbackState(models.TextChoices):
    WAITING = "waiting", _("To call")
    ANY = "any", _("Asked to be called")


def filter_by_callback(queryset: QuerySet[Lead], state: str) -> QuerySet[Lead]:
    """Leads with a request still to call, or with any call-back request."""
    requests = CallbackRequest.objects.filter(lead=OuterRef("pk"))
    if state == CallbackState.WAITING:
        requests = requests.filter(first_called_at__isnull=True)
    return queryset.filter(Exists(requests))


# -- The SLA badge ----------------------------------------------------------------
@dataclass(frozen=True)
class SlaBadge:
    """``state``: "due" (time left), "late" (overdue, not called),
    "met" / "missed" (called in time / late); ``minutes`` is the absolute gap."""

    state: str
    minutes: int


def sla_badge(callback: CallbackRequest, now: dt.datetime | None = None) -> SlaBadge:
    delta = callback.sla_delta(now)
    minutes = math.ceil(abs(delta.total_seconds()) / 60)
    if callback.first_called_at is not None:
        return SlaBadge("met" if delta >= dt.timedelta(0) else "missed", minutes)
    return SlaBadge("due" if delta >= dt.timedelta(0) else "late", minutes)


# -- Time to first call, per week ---------------------------------------------------
@dataclass(frozen=True)
class WeekFigures:
    week: dt.date  # the Monday
    requests: int
    called: int
    median_minutes: float | None
    p90_minutes: float | None
    within_target: float | None  # share of called requests within the SLA


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` in 0..1) of sorted values."""
    if not values:
        return None
    rank = max(1, math.ceil(share * len(values)))
    return values[rank - 1]


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    middle = len(values) // 2
    if len(values) % 2:
        return values[middle]
    return (values[middle - 1] + values[middle]) / 2


def weekly_figures(
    callbacks: Iterable[CallbackRequest], *, target_minutes: int | None = None
) -> list[WeekFigures]:
    """Median and 90th percentile minutes to the first call, and the share
    called within the target, per week of the clock's start (Monday first)."""
    target = target_minutes or leadgen_settings.callback["SLA_MINUTES"]
    weeks: dict[dt.date, list[CallbackRequest]] = {}
    for callback in callbacks:
        day = timezone.localtime(callback.sla_starts_at).date()
        weeks.setdefault(day - dt.timedelta(days=day.weekday()), []).append(callback)
    figures = []
    for week in sorted(weeks):
        items = weeks[week]
        minutes = sorted(
            delay.total_seconds() / 60
            for delay in (c.time_to_first_call() for c in items)
            if delay is not None
        )
        within = sum(1 for value in minutes if value <= target)
        figures.append(
            WeekFigures(
                week=week,
                requests=len(items),
                called=len(minutes),
                median_minutes=median(minutes),
                p90_minutes=percentile(minutes, 0.9),
                within_target=within / len(minutes) if minutes else None,
            )
        )
    return figures


def figures_between(first_day: dt.date, last_day: dt.date) -> list[WeekFigures]:
    """``weekly_figures`` of the requests whose clock started on these days
    (local dates, both included)."""
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(first_day, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return weekly_figures(
        CallbackRequest.objects.filter(
            sla_starts_at__gte=start, sla_starts_at__lt=end
        ).only("sla_starts_at", "first_called_at")
    )
