"""Lead maturity: hot, warm or cold, computed from documented signals (R7).

A lead scores points for each signal below; the total, compared with two
thresholds, gives its level. Points and thresholds are the ``MATURITY`` setting
(defaults in ``conf.py``, reference in ``docs/leads-inbox.md``); a site can
replace the scoring altogether with ``MATURITY_CLASSIFIER``.

Signals (spam never counts):

- recency: days since the last contact coming from the person;
- submissions: how many forms the person sent;
- downloads: gated documents actually downloaded (a grant used at least once);
- opt-in: a marketing consent in force (granted, and confirmed where the
  purpose needs double opt-in; a pending one does not count);
- call-back: a phone number left in a form.

The level is stored on ``Lead.maturity`` so the inbox can filter and sort by
it. It is recomputed after each capture and, because recency decays with
time, by ``manage.py leadgen_classify`` (nightly).

Scoring people from their activity is profiling (GDPR Art. 4(4)): the
information notice says so while ``LEAD_SCORING`` is on (the default), and
with it off nothing is computed (``scoring_enabled``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..conf import leadgen_settings
from ..models.consent import ConsentDecision
from ..models.leads import DownloadGrant, Lead, Maturity, Submission
from .consent import current_records

logger = logging.getLogger("wagtail_leadgen")

Classifier = Callable[[Lead, "LeadSignals"], str]


@dataclass(frozen=True)
class LeadSignals:
    """What the classification knows about a lead; also given to a custom classifier."""

    days_since_contact: int
    submissions: int
    downloads: int
    opt_in: bool
    call_back: bool


def _count(queryset: QuerySet, group_by: str) -> Coalesce:
    """A correlated ``COUNT(*)`` subquery, 0 when nothing matches."""
    counted = (
        queryset.order_by().values(group_by).annotate(n=Count("pk")).values("n")[:1]
    )
    return Coalesce(Subquery(counted), 0)


def submission_count() -> Coalesce:
    """Annotation: how many forms the lead sent, spam left out."""
    return _count(Submission.objects.filter(lead=OuterRef("pk"), is_spam=False), "lead")


def annotate_signals(queryset: QuerySet[Lead]) -> QuerySet[Lead]:
    """Add the signals as annotations: one query for any number of leads."""
    submissions = Submission.objects.filter(lead=OuterRef("pk"), is_spam=False)
    downloads = DownloadGrant.objects.filter(
        submission__lead=OuterRef("pk"), submission__is_spam=False, uses__gt=0
    )
    return queryset.annotate(
        signal_submissions=submission_count(),
        signal_downloads=_count(downloads, "submission__lead"),
        signal_opt_in=Exists(
            current_records(
                lead=OuterRef("pk"),
                decision=ConsentDecision.GRANTED,
            )
        ),
        signal_call_back=Exists(submissions.filter(answers__has_key="phone")),
    )


def signals_of(lead: Any, *, now: datetime | None = None) -> LeadSignals:
    """The signals of a lead loaded through ``annotate_signals``.

    (Typed ``Any``: the type checker cannot see the annotations that
    ``annotate_signals`` adds to a ``Lead``.)"""
    elapsed = (now or timezone.now()) - lead.last_contact_at
    return LeadSignals(
        days_since_contact=max(elapsed.days, 0),
        submissions=lead.signal_submissions,
        downloads=lead.signal_downloads,
        opt_in=bool(lead.signal_opt_in),
        call_back=bool(lead.signal_call_back),
    )


def _first_step(steps: Iterable[tuple[int, int]], matches: Callable[[int], bool]):
    return next((points for bound, points in steps if matches(bound)), 0)


def score(signals: LeadSignals, config: dict | None = None) -> int:
    """The points a lead earns with the built-in scoring."""
    config = config or leadgen_settings.maturity
    points = _first_step(
        config["RECENCY_POINTS"], lambda days: signals.days_since_contact < days
    )
    points += _first_step(
        config["SUBMISSIONS_POINTS"], lambda count: signals.submissions >= count
    )
    points += config["DOWNLOAD_POINTS"] if signals.downloads else 0
    points += config["OPT_IN_POINTS"] if signals.opt_in else 0
    points += config["CALL_BACK_POINTS"] if signals.call_back else 0
    return points


def default_classifier(lead: Lead, signals: LeadSignals) -> str:
    """The built-in scoring: see the module docstring and ``docs/leads-inbox.md``."""
    return _scored_level(signals)


def _scored_level(signals: LeadSignals) -> str:
    """The built-in scoring reads the signals only, never the lead's row."""
    config = leadgen_settings.maturity
    if signals.days_since_contact >= config["COLD_AFTER_DAYS"]:
        return Maturity.COLD
    points = score(signals, config)
    if points >= config["HOT_AT"]:
        return Maturity.HOT
    if points >= config["WARM_AT"]:
        return Maturity.WARM
    return Maturity.COLD


def get_classifier() -> Classifier:
    """The function named by ``MATURITY_CLASSIFIER``, or the built-in scoring."""
    return leadgen_settings.maturity_classifier or default_classifier


def classify(lead: Lead, signals: LeadSignals) -> str:
    """The level the configured classifier gives; anything but a level is an error."""
    level = get_classifier()(lead, signals)
    if level not in Maturity.values:
        raise ValueError(
            f"The maturity classifier returned {level!r}; expected one of "
            + ", ".join(Maturity.values)
        )
    return str(level)


def scoring_enabled() -> bool:
    """Whether leads are scored at all (``LEAD_SCORING``)."""
    return bool(leadgen_settings.LEAD_SCORING)


def reclassify(lead: Lead, *, now: datetime | None = None) -> str:
    """Recompute one lead's level and store it if it changed; returns the level."""
    annotated = annotate_signals(Lead.objects.filter(pk=lead.pk)).get()
    level = classify(annotated, signals_of(annotated, now=now))
    if level != annotated.maturity:
        Lead.objects.filter(pk=lead.pk).update(maturity=level)
    lead.maturity = level
    return level


def reclassify_after_capture(lead: Lead) -> None:
    """Called by ``capture_lead``: a broken classifier must never lose a lead.

    The error is logged (without personal data) and the lead keeps its level
    until ``leadgen_classify``, which fails loudly, is run again. With
    ``LEAD_SCORING`` off, nothing is computed.
    """
    if not scoring_enabled():
        return
    try:
        with transaction.atomic():
            reclassify(lead)
    except Exception as exc:
        # The type only: a message or traceback could quote the lead's answers.
        logger.error(
            "Lead maturity could not be computed for lead %s: %s",
            lead.pk,
            type(exc).__name__,
        )


def _first_contact(*, answers: Mapping[str, str], opt_in: bool) -> LeadSignals:
    """A person seen for the first time: one form sent just now, nothing
    downloaded yet, a phone number if they left one, a consent in force if
    they gave one that needs no confirmation."""
    return LeadSignals(
        days_since_contact=0,
        submissions=1,
        downloads=0,
        opt_in=opt_in,
        call_back="phone" in answers,
    )


def level_before_insert(*, answers: Mapping[str, str], opt_in: bool) -> str | None:
    """A first-time person's level for the lead's own INSERT, so that no
    UPDATE follows it: only with the built-in scoring, which reads nothing
    but the signals. None with scoring off, with a site's own
    ``MATURITY_CLASSIFIER`` (it is given the lead, so it runs on the row once
    written, ``classify_new_lead``) or when the scoring fails (the lead is
    created cold and ``classify_new_lead`` logs the error)."""
    if not scoring_enabled() or get_classifier() is not default_classifier:
        return None
    try:
        return _scored_level(_first_contact(answers=answers, opt_in=opt_in))
    except Exception:  # classify_new_lead meets it again and logs it
        return None


def classify_new_lead(lead: Lead, *, answers: Mapping[str, str], opt_in: bool) -> None:
    """Called by ``capture_lead`` for a person seen for the first time: every
    signal is in memory (``_first_contact``), so nothing is read back; the
    level is written only when it differs from the one the lead was created
    with (``level_before_insert``: with the built-in scoring, it never does).
    Errors are handled as in ``reclassify_after_capture``."""
    if not scoring_enabled():
        return
    signals = _first_contact(answers=answers, opt_in=opt_in)
    try:
        level = classify(lead, signals)
    except Exception as exc:
        # The type only: a message or traceback could quote the lead's answers.
        logger.error(
            "Lead maturity could not be computed for lead %s: %s",
            lead.pk,
            type(exc).__name__,
        )
        return
    if level != lead.maturity:
        Lead.objects.filter(pk=lead.pk).update(maturity=level)
        lead.maturity = level


@dataclass
class ClassificationReport:
    """What ``reclassify_all`` did: leads per level, and how many changed."""

    levels: Counter = field(default_factory=Counter)
    changed: int = 0

    @property
    def total(self) -> int:
        return sum(self.levels.values())


def reclassify_all(
    *, now: datetime | None = None, batch_size: int = 1000
) -> ClassificationReport:
    """Recompute every lead's level, in batches; running it twice changes nothing.

    A lead contacted while the batch was computed keeps the level its capture
    gave it: only leads whose last contact is older than the batch are updated.
    With ``LEAD_SCORING`` off, nothing is computed (an empty report).
    """
    if not scoring_enabled():
        return ClassificationReport()
    leadgen_settings.maturity  # noqa: B018 -- fail before touching anything
    get_classifier()
    report = ClassificationReport()
    last_pk = 0
    while True:
        started = timezone.now()
        batch = list(
            annotate_signals(Lead.objects.filter(pk__gt=last_pk).order_by("pk"))[
                :batch_size
            ]
        )
        if not batch:
            return report
        changes: dict[str, list[int]] = {}
        for lead in batch:
            level = classify(lead, signals_of(lead, now=now or started))
            report.levels[level] += 1
            if level != lead.maturity:
                changes.setdefault(level, []).append(lead.pk)
        for level, pks in changes.items():
            report.changed += Lead.objects.filter(
                pk__in=pks, last_contact_at__lte=started
            ).update(maturity=level)
        last_pk = batch[-1].pk
