"""The KPI dashboard (R7): a panel on the admin home page and a report under Reports.

Both need ``wagtail_leadgen.view_lead``, the permission that already guards the
leads: the figures describe the lead-generation activity (submissions,
confirmed leads, CRM handoff), which is for the people who handle leads, not
for everyone who can edit a page. Reusing it needs no migration and gives
administrators one permission to hand out for "sees leads and their KPIs".
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.components import Component
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from ..charts import line_chart
from ..cleaning import MAX_DATE, MIN_DATE, in_date_range
from ..conf import leadgen_settings
from ..services.callbacks import figures_between as callback_figures
from ..services.experiments import dashboard_results
from ..services.kpis import (
    PageKPIs,
    build_report,
    default_range,
    lead_pages,
    top_pages,
)
from .experiments import result_rows

PERMISSION = "wagtail_leadgen.view_lead"


def can_view_dashboard(user) -> bool:
    return user.is_active and user.has_perm(PERMISSION)


def format_rate(rate: float | None) -> str:
    """A share as a percentage with one decimal ("12.5 %"), or a dash when undefined."""
    if rate is None:
        return "—"
    return f"{number_format(rate * 100, decimal_pos=1)} %"


class DateRangeForm(forms.Form):
    """The report's filter, read from GET parameters; empty fields take the defaults."""

    start = forms.DateField(
        label=_("From"),
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=_("To"),
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    page = forms.TypedChoiceField(
        label=_("Page"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = lead_pages().order_by("title", "pk").values_list("pk", "title")
        page_field = self.fields["page"]
        assert isinstance(page_field, forms.ChoiceField)
        page_field.choices = [("", _("All lead pages")), *choices]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.errors:
            return cleaned
        if not (
            in_date_range(cleaned.get("start")) and in_date_range(cleaned.get("end"))
        ):
            raise forms.ValidationError(
                _("Choose dates between %(first)s and %(last)s.")
                % {"first": MIN_DATE.isoformat(), "last": MAX_DATE.isoformat()}
            )
        default_start, default_end = default_range()
        end = cleaned.get("end") or default_end
        start = cleaned.get("start") or (
            end - datetime.timedelta(days=leadgen_settings.DASHBOARD_DEFAULT_DAYS - 1)
        )
        if start > end:
            raise forms.ValidationError(_("The start date must not be after the end."))
        days = (end - start).days + 1
        maximum = leadgen_settings.DASHBOARD_MAX_DAYS
        if days > maximum:
            raise forms.ValidationError(
                _("Choose at most %(maximum)s days (%(days)s chosen).")
                % {"maximum": maximum, "days": days}
            )
        cleaned["start"], cleaned["end"] = start, end
        return cleaned


def by_activity(kpis: PageKPIs) -> tuple:
    """Most submissions first, then most views, then by title."""
    return (-kpis.submissions, -kpis.views, kpis.title.lower())


def kpi_row(kpis: PageKPIs) -> dict[str, Any]:
    """One table row: the raw figures and the formatted rates."""
    return {
        "kpis": kpis,
        "conversion": format_rate(kpis.conversion_rate),
        "delivery": format_rate(kpis.delivery_success),
    }


class KPIReportView(WagtailAdminTemplateMixin, TemplateView):
    """KPIs per lead page for a date range, with views and submissions per day."""

    template_name = "wagtail_leadgen/dashboard/report.html"
    page_title = _("Lead generation KPIs")
    header_icon = "table"

    def dispatch(self, request, *args, **kwargs):
        if not can_view_dashboard(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": "", "label": _("Reports")},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = DateRangeForm(self.request.GET or None)
        context["form"] = form
        if self.request.GET and not form.is_valid():
            return context
        if form.is_bound:
            start, end = form.cleaned_data["start"], form.cleaned_data["end"]
            page_id = form.cleaned_data.get("page")
        else:
            (start, end), page_id = default_range(), None
            form = DateRangeForm(initial={"start": start, "end": end})
            context["form"] = form
        report = build_report(
            start, end, page_ids=[page_id] if page_id is not None else None
        )
        points = [(day.day, day.views) for day in report.days]
        submissions = [(day.day, day.submissions) for day in report.days]
        context.update(
            experiments=[
                {"results": results, "rows": result_rows(results)}
                for results in dashboard_results()
                if page_id is None or results.test.page_id == page_id
            ],
            callback_weeks=callback_figures(start, end),
            callback_target=leadgen_settings.callback["SLA_MINUTES"],
            report=report,
            rows=[kpi_row(kpis) for kpis in sorted(report.pages, key=by_activity)],
            total=kpi_row(report.totals),
            views_chart=line_chart(
                points,
                title=str(_("Views per day")),
                y_label=str(_("Views")),
                unit=str(_("views")),
                empty_message=str(_("No views counted in this period.")),
            ),
            submissions_chart=line_chart(
                submissions,
                title=str(_("Submissions per day")),
                y_label=str(_("Submissions")),
                unit=str(_("submissions")),
                empty_message=str(_("No submissions in this period.")),
                colour="#cd4444",
            ),
        )
        return context


class TopPagesPanel(Component):
    """Admin home panel: the lead pages with the most submissions in the last 30 days."""

    name = "leadgen_top_pages"
    template_name = "wagtail_leadgen/dashboard/panel.html"
    order = 150
    days = 30
    limit = 5

    def __init__(self, request) -> None:
        self.request = request

    def get_context_data(self, parent_context: Any = None) -> dict[str, Any]:
        return {
            "rows": [kpi_row(kpis) for kpis in top_pages(self.limit, self.days)],
            "days": self.days,
            "report_url": reverse("wagtail_leadgen_kpis:report"),
        }


class ReportMenuItem(MenuItem):
    """The report's entry under Reports, shown to users who may see it."""

    def is_shown(self, request) -> bool:
        return can_view_dashboard(request.user)


def add_top_pages_panel(request, panels: list) -> None:
    """``construct_homepage_panels`` hook: the panel for users who may see it."""
    if can_view_dashboard(request.user):
        panels.append(TopPagesPanel(request))
