"""Admin views of the content hints: the live endpoint and the report.

``page_hints_view`` / ``new_page_hints_view`` take the page editor's *unsaved*
form (posted by hints.js), build the page from it the way Wagtail's preview
does (``wagtail.admin.views.pages.preview``), and answer with the hints as
JSON. Nothing is saved. The user must be allowed to edit the page (to add it,
for a new page); anyone else gets 403, anonymous visitors the login page.

``ContentHintsReportView`` lists the lead-generation pages with their stored
hint summary, sorted and paginated in the database, and exports it as CSV or
XLSX.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from typing import Any

import swapper
from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, F, Value, When
from django.db.models.functions import Coalesce, Lower, NullIf
from django.http import Http404, HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.functional import cached_property
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from wagtail.admin.forms.models import WagtailAdminModelForm
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views.reports import ReportView
from wagtail.models import get_page_models
from wagtail.permissions import policy_registry

from ..models.mixins import LeadCaptureMixin, ThankYouMixin
from ..panels import find_hints_panel
from ..services.hints import page_hints, page_language
from ..services.hints.summaries import (
    SUMMARY_FIGURES,
    page_issues,
    refresh_summaries,
)

Page = swapper.load_model("wagtailcore", "Page")
logger = logging.getLogger("wagtail_leadgen.security")


# -- Live endpoint ------------------------------------------------------------------
def _bind_form(request: HttpRequest, page: Any, parent: Any):
    """The page's edit form bound to the posted data, as the preview does it."""
    form_class = page.get_edit_handler().get_form_class()
    data = request.POST.copy()
    if not data.get("title"):
        data["title"] = gettext("Placeholder title")
    if not data.get("slug"):
        data["slug"] = str(uuid.uuid4())
    return form_class(data, instance=page, parent_page=parent, for_user=request.user)


# What Wagtail's form and block machinery raises for data its own editor never
# posts (a StreamField without its "-count" field, a count that is not a
# number, an unknown block type): the request is malformed, not the server.
MALFORMED_FORM_ERRORS = (KeyError, ValueError, TypeError, IndexError)


def _malformed() -> JsonResponse:
    response = JsonResponse(
        {"error": gettext("The page's form data is incomplete or malformed.")},
        status=400,
    )
    response["Cache-Control"] = "no-store"
    return response


def _hints_response(request: HttpRequest, page: Any, parent: Any) -> JsonResponse:
    form = _bind_form(request, page, parent)
    if isinstance(form, WagtailAdminModelForm):
        form.defer_required_fields()
    # Validation fills form.instance with every valid field, even when another
    # field has an error; parental many-to-many fields are set in memory only.
    try:
        valid = form.is_valid()
        form.save_cluster_m2m()
    except MALFORMED_FORM_ERRORS:
        logger.info("Live hints refused a malformed editor form")
        return _malformed()
    unsaved = form.instance
    site = parent.get_site() if parent is not None else None
    result = page_hints(unsaved, language=page_language(unsaved), site=site).as_dict()
    result["valid"] = valid
    result["invalid_fields"] = sorted(form.errors) if not valid else []
    response = JsonResponse(result)
    response["Cache-Control"] = "no-store"
    return response


def _forbidden() -> JsonResponse:
    # A plain 403, also for non-XHR requests (where Wagtail's admin would turn a
    # PermissionDenied into a redirect to the dashboard).
    return JsonResponse({"error": gettext("You cannot edit this page.")}, status=403)


@require_POST
def page_hints_view(request: HttpRequest, page_id: int) -> JsonResponse:
    """Hints for the unsaved edit form of an existing page."""
    page = get_object_or_404(
        Page.objects.select_related("latest_revision"), id=page_id
    ).get_latest_revision_as_object()
    if not page.permissions_for_user(request.user).can_edit():
        return _forbidden()
    return _hints_response(request, page, page.get_parent().specific)


@require_POST
def new_page_hints_view(
    request: HttpRequest,
    content_type_app_name: str,
    content_type_model_name: str,
    parent_page_id: int,
) -> JsonResponse:
    """Hints for the form of a page being created under ``parent_page_id``."""
    try:
        content_type = ContentType.objects.get_by_natural_key(
            content_type_app_name, content_type_model_name
        )
    except ContentType.DoesNotExist as error:
        raise Http404 from error
    page_class = content_type.model_class()
    if page_class is None or page_class not in get_page_models():
        raise Http404
    parent = get_object_or_404(Page, id=parent_page_id).specific
    if not parent.permissions_for_user(request.user).can_add_subpage():
        return _forbidden()
    page: Any = page_class(locale_id=parent.locale_id)
    # A realistic tree position, as Wagtail's preview-on-create sets it.
    page.depth = parent.depth + 1
    if parent.is_leaf():
        page.path = page._get_path(parent.path, page.depth, 1)
    else:
        page.path = parent.get_last_child()._inc_path()
    return _hints_response(request, page, parent)


# -- Report ---------------------------------------------------------------------------
def lead_generation_page_models() -> list[type[Any]]:
    """Page types listed in the report: lead capture and thank-you pages, and
    any page type whose editor has the ``ContentHintsPanel`` or that declares
    ``content_hint_fields``."""
    return [
        model
        for model in get_page_models()
        if issubclass(model, (LeadCaptureMixin, ThankYouMixin))
        or getattr(model, "content_hint_fields", None) is not None
        or find_hints_panel(model) is not None
    ]


def page_type_label(model: type[Any]) -> str:
    return str(model._meta.verbose_name).capitalize()


def display_title() -> Lower:
    """``get_admin_display_title()`` in SQL, lower-cased: the title order."""
    return Lower(Coalesce(NullIf("draft_title", Value("")), "title"))


class HintsRow:
    """One page of the report, with its stored hint summary.

    ``with_issues`` adds the messages to act on (exports only): stored in the
    language of whoever caused the summary's computation, so computed again
    if the reader's differs. Done here, inside the view, since a CSV export
    streams its rows after the view has returned and left the reader's
    language.
    """

    def __init__(self, page: Any, *, with_issues: bool = False) -> None:
        self.page = page
        self.pk = page.pk
        self.title = page.get_admin_display_title()
        self.page_type = page_type_label(page.specific_class)
        self.status = page.status_string
        self.words = page.hints_words
        self.reading_time_minutes = page.hints_reading_time_minutes
        self.readability = page.hints_readability
        self.readability_formula = page.hints_readability_formula
        self.warnings = page.hints_warnings
        self.poor = page.hints_poor
        self.form_fields = page.hints_form_fields
        self.issues: list[str] | None = None
        if with_issues:
            same_language = page.hints_issues_language == get_language()
            self.issues = page.hints_issues if same_language else page_issues(page)

    def __str__(self) -> str:
        return self.title


class ContentHintsReportView(ReportView):
    """Lead-generation pages with words, readability, warnings and form length.

    The figures come from each page's stored ``ContentHintsSummary``, brought
    up to date first (only missing or stale ones are computed), so that the
    database sorts and paginates: a page of the report costs the same few
    queries however many pages are listed.
    """

    page_title = _("Content hints")
    header_icon = "glasses"
    template_name = "wagtail_leadgen/admin/hints_report.html"
    index_url_name = "wagtail_leadgen_hints:report"
    index_results_url_name = "wagtail_leadgen_hints:report_results"
    model = Page
    any_permission_required = ["add", "change", "publish"]
    default_ordering = "-poor"
    paginate_by = 50
    columns = [
        TitleColumn(
            "title",
            label=_("Title"),
            url_name="wagtailadmin_pages:edit",
            sort_key="title",
        ),
        Column("page_type", label=_("Type"), sort_key="page_type"),
        Column("status", label=_("Status")),
        Column("words", label=_("Words"), sort_key="words"),
        Column(
            "readability",
            label=_("Readability"),
            accessor=lambda row: "–" if row.readability is None else row.readability,
            sort_key="readability",
        ),
        Column("poor", label=_("Poor"), sort_key="poor"),
        Column("warnings", label=_("Warnings"), sort_key="warnings"),
        Column("form_fields", label=_("Form fields"), sort_key="form_fields"),
    ]
    list_export = [
        "title",
        "page_type",
        "status",
        "words",
        "reading_time_minutes",
        "readability",
        "readability_formula",
        "poor",
        "warnings",
        "form_fields",
        "issues",
    ]
    export_headings = {
        "title": _("Title"),
        "page_type": _("Type"),
        "status": _("Status"),
        "words": _("Words"),
        "reading_time_minutes": _("Reading time (min)"),
        "readability": _("Readability"),
        "readability_formula": _("Formula"),
        "poor": _("Poor"),
        "warnings": _("Warnings"),
        "form_fields": _("Form fields"),
        "issues": _("Issues"),
    }

    def get_filename(self) -> str:
        return "content-hints-{}".format(datetime.date.today().strftime("%Y-%m-%d"))

    @cached_property
    def content_types(self) -> dict[type, ContentType]:
        models = lead_generation_page_models()
        return ContentType.objects.get_for_models(*models) if models else {}

    @cached_property
    def pages(self):
        policy = self.permission_policy
        return (
            policy.instances_user_has_any_permission_for(
                self.request.user, ["change", "publish"]
            )
            .filter(content_type__in=list(self.content_types.values()))
            .specific()
        )

    def get_base_queryset(self):
        refresh_summaries(self.pages)
        summary = {
            f"hints_{name}": F(f"leadgen_hints_summary__{name}")
            for name in SUMMARY_FIGURES
        }
        return (
            self.pages.annotate(**summary)
            .annotate_approved_schedule()
            .prefetch_workflow_states()
        )

    def sort_expression(self, key: str) -> Any:
        if key == "title":
            return display_title()
        if key == "page_type":
            return Case(
                *(
                    When(
                        content_type=content_type,
                        then=Value(page_type_label(model).lower()),
                    )
                    for model, content_type in self.content_types.items()
                ),
                default=Value(""),
            )
        return F(f"leadgen_hints_summary__{key}")

    def order_queryset(self, queryset):
        ordering = self.ordering or self.default_ordering
        expression = self.sort_expression(ordering.lstrip("-"))
        if ordering.startswith("-"):
            expression = expression.desc(nulls_last=True)
        else:
            expression = expression.asc(nulls_last=True)
        # Ties in title order; rows without a value (no readability score,
        # no form) come last either way.
        return queryset.order_by(expression, display_title().asc(), "pk")

    def paginate_queryset(self, queryset, page_size: int):
        paginator, page, object_list, is_paginated = super().paginate_queryset(
            queryset, page_size
        )
        return paginator, page, [HintsRow(item) for item in object_list], is_paginated

    def decorate_paginated_queryset(self, object_list):
        # Exports are not paginated (SpreadsheetExportMixin.get_paginate_by),
        # so their rows are built here.
        if self.is_export:
            return [HintsRow(item, with_issues=True) for item in object_list]
        return object_list


class HintsReportMenuItem(MenuItem):
    """Shown to users who may use the page explorer, like Wagtail's page reports."""

    def is_shown(self, request: HttpRequest) -> bool:
        return policy_registry.get_by_type(Page).user_has_any_permission(
            request.user, ["add", "change", "publish"]
        )
