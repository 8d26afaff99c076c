"""KPIs of lead-generation pages (R7): counting views and CTA clicks, and the report.

Counting is privacy-friendly: one row per page (or CTA) and day holds a
number, nothing else — no cookie is read or set, no IP address or user agent
is stored. Obvious bots, prefetches, previews and logged-in editors are not
counted. A counted view costs exactly one SQL statement, an upsert.

The report aggregates in the database, grouped by page and by day: a fixed
number of queries whatever the number of pages.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import swapper
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Case, Count, DateField, F, Func, Q, Sum, Value, When
from django.db.models.functions import TruncDate
from django.http import HttpRequest
from django.utils import timezone
from wagtail.models import get_page_models

from ..conf import leadgen_settings
from ..models.consent import ConsentDecision
from ..models.delivery import Delivery, DeliveryStatus
from ..models.leads import DownloadGrant, Submission
from ..models.metrics import CTAClickDay, PageViewDay

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


# -- Days ---------------------------------------------------------------------------
# Counters and the report use the site's days (``TIME_ZONE``), whatever time
# zone is active: Wagtail's admin activates each user's preferred one.
def site_today() -> datetime.date:
    if not settings.USE_TZ:
        return datetime.date.today()
    return timezone.localdate(timezone=timezone.get_default_timezone())


def day_bounds(
    start: datetime.date, end: datetime.date
) -> tuple[datetime.datetime, datetime.datetime]:
    """``start`` 00:00 and the day after ``end`` 00:00, in the site's time zone."""
    since = datetime.datetime.combine(start, datetime.time.min)
    until = datetime.datetime.combine(
        end + datetime.timedelta(days=1), datetime.time.min
    )
    if not settings.USE_TZ:
        return since, until
    tz = timezone.get_default_timezone()
    return timezone.make_aware(since, tz), timezone.make_aware(until, tz)


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


# -- The report -----------------------------------------------------------------------
@dataclass
class PageKPIs:
    """The KPIs of one page (or of all pages, for the totals) over a date range."""

    page_id: int | None
    title: str
    live: bool = True
    views: int = 0
    submissions: int = 0
    confirmed_leads: int = 0
    downloads: int = 0
    cta_clicks: int = 0
    deliveries: int = 0
    delivered: int = 0

    @property
    def conversion_rate(self) -> float | None:
        """Submissions per view; None when the page was not viewed."""
        return self.submissions / self.views if self.views else None

    @property
    def delivery_success(self) -> float | None:
        """Share of CRM deliveries that succeeded; None when there were none."""
        return self.delivered / self.deliveries if self.deliveries else None


@dataclass(frozen=True)
class DayKPIs:
    day: datetime.date
    views: int
    submissions: int


@dataclass
class Report:
    """KPIs per page, their totals and the daily series, for ``start``–``end``."""

    start: datetime.date
    end: datetime.date
    pages: list[PageKPIs]
    totals: PageKPIs
    days: list[DayKPIs] = field(default_factory=list)


def lead_page_models() -> list[type]:
    """Every concrete page model built on ``LeadCaptureMixin``."""
    from ..models.mixins import LeadCaptureMixin

    return [model for model in get_page_models() if issubclass(model, LeadCaptureMixin)]


def lead_pages():
    """Landing pages, e-book pages and any site page type with a lead form."""
    Page = swapper.load_model("wagtailcore", "Page")
    models = lead_page_models()
    if not models:
        return Page.objects.none()
    content_types = ContentType.objects.get_for_models(
        *models, for_concrete_models=False
    )
    return Page.objects.filter(content_type__in=content_types.values())


def _counted_submissions(start, end, page_ids, prefix: str = "") -> Q:
    """Non-spam submissions made from ``start`` to ``end`` (through ``prefix``)."""
    since, until = day_bounds(start, end)
    condition = Q(
        **{
            f"{prefix}is_spam": False,
            f"{prefix}created_at__gte": since,
            f"{prefix}created_at__lt": until,
        }
    )
    if page_ids is not None:
        condition &= Q(**{f"{prefix}page_id__in": page_ids})
    return condition


def _submissions(start, end, page_ids):
    return Submission.objects.filter(_counted_submissions(start, end, page_ids))


def _submissions_by_page_and_day(start, end, page_ids):
    """``(page_id, day, count)`` of non-spam submissions, days in the site's time zone."""
    return (
        _submissions(start, end, page_ids)
        .order_by()
        .annotate(day=local_date("created_at", *day_bounds(start, end)))
        .values_list("page_id", "day")
        .annotate(n=Count("pk"))
    )


def local_date(field_name: str, since, until):
    """An expression for the local date of ``field_name``, for instants in ``since``–``until``.

    Django's ``TruncDate`` does it natively on PostgreSQL, but on SQLite it
    calls a Python function for every row (10–15 µs each: 1.5 s for 100k
    rows). There, SQLite's own ``date()`` is given the UTC offset in minutes,
    one ``CASE`` branch per stretch of the range with the same offset (a DST
    change adds one).
    """
    tz = timezone.get_default_timezone() if settings.USE_TZ else None
    if connection.vendor != "sqlite":
        return TruncDate(field_name, tzinfo=tz)

    def date_at(offset_minutes: int | None):
        arguments = [F(field_name)]
        if offset_minutes is not None:
            arguments.append(Value(f"{offset_minutes:+d} minutes"))
        return Func(*arguments, function="date", output_field=DateField())

    if not settings.USE_TZ:  # stored in local time already
        return date_at(None)
    *changes, (_end, last_offset) = offset_segments(since, until, tz)
    if not changes:
        return date_at(last_offset)
    return Case(
        *(
            When(**{f"{field_name}__lt": segment_end}, then=date_at(offset))
            for segment_end, offset in changes
        ),
        default=date_at(last_offset),
        output_field=DateField(),
    )


def offset_segments(
    since: datetime.datetime, until: datetime.datetime, tz
) -> list[tuple[datetime.datetime | None, int]]:
    """``(end, UTC offset in minutes)`` of each stretch of ``since``–``until`` in ``tz``.

    The last stretch has no end. Offsets are probed day by day and each change
    is then found to the second by bisection.
    """

    def offset(instant: datetime.datetime) -> int:
        return int(instant.astimezone(tz).utcoffset().total_seconds()) // 60

    segments: list[tuple[datetime.datetime | None, int]] = []
    current = offset(since)
    probe = since
    while probe < until:
        following = min(probe + datetime.timedelta(days=1), until)
        if offset(following) != current:
            low, high = int(probe.timestamp()), int(following.timestamp())
            while high - low > 1:
                middle = (low + high) // 2
                instant = datetime.datetime.fromtimestamp(middle, datetime.UTC)
                if offset(instant) == current:
                    low = middle
                else:
                    high = middle
            change = datetime.datetime.fromtimestamp(high, datetime.UTC)
            segments.append((change, current))
            current = offset(following)
        probe = following
    segments.append((None, current))
    return segments


def _days(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    return [start + datetime.timedelta(days=n) for n in range((end - start).days + 1)]


def _collect(start, end, page_ids):
    """The per-page KPIs, the distinct confirmed leads and the per-day figures.

    Eight queries whatever the number of pages: the pages, then aggregates
    grouped by page (and by day for the series) — the views twice, by page and
    by day, rather than 50 pages × 365 days of rows. Figures of pages that are
    not (or no longer) lead pages are left out.
    """
    pages = lead_pages()
    if page_ids is not None:
        pages = pages.filter(pk__in=page_ids)
    result = {
        row["pk"]: PageKPIs(page_id=row["pk"], title=row["title"], live=row["live"])
        for row in pages.order_by("title", "pk").values("pk", "title", "live")
    }
    views_by_day: dict[datetime.date, int] = defaultdict(int)
    submissions_by_day: dict[datetime.date, int] = defaultdict(int)
    confirmed: set[int] = set()
    if not result:
        return result, confirmed, views_by_day, submissions_by_day
    ids = list(result) if page_ids is not None else None

    views = PageViewDay.objects.filter(day__gte=start, day__lte=end).order_by()
    views = views.filter(page_id__in=ids if ids is not None else pages.values("pk"))
    for page_id, n in views.values_list("page_id").annotate(n=Sum("views")):
        if page_id in result:
            result[page_id].views = n
    for day, n in views.values_list("day").annotate(n=Sum("views")):
        views_by_day[day] = n

    for page_id, day, n in _submissions_by_page_and_day(start, end, ids):
        if page_id in result:
            result[page_id].submissions += n
            submissions_by_day[day] += n

    pairs = (
        _submissions(start, end, ids)
        .filter(consent_records__decision=ConsentDecision.GRANTED)
        .order_by()
        .values_list("page_id", "lead_id")
        .distinct()
    )
    for page_id, lead_id in pairs:
        if page_id in result:
            result[page_id].confirmed_leads += 1
            confirmed.add(lead_id)

    through_submission = _counted_submissions(start, end, ids, "submission__")
    downloads = (
        DownloadGrant.objects.filter(through_submission)
        .order_by()
        .values_list("submission__page_id")
        .annotate(n=Sum("uses"))
    )
    for page_id, n in downloads:
        if page_id in result:
            result[page_id].downloads = n or 0

    deliveries = (
        Delivery.objects.filter(through_submission)
        .order_by()
        .values_list("submission__page_id")
        .annotate(
            n=Count("pk"), ok=Count("pk", filter=Q(status=DeliveryStatus.DELIVERED))
        )
    )
    for page_id, n, ok in deliveries:
        if page_id in result:
            result[page_id].deliveries, result[page_id].delivered = n, ok

    clicks = CTAClickDay.objects.filter(day__gte=start, day__lte=end).order_by()
    if ids is not None:
        clicks = clicks.filter(cta__target_page_id__in=ids)
    for page_id, n in clicks.values_list("cta__target_page_id").annotate(
        n=Sum("clicks")
    ):
        if page_id in result:
            result[page_id].cta_clicks = n or 0
    return result, confirmed, views_by_day, submissions_by_day


def page_kpis(
    start: datetime.date,
    end: datetime.date,
    *,
    page_ids: Iterable[int] | None = None,
) -> list[PageKPIs]:
    """The KPIs of every lead page (by title) for the days ``start`` to ``end``, inclusive."""
    page_ids = list(page_ids) if page_ids is not None else None
    result, *_rest = _collect(start, end, page_ids)
    return list(result.values())


def daily_series(
    start: datetime.date,
    end: datetime.date,
    *,
    page_ids: Iterable[int] | None = None,
) -> list[DayKPIs]:
    """Views and submissions per day, every day of the range present (zeros too)."""
    return build_report(start, end, page_ids=page_ids).days


def build_report(
    start: datetime.date,
    end: datetime.date,
    *,
    page_ids: Iterable[int] | None = None,
) -> Report:
    """Everything the report page shows: KPIs per page, totals and the daily series.

    Confirmed leads are counted once in the totals even when a person
    converted on several pages.
    """
    page_ids = list(page_ids) if page_ids is not None else None
    result, confirmed, views_by_day, submissions_by_day = _collect(start, end, page_ids)
    pages = list(result.values())
    total = PageKPIs(page_id=None, title="", confirmed_leads=len(confirmed))
    for kpis in pages:
        for name in SUMMED:
            setattr(total, name, getattr(total, name) + getattr(kpis, name))
    days = [
        DayKPIs(
            day=day,
            views=views_by_day.get(day, 0),
            submissions=submissions_by_day.get(day, 0),
        )
        for day in _days(start, end)
    ]
    return Report(start=start, end=end, pages=pages, totals=total, days=days)


# The figures whose total is the sum over pages (confirmed leads are not).
SUMMED = ("views", "submissions", "downloads", "cta_clicks", "deliveries", "delivered")


def default_range(days: int | None = None) -> tuple[datetime.date, datetime.date]:
    """The last ``days`` days, today included (``DASHBOARD_DEFAULT_DAYS``)."""
    days = days or leadgen_settings.DASHBOARD_DEFAULT_DAYS
    end = site_today()
    return end - datetime.timedelta(days=days - 1), end


def top_pages(limit: int = 5, days: int = 30) -> list[PageKPIs]:
    """The pages with the most submissions over the last ``days`` days."""
    start, end = default_range(days)
    pages = page_kpis(start, end)
    pages.sort(key=lambda kpis: (-kpis.submissions, -kpis.views, kpis.title.lower()))
    return [kpis for kpis in pages if kpis.submissions or kpis.views][:limit]
