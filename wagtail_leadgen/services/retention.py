"""Retention (R16): how long each lead's data is kept, and what is due now.

Every period runs from the last contact coming from the person
(``Lead.last_contact_at``: a new form, a confirmation, a change on the
preferences page, a renewal; never an email we sent):

- each consent in force is kept for its purpose's ``retention_months``;
  once that is over, the consent lapses (``leadgen_purge`` records it);
- what was sent only to have a request answered (the e-book, the call back)
  is kept for the request processing's ``retention_months``
  (``DEFAULT_REQUEST_RETENTION_MONTHS`` for a form without one);
- a lead whose every period is over has nothing left to be kept for: it is
  erased.

This module only selects; ``services.purge`` acts, and ``services.renewal``
asks the person, before a consent lapses, whether to keep it.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Min

from ..conf import leadgen_settings
from ..models.consent import ConsentDecision, ConsentPurpose, ConsentRecord
from ..models.leads import Lead, Submission
from ..models.processing import RequestProcessing
from .consent import current_records

# A consent that holds data: in force, or awaiting its double opt-in.
HOLDING = (ConsentDecision.GRANTED, ConsentDecision.PENDING)


def months_before(moment: datetime, months: int) -> datetime:
    """``moment`` minus whole calendar months, the day clamped to the month's
    end (31 March minus one month is 28 or 29 February)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def months_after(moment: datetime, months: int) -> datetime:
    """``moment`` plus whole calendar months, the day clamped likewise."""
    return months_before(moment, -months)


def shortest_period() -> int:
    """The shortest retention of any purpose or request processing, in
    months: no lead whose last contact is more recent has anything due."""
    periods = [
        leadgen_settings.DEFAULT_REQUEST_RETENTION_MONTHS,
        ConsentPurpose.objects.aggregate(m=Min("retention_months"))["m"],
        RequestProcessing.objects.aggregate(m=Min("retention_months"))["m"],
    ]
    return min(period for period in periods if period is not None)


@dataclass
class LeadPeriods:
    """One lead's periods: the request's, and each consent holding data's
    (record id → its purpose's retention, in months)."""

    lead_id: int
    last_contact_at: datetime
    request_months: int = 0
    consents: dict[int, int] = field(default_factory=dict)

    def kept_until(self) -> datetime:
        """When the last of its periods ends: the lead goes then."""
        longest = max([self.request_months, *self.consents.values()])
        return months_after(self.last_contact_at, longest)

    def lapsed(self, now: datetime) -> list[int]:
        """The consent records whose purpose's period is over."""
        return [
            pk
            for pk, months in self.consents.items()
            if months_after(self.last_contact_at, months) <= now
        ]


@dataclass(frozen=True)
class DueBatch:
    """What is due among one batch of leads: leads to erase, consents to lapse."""

    erase: list[int]
    lapse: list[ConsentRecord]


def periods_of(lead_ids: list[int]) -> dict[int, LeadPeriods]:
    """The periods of these leads, in three queries whatever their number
    (plain values: a purge reads thousands of them)."""
    periods = {
        pk: LeadPeriods(lead_id=pk, last_contact_at=last)
        for pk, last in Lead.objects.filter(pk__in=lead_ids).values_list(
            "pk", "last_contact_at"
        )
    }
    default = leadgen_settings.DEFAULT_REQUEST_RETENTION_MONTHS
    for lead_id, months in (
        Submission.objects.filter(lead_id__in=lead_ids, is_spam=False)
        .values_list("lead_id", "request_processing__retention_months")
        .distinct()
    ):
        entry = periods[lead_id]
        entry.request_months = max(entry.request_months, months or default)
    holding = current_records(lead_id__in=lead_ids).filter(decision__in=HOLDING)
    for pk, lead_id, months in holding.values_list(
        "pk", "lead_id", "purpose__retention_months"
    ):
        periods[lead_id].consents[pk] = months
    return periods


def due_in(lead_ids: list[int], now: datetime) -> DueBatch:
    """Among these leads: those to erase (every period over) and, for the
    others, the consents that lapse."""
    erase: list[int] = []
    lapse: list[int] = []
    for entry in periods_of(lead_ids).values():
        if entry.kept_until() <= now:
            erase.append(entry.lead_id)
        else:
            lapse += entry.lapsed(now)
    records = ConsentRecord.objects.filter(pk__in=lapse).select_related(
        "purpose", "lead"
    )
    return DueBatch(erase=erase, lapse=list(records.order_by("pk")))


def due_batches(now: datetime, batch_size: int) -> Iterator[DueBatch]:
    """What is due, batch after batch of candidate leads (in id order).

    The next batch is read after the caller handled the previous one, so a
    caller that erases as it goes never reads a lead twice."""
    cutoff = months_before(now, shortest_period())
    candidates = Lead.objects.filter(last_contact_at__lte=cutoff).order_by("pk")
    after = 0
    while True:
        ids = list(
            candidates.filter(pk__gt=after).values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return
        after = ids[-1]
        yield due_in(ids, now)


def spam_cutoff(now: datetime) -> datetime:
    """Quarantined spam older than this is deleted."""
    return now - timedelta(days=leadgen_settings.SPAM_RETENTION_DAYS)
