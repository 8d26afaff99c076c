"""Counting views of lead pages and clicks on calls to action (R7).

Counting is privacy-friendly: one row per page (or CTA) and day holds a
number, nothing else — no cookie is read or set, no IP address or user agent
is stored. Obvious bots, prefetches, previews and logged-in editors are not
counted. A counted view costs exactly one SQL statement, an upsert.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F
from django.http import HttpRequest

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
def _increment(model, key_field: str, key: int, counter_field: str) -> None:
    """Add one to today's counter of ``key``: a single upsert statement.

    ``bulk_create(update_conflicts=True)`` cannot do this: it can only set the
    column to the proposed value (``EXCLUDED.views``), not add to it. Hence raw
    SQL, with the table and column names taken from the model's ``_meta``;
    ``INSERT ... ON CONFLICT ... DO UPDATE`` works on PostgreSQL and SQLite
    (3.24+). Other databases fall back to an update, then an insert.
    """
    day = site_today()
    if not connection.features.supports_update_conflicts_with_target:
        _increment_portably(model, key_field, key, counter_field, day)
        return
    meta = model._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    key_column = quote(meta.get_field(key_field).column)
    day_column = quote(meta.get_field("day").column)
    counter = quote(meta.get_field(counter_field).column)
    sql = (
        f"INSERT INTO {table} ({key_column}, {day_column}, {counter}) "  # noqa: S608 -- names from _meta, values are parameters
        f"VALUES (%s, %s, 1) "
        f"ON CONFLICT ({key_column}, {day_column}) "
        f"DO UPDATE SET {counter} = {table}.{counter} + 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, connection.ops.adapt_datefield_value(day)])


def _increment_portably(model, key_field, key, counter_field, day) -> None:
    lookup = {f"{key_field}_id": key, "day": day}
    bump = {counter_field: F(counter_field) + 1}
    if model.objects.filter(**lookup).update(**bump):
        return
    try:
        with transaction.atomic():
            model.objects.create(**lookup, **{counter_field: 1})
    except IntegrityError:  # created meanwhile by a concurrent request
        model.objects.filter(**lookup).update(**bump)


def _count(model, key_field: str, key: int, counter_field: str) -> bool:
    try:
        _increment(model, key_field, key, counter_field)
    except DatabaseError:
        # A counter must never break the page; but inside a transaction the
        # connection may be unusable now, so let the error through there.
        if connection.in_atomic_block:
            raise
        logger.warning("%s not counted: database error", model._meta.label)
        return False
    return True


def count_page_view(request: HttpRequest, page) -> bool:
    """Count one view of ``page`` if the request is countable; True if counted.

    Called by ``LeadCaptureMixin.serve`` for every GET. Set
    ``WAGTAIL_LEADGEN["COUNT_PAGE_VIEWS"] = False`` to turn counting off.
    """
    if not leadgen_settings.COUNT_PAGE_VIEWS or not is_countable(request):
        return False
    return _count(PageViewDay, "page", page.pk, "views")


def count_cta_click(request: HttpRequest, cta) -> bool:
    """Count one click on ``cta`` if the request is countable; True if counted.

    A GET through the redirect, or the POST of a link's ``ping`` attribute.
    """
    if not is_countable(request, methods=("GET", "POST")):
        return False
    return _count(CTAClickDay, "cta", cta.pk, "clicks")
