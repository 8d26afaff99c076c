"""Counting an A/B test's views and submissions per variant.

Views follow the page views' rules (``tracking.is_countable``: no bots, no
prefetch, no HEAD, no editors) and their path: a counter in the default
cache, no SQL on the request, flushed in batches into ``ExperimentDay``
(by a task enqueued at most once a minute, ``leadgen_flush_counters`` and
the dashboard). A submission is attributed when it is captured, from the
variant its signed form token names: one upsert. See docs/ab-testing.md.
"""

from __future__ import annotations

import contextlib
import datetime
import logging

from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Q
from django.http import HttpRequest
from django.utils import timezone
from django_tasks import task

from ..conf import leadgen_settings
from ..models.experiments import Experiment, ExperimentDay, ExperimentStatus
from .days import site_today
from .tracking import COUNTER_DAYS, incr_counter, is_countable, schedule_flush_once

logger = logging.getLogger("wagtail_leadgen.metrics")

_PREFIX = "wagtail_leadgen:variant-views"
_FLUSH_LOCK = f"{_PREFIX}:flushing"
_FLUSH_SCHEDULED = f"{_PREFIX}:flush-scheduled"


def _key(test_id: int, variant: str, day: datetime.date) -> str:
    return f"{_PREFIX}:{day.isoformat()}:{test_id}:{variant}"


def record_variant_view(test_id: int, variant: str) -> bool:
    """One view of a variant today, in the cache (no SQL); True if counted."""
    try:
        incr_counter(_key(test_id, variant, site_today()))
    except Exception:  # noqa: BLE001 -- a cache outage must never break the page
        logger.warning("Variant view not counted: cache error")
        return False
    _schedule_flush()
    return True


def count_variant_view(request: HttpRequest, test_id: int, variant: str) -> bool:
    """Count a view of a test's variant if the request is a person's."""
    if not leadgen_settings.COUNT_PAGE_VIEWS or not is_countable(request):
        return False
    return record_variant_view(test_id, variant)


def _counted_tests() -> dict[int, list[str]]:
    """The arms of the tests that may have views in the cache: running, or
    stopped within the counters' lifetime."""
    since = timezone.now() - datetime.timedelta(days=COUNTER_DAYS)
    tests = Experiment.objects.filter(
        Q(status=ExperimentStatus.RUNNING) | Q(stopped_at__gte=since)
    ).prefetch_related("variants")
    return {test.pk: [key for key, _ in test.arms()] for test in tests}


def flush_variant_views() -> int:
    """Move the variant views counted in the cache into ``ExperimentDay``;
    how many. Exactly once, as ``tracking.flush_page_views``: a lock, each
    counter decremented by what was read, put back if the write fails."""
    if not cache.add(_FLUSH_LOCK, 1, timeout=5 * 60):
        return 0
    try:
        today = site_today()
        days = [today - datetime.timedelta(days=n) for n in range(COUNTER_DAYS)]
        keys = {
            _key(test, variant, day): (test, variant, day)
            for test, variants in _counted_tests().items()
            for variant in variants
            for day in days
        }
        found = {
            keys[key]: int(value)
            for key, value in cache.get_many(list(keys)).items()
            if int(value) > 0
        }
        for (test, variant, day), amount in found.items():
            with contextlib.suppress(ValueError):
                cache.decr(_key(test, variant, day), amount)
        try:
            with transaction.atomic():
                for (test, variant, day), amount in sorted(found.items()):
                    _add(test, variant, day, "views", amount)
        except DatabaseError:
            for (test, variant, day), amount in found.items():
                incr_counter(_key(test, variant, day), amount)
            logger.warning("Variant views not flushed: database error")
            raise
        return sum(found.values())
    finally:
        cache.delete(_FLUSH_LOCK)


def _add(
    test_id: int, variant: str, day: datetime.date, counter: str, amount: int
) -> None:
    lookup = {"experiment_id": test_id, "variant": variant, "day": day}
    if ExperimentDay.objects.filter(**lookup).update(**{counter: F(counter) + amount}):
        return
    try:
        with transaction.atomic():
            ExperimentDay.objects.create(**lookup, **{counter: amount})
    except IntegrityError:  # created meanwhile by a concurrent request
        ExperimentDay.objects.filter(**lookup).update(**{counter: F(counter) + amount})


@task()
def flush_variant_views_task() -> int:
    """``flush_variant_views`` on the task queue: enqueued at most once a minute."""
    return flush_variant_views()


def _schedule_flush() -> None:
    schedule_flush_once(flush_variant_views_task, _FLUSH_SCHEDULED, "Variant views")


def record_conversion(page_id: int, variant: tuple[int, str] | None) -> bool:
    """Attribute a captured submission to the variant its form token names;
    True if it was. A variant of another page's test, of a test deleted
    since, or no longer among its arms, is attributed to nothing."""
    if variant is None:
        return False
    test_id, key = variant
    test = (
        Experiment.objects.filter(pk=test_id, page_id=page_id)
        .prefetch_related("variants")
        .first()
    )
    if test is None or key not in {arm for arm, _ in test.arms()}:
        return False
    try:
        _add(test_id, key, site_today(), "submissions", 1)
    except DatabaseError:
        logger.warning("Variant submission not counted: database error")
        return False
    return True
