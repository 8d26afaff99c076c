"""KPIs of lead-generation pages (R7): the report and the home-page panel.

The report aggregates in the database, grouped by page and by day: a fixed
number of queries whatever the number of pages.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import swapper
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Exists, OuterRef, Q, Sum
from wagtail.models import get_page_models

from ..conf import leadgen_settings
from ..models.consent import ConsentDecision, ConsentRecord
from ..models.delivery import Delivery, DeliveryStatus
from ..models.leads import DownloadGrant, Submission
from ..models.metrics import CTAClickDay, PageViewDay
from ..models.mixins import LeadCaptureMixin
from .consent import current_records
from .days import day_bounds, local_date, site_today
from .tracking import flush_page_views


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


def lead_page_models() -> list[type[Any]]:
    """Every concrete page model built on ``LeadCaptureMixin``."""
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


def _confirmed_consents(start, end, page_ids):
    """Consents ticked on a counted submission and in force now: granted, or
    pending and since confirmed by email. A pending one does not count, nor
    a withdrawn or expired one; a box left unticked on a later form changes
    nothing (refusals are not a state)."""
    in_force = current_records(
        lead=OuterRef("lead"),
        purpose=OuterRef("purpose"),
        decision=ConsentDecision.GRANTED,
    )
    return ConsentRecord.objects.filter(
        _counted_submissions(start, end, page_ids, "submission__"),
        Exists(in_force),
        decision__in=(ConsentDecision.GRANTED, ConsentDecision.PENDING),
    )


def _days(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    return [start + datetime.timedelta(days=n) for n in range((end - start).days + 1)]


def _collect(start, end, page_ids):
    """The per-page KPIs, the distinct confirmed leads and the per-day figures.

    Eight queries whatever the number of pages: the pages, then aggregates
    grouped by page (and by day for the series) — the views twice, by page and
    by day, rather than 50 pages × 365 days of rows. Figures of pages that are
    not (or no longer) lead pages are left out. The views still in the cache
    are flushed first (no SQL when there are none), so the figures are current.
    """
    flush_page_views()
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
        _confirmed_consents(start, end, ids)
        .order_by()
        .values_list("submission__page_id", "lead_id")
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
