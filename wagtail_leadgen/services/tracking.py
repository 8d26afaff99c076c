"""Counting views of lead pages and clicks on calls to action (R7).

Counting is privacy-friendly: one row per page (or CTA) and day holds a
number, nothing else — no cookie is read or set, no IP address or user agent
is stored. Obvious bots, prefetches, previews and logged-in editors are not
counted. A counted click costs exactly one SQL statement, an upsert.

A page view costs no SQL at all: it is added to a counter in the default
cache (one key per page and day), and ``flush_page_views`` moves the counters
into ``PageViewDay`` in one transaction — from a task enqueued at most once a
minute, from ``leadgen_flush_counters`` (cron), and before the dashboard
reads the views. Exactness is the cache's: see docs/caching.md.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import swapper
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django_tasks import task

from ..conf import leadgen_settings
from ..models.metrics import CTAClickDay, PageViewDay
from .days import site_today

logger = logging.getLogger("wagtail_leadgen.metrics")

# Request headers by which browsers announce a prefetch, prerender or preview
# that nobody may ever look at (Chrome/Edge: Sec-Purpose; Firefox: Purpose and
# X-Moz; Safari: X-Purpose).
PREFETCH_HEADERS = ("Sec-Purpose", "Purpose", "X-Purpose", "X-Moz")
PREFETCH_WORDS = ("prefetch", "prerender", "preview")


# -- Who is counted -------------------------------------------------------------
@lru_cache(maxsize=8)
def _bot_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(word) for word in words), re.IGNORECASE)


def is_bot(user_agent: str) -> bool:
    """An empty User-Agent, or one with a word from ``EXCLUDED_USER_AGENTS``."""
    user_agent = user_agent.strip()
    if not user_agent:
        return True
    words = tuple(leadgen_settings.EXCLUDED_USER_AGENTS)
    return bool(words) and bool(_bot_pattern(words).search(user_agent))


def _is_editor(request: HttpRequest) -> bool:
    """A logged-in user who can use the admin (an editor checking their page).

    Without a session cookie nobody is logged in, so ``request.user`` is not
    touched at all: reading it would load the session, and for an anonymous
    visitor that would be a query the counter adds to the page.
    """
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    user = getattr(request, "user", None)
    return bool(
        user is not None
        and user.is_authenticated
        and user.has_perm("wagtailadmin.access_admin")
    )


def is_countable(request: HttpRequest, *, methods: tuple[str, ...] = ("GET",)) -> bool:
    """Whether a request is a person looking at the page, as far as we can tell.

    Not counted: other methods than ``methods`` (HEAD in particular), Wagtail
    previews, prefetches and prerenders, obvious bots (by User-Agent) and
    logged-in editors.
    """
    if request.method not in methods or getattr(request, "is_preview", False):
        return False
    for header in PREFETCH_HEADERS:
        value = request.headers.get(header, "").lower()
        if value and any(word in value for word in PREFETCH_WORDS):
            return False
    if is_bot(request.headers.get("User-Agent", "")):
        return False
    return not _is_editor(request)


# -- Counting ---------------------------------------------------------------------
def _add_sql(model, key_field: str, counter_field: str, rows: int) -> str:
    """``INSERT ... ON CONFLICT ... DO UPDATE`` adding to the counter, for
    ``rows`` rows of (key, day, amount); PostgreSQL and SQLite (3.24+).

    ``bulk_create(update_conflicts=True)`` cannot do this: it can only set the
    column to the proposed value (``EXCLUDED.views``), not add to it. Hence raw
    SQL, with the table and column names taken from the model's ``_meta``.
    """
    meta = model._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    key_column = quote(meta.get_field(key_field).column)
    day_column = quote(meta.get_field("day").column)
    counter = quote(meta.get_field(counter_field).column)
    values = ", ".join(["(%s, %s, %s)"] * rows)
    return (
        f"INSERT INTO {table} ({key_column}, {day_column}, {counter}) "  # noqa: S608 -- names from _meta, values are parameters
        f"VALUES {values} "
        f"ON CONFLICT ({key_column}, {day_column}) "
        f"DO UPDATE SET {counter} = {table}.{counter} + EXCLUDED.{counter}"
    )


def _add(
    model,
    key_field: str,
    counter_field: str,
    rows: list[tuple[int, datetime.date, int]],
) -> None:
    """Add each amount to its (key, day) counter: one statement where the
    database has upserts; other databases update, then insert."""
    if not rows:
        return
    if not connection.features.supports_update_conflicts_with_target:
        for key, day, amount in rows:
            _add_portably(model, key_field, key, counter_field, day, amount)
        return
    params: list[Any] = []
    for key, day, amount in rows:
        params += [key, connection.ops.adapt_datefield_value(day), amount]
    with connection.cursor() as cursor:
        cursor.execute(_add_sql(model, key_field, counter_field, len(rows)), params)


def _add_portably(model, key_field, key, counter_field, day, amount=1) -> None:
    lookup = {f"{key_field}_id": key, "day": day}
    bump = {counter_field: F(counter_field) + amount}
    if model.objects.filter(**lookup).update(**bump):
        return
    try:
        with transaction.atomic():
            model.objects.create(**lookup, **{counter_field: amount})
    except IntegrityError:  # created meanwhile by a concurrent request
        model.objects.filter(**lookup).update(**bump)


def _count(model, key_field: str, key: int, counter_field: str) -> bool:
    try:
        _add(model, key_field, counter_field, [(key, site_today(), 1)])
    except DatabaseError:
        # A counter must never break the page; but inside a transaction the
        # connection may be unusable now, so let the error through there.
        if connection.in_atomic_block:
            raise
        logger.warning("%s not counted: database error", model._meta.label)
        return False
    return True


# -- Page views: counted in the cache, flushed in batches ---------------------------
_PREFIX = "wagtail_leadgen:views"
# Counters of today and the days before are kept (and flushed) this long: a
# flush that did not run for a day still finds yesterday's views.
COUNTER_DAYS = 3
# At most one flush task is enqueued per this many seconds.
FLUSH_INTERVAL = 60
# A flush holds this lock (in the cache) so that two never count one view twice.
_FLUSH_LOCK = f"{_PREFIX}:flushing"
_FLUSH_LOCK_SECONDS = 5 * 60
_FLUSH_SCHEDULED = f"{_PREFIX}:flush-scheduled"


def _counter_key(page_id: int, day: datetime.date) -> str:
    return f"{_PREFIX}:{day.isoformat()}:{page_id}"


def _slots_key(day: datetime.date) -> str:
    """How many pages were counted on ``day``: slot n holds the n-th page id
    (a cache cannot list its keys, and an atomic counter is a safe index)."""
    return f"{_PREFIX}:{day.isoformat()}:slots"


def incr_counter(key: str, delta: int = 1) -> int:
    """Atomic add in the cache, creating the key (kept ``COUNTER_DAYS``)."""
    cache.add(key, 0, timeout=COUNTER_DAYS * 24 * 60 * 60)
    try:
        return cache.incr(key, delta)
    except ValueError:  # evicted between add and incr: start again from delta
        cache.set(key, delta, timeout=COUNTER_DAYS * 24 * 60 * 60)
        return delta


def record_page_view(page_id: int) -> bool:
    """Add one view of ``page_id`` today, in the cache (no SQL); True if
    counted. Schedules a flush at most once a minute."""
    day = site_today()
    ttl = COUNTER_DAYS * 24 * 60 * 60
    try:
        incr_counter(_counter_key(page_id, day))
        if cache.add(f"{_counter_key(page_id, day)}:listed", 1, timeout=ttl):
            slot = incr_counter(_slots_key(day))
            cache.set(f"{_slots_key(day)}:{slot}", page_id, timeout=ttl)
    except Exception:  # noqa: BLE001 -- a cache outage must never break the page
        logger.warning("Page view not counted: cache error")
        return False
    _schedule_flush()
    return True


def count_page_view(request: HttpRequest, page) -> bool:
    """Count one view of ``page`` if the request is countable; True if counted.

    Called where a visitor's time-trap token is issued: by
    ``LeadCaptureMixin.serve`` for a private page, by the token endpoint for
    a page a shared cache holds. Set ``WAGTAIL_LEADGEN["COUNT_PAGE_VIEWS"] =
    False`` to turn counting off.
    """
    if not leadgen_settings.COUNT_PAGE_VIEWS or not is_countable(request):
        return False
    return record_page_view(page.pk)


def pending_page_views(days: Iterable[datetime.date] | None = None) -> dict:
    """The views counted in the cache and not yet flushed, by (page id, day)."""
    if days is None:
        today = site_today()
        days = [today - datetime.timedelta(days=n) for n in range(COUNTER_DAYS)]
    days = list(days)
    counts = cache.get_many([_slots_key(day) for day in days])
    slot_keys = [
        f"{_slots_key(day)}:{slot}"
        for day in days
        for slot in range(1, int(counts.get(_slots_key(day)) or 0) + 1)
    ]
    slots = cache.get_many(slot_keys)
    keys = {
        _counter_key(int(page_id), day): (int(page_id), day)
        for day in days
        for key, page_id in slots.items()
        if key.startswith(_slots_key(day) + ":")
    }
    found = cache.get_many(list(keys))
    return {keys[key]: int(value) for key, value in found.items() if int(value) > 0}


def flush_page_views() -> int:
    """Move the views counted in the cache into ``PageViewDay``; how many.

    Each counter is decremented by what was read, in the cache (atomic), so
    a view counted meanwhile stays for the next flush; a lock in the cache
    keeps two flushes from writing the same views (the second one flushes
    nothing). If the database refuses the write, the counts go back.
    """
    if not cache.add(_FLUSH_LOCK, 1, timeout=_FLUSH_LOCK_SECONDS):
        return 0
    try:
        return _flush()
    finally:
        cache.delete(_FLUSH_LOCK)


def _flush() -> int:
    pending = pending_page_views()
    if not pending:
        return 0
    Page = swapper.load_model("wagtailcore", "Page")
    existing = set(
        Page.objects.filter(pk__in={page for page, _ in pending}).values_list(
            "pk", flat=True
        )
    )
    taken: list[tuple[str, int]] = []
    for (page_id, day), amount in pending.items():
        # Expired or evicted since it was read: nothing is left to take.
        with contextlib.suppress(ValueError):
            cache.decr(_counter_key(page_id, day), amount)
        taken.append((_counter_key(page_id, day), amount))
    rows = [
        (page_id, day, amount)
        for (page_id, day), amount in sorted(pending.items())
        if page_id in existing  # a page deleted meanwhile: its views go with it
    ]
    try:
        with transaction.atomic():
            _add(PageViewDay, "page", "views", rows)
    except DatabaseError:
        for key, amount in taken:
            incr_counter(key, amount)
        logger.warning(
            "Page views not flushed: database error; kept for the next flush"
        )
        raise
    return sum(amount for _, _, amount in rows)


@task()
def flush_page_views_task() -> int:
    """``flush_page_views`` on the task queue: enqueued at most once a minute."""
    return flush_page_views()


def _schedule_flush() -> None:
    """Enqueue one flush for the views of the coming minute, unless one is."""
    schedule_flush_once(flush_page_views_task, _FLUSH_SCHEDULED, "Page views")


def schedule_flush_once(flush_task: Any, flag: str, what: str) -> None:
    """Enqueue ``flush_task`` to run in FLUSH_INTERVAL seconds, unless the
    cache ``flag`` says one is already scheduled: counters in the cache reach
    the database at most once a minute, whatever the traffic."""
    if not cache.add(flag, 1, timeout=FLUSH_INTERVAL):
        return
    flush = flush_task.using(backend=leadgen_settings.TASK_BACKEND)
    try:
        if flush.get_backend().supports_defer:
            run_after = timezone.now() + datetime.timedelta(seconds=FLUSH_INTERVAL)
            flush = flush.using(run_after=run_after)
        flush.enqueue()
    except Exception:  # noqa: BLE001 -- the page never fails for its counter
        # leadgen_flush_counters (cron) or the dashboard flushes instead.
        logger.warning("%s flush not enqueued: task queue error", what)


def count_cta_click(request: HttpRequest, cta) -> bool:
    """Count one click on ``cta`` if the request is countable; True if counted.

    A GET through the redirect, or the POST of a link's ``ping`` attribute.
    """
    if not is_countable(request, methods=("GET", "POST")):
        return False
    return _count(CTAClickDay, "cta", cta.pk, "clicks")
