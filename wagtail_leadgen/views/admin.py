"""Admin views: the leads inbox and CRM deliveries, read-only, with a retry action.

Seeing leads needs the plugin's own ``view_lead`` permission and exporting them
``export_lead``, both separate from page editing (R19); every lead page viewed
and every lead exported is written to Wagtail's audit log (``audit``), without
personal data in the entry. Nobody edits or deletes a lead or a delivery here:
changes go through the privacy services; the only actions are to retry a
delivery, and to mark a consent change that needed manual action as applied
by hand, which need ``change_delivery``. The deliveries list names people by
lead id, never by address: it is readable by staff who may not see leads.

The inbox's query and the export's rows are ``services.leads``; these classes
only wire them to Wagtail's generic views. The viewsets are registered, under
their URL prefix and namespace, in ``wagtail_hooks``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn, StatusTagColumn
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.log_actions import registry as log_registry

from ..audit import (
    ACCESS_ACTIONS,
    log_consent_change_applied,
    log_erasure_applied,
    log_lead_viewed,
    log_leads_exported,
)
from ..models import (
    ConsentPurpose,
    Delivery,
    DeliveryStatus,
    DownloadGrant,
    Lead,
    Maturity,
    PausedDestination,
)
from ..models.consent import wording_sha256
from ..services.classification import annotate_signals, signals_of
from ..services.exports import csv_response, xlsx_response
from ..services.handoff import handoff_for
from ..services.leads import (
    EXPORT_COLUMNS,
    DeliveryState,
    annotate_inbox,
    answer_items,
    export_table,
    filter_by_delivery_state,
    filter_by_last_contact,
    filter_by_maturity,
    filter_by_page,
    filter_by_purpose_granted,
    full_name,
    pages_with_leads,
    search_leads,
)
from ..services.outbox import applied_by_hand, resume_destination, retry_now
from .erasure import erase_button
from .rectification import correct_buttons

# Filters -------------------------------------------------------------------


class LeadFilterSet(WagtailFilterSet):
    """The inbox's filters: the form for the ``services.leads`` filter functions."""

    page = django_filters.ModelChoiceFilter(
        label=_("Page"),
        queryset=lambda request: pages_with_leads(),
        method="filter_page",
        help_text=_("Leads who sent a form on this page."),
    )
    purpose_granted = django_filters.ModelChoiceFilter(
        label=_("Consent granted"),
        queryset=ConsentPurpose.objects.order_by("name"),
        method="filter_purpose_granted",
        help_text=_("Leads whose latest answer for this purpose is a yes."),
    )
    status = django_filters.ChoiceFilter(
        label=_("CRM delivery"),
        choices=DeliveryState.choices,
        method="filter_status",
        widget=forms.RadioSelect,
        empty_label=_("All"),
    )
    last_contact = django_filters.DateFromToRangeFilter(
        label=_("Last contact"),
        field_name="last_contact_at",
        method="filter_last_contact",
        widget=DateRangePickerWidget,
    )
    maturity = django_filters.ChoiceFilter(
        label=_("Maturity"),
        choices=Maturity.choices,
        method="filter_maturity",
        widget=forms.RadioSelect,
        empty_label=_("All"),
    )

    class Meta:
        model = Lead
        fields = ["page", "purpose_granted", "status", "last_contact", "maturity"]

    def filter_page(self, queryset, name, page):
        return filter_by_page(queryset, page)

    def filter_purpose_granted(self, queryset, name, purpose):
        return filter_by_purpose_granted(queryset, purpose)

    def filter_status(self, queryset, name, state):
        return filter_by_delivery_state(queryset, state)

    def filter_last_contact(self, queryset, name, bounds: slice):
        # The range field gives the first day's start and the last day's end.
        return filter_by_last_contact(queryset, bounds.start, bounds.stop)

    def filter_maturity(self, queryset, name, maturity):
        return filter_by_maturity(queryset, maturity)


# Views ---------------------------------------------------------------------


class LeadIndexView(IndexView):
    """The inbox: one row per lead, filters, search by email and name, exports."""

    def get_base_queryset(self):
        return annotate_inbox(super().get_base_queryset())

    def order_queryset(self, queryset):
        """Sort as asked, then by id, so that pages never repeat or skip a lead."""
        queryset = super().order_queryset(queryset)
        if queryset.query.order_by:
            queryset = queryset.order_by(*queryset.query.order_by, "-pk")
        return queryset

    @cached_property
    def columns(self):
        return [
            self._get_title_column("email"),
            Column("name", label=_("Name"), accessor=full_name),
            Column("source_page", label=_("Source page"), accessor="source_page_title"),
            Column("campaign", label=_("Campaign"), sort_key="campaign"),
            StatusTagColumn(
                "get_maturity_display",
                label=_("Maturity"),
                sort_key="maturity_rank",
                primary=lambda lead: lead.maturity == Maturity.HOT,
            ),
            Column(
                "submission_count", label=_("Submissions"), sort_key="submission_count"
            ),
            DateColumn(
                "last_contact_at", label=_("Last contact"), sort_key="last_contact_at"
            ),
        ]

    def search_queryset(self, queryset):
        """Every word must be found in the email address or a first or last name."""
        if not self.is_searching:
            return queryset
        return search_leads(queryset, self.search_query)

    # Exports -----------------------------------------------------------------

    @cached_property
    def show_export_buttons(self):
        return self.user_has_permission("export")

    def dispatch(self, request, *args, **kwargs):
        if self.is_export and not self.user_has_permission("export"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        if not self.is_export:
            return super().get(request, *args, **kwargs)
        if self.filters and not self.filters.is_valid():
            # never export more than the person asked for
            messages.error(request, _("Correct the filters before exporting."))
            query = request.GET.copy()
            query.pop("export", None)
            return redirect(f"{self.index_url}?{query.urlencode()}")
        return self.as_spreadsheet(self.get_queryset(), request.GET["export"])

    def filters_for_log(self) -> dict[str, Any]:
        """The filters applied, as ids, dates and choices; a search only as a flag.

        Search words may be an address or a name, so they stay out of the log.
        """
        applied: dict[str, Any] = {"search": self.is_searching}
        if self.filters:
            for name, value in self.filters.form.cleaned_data.items():
                if isinstance(value, slice):
                    value = [
                        bound.date().isoformat() if bound else None
                        for bound in (value.start, value.stop)
                    ]
                elif value not in (None, ""):
                    value = str(getattr(value, "pk", value))
                if value not in (None, ""):
                    applied[name] = value
        return applied

    def as_spreadsheet(self, queryset, spreadsheet_format):
        log_leads_exported(
            list(queryset.values_list("pk", flat=True)),
            self.request.user,
            export_format=spreadsheet_format,
            filters=self.filters_for_log(),
        )
        headings, rows = export_table(queryset)
        filename = f"leads-{timezone.now():%Y%m%d-%H%M}"
        if spreadsheet_format == self.FORMAT_XLSX:
            return xlsx_response(filename, headings, rows)
        return csv_response(filename, headings, rows)


class LeadInspectView(InspectView):
    """A lead's page: the person, their submissions, consent proofs, where the
    lead went (and why not elsewhere) and its deliveries."""

    def get(self, request, *args, **kwargs):
        log_lead_viewed(self.object, request.user)
        return super().get(request, *args, **kwargs)

    def get_object(self, queryset=None):
        return get_object_or_404(
            annotate_signals(annotate_inbox(Lead.objects.all())), pk=self.pk
        )

    def get_fields(self):
        return []  # the template lays the person out itself

    @cached_property
    def header_more_buttons(self):
        """The person's rights, each for users with its own permission."""
        erase = erase_button(self.object, self.request.user)
        return [
            *super().header_more_buttons,
            *correct_buttons(self.request.user, self.object),
            *([erase] if erase else []),
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        lead = self.object
        submissions = list(
            lead.submissions.filter(is_spam=False)
            .select_related("page")
            .prefetch_related(
                Prefetch(
                    "download_grants",
                    queryset=DownloadGrant.objects.select_related("document"),
                ),
            )
        )
        records = list(
            lead.consent_records.select_related("purpose", "purpose_revision").defer(
                "purpose_revision__content"
            )
        )
        for record in records:
            record.wording_intact = wording_sha256(record.wording) == (
                record.wording_sha256
            )
        context.update(
            name=full_name(lead),
            signals=signals_of(lead),
            submissions=[
                (submission, answer_items(submission.answers))
                for submission in submissions
            ],
            # New leads, consent changes and corrections, to every destination.
            deliveries=lead.deliveries.select_related(
                "consent_record__purpose", "rectification"
            ),
            rectifications=[
                (rectification, answer_items(rectification.values))
                for rectification in lead.rectifications.all()
            ],
            consent_records=records,
            handoffs=handoff_for(lead),
            access_log=log_registry.get_logs_for_instance(lead)
            .filter(action__in=ACCESS_ACTIONS)
            .select_related("user")[:20],
        )
        return context


class LeadViewSet(ModelViewSet):
    model = Lead
    #: More URL patterns under the viewset's prefix and namespace (the
    #: "Correct" action), listed with every admin URL in ``wagtail_hooks``.
    extra_urlpatterns: Sequence = ()
    icon = "user"
    menu_label = _("Leads")
    index_view_class = LeadIndexView
    inspect_view_class = LeadInspectView
    filterset_class = LeadFilterSet
    search_fields = ["email"]  # and names: see LeadIndexView.search_queryset
    ordering = "-last_contact_at"
    list_export = [key for key, _heading, _value in EXPORT_COLUMNS]
    inspect_view_enabled = True
    inspect_template_name = "wagtail_leadgen/admin/lead_inspect.html"
    exclude_form_fields: list[
        str
    ] = []  # required by ModelViewSet; the policy denies editing

    def get_urlpatterns(self):
        return [*super().get_urlpatterns(), *self.extra_urlpatterns]

    def get_permissions_to_register(self):
        """Only what means something for leads: view, export, change (the
        correction of a person's details; there is no add or edit form) and
        erase."""
        return (
            super()
            .get_permissions_to_register()
            .filter(
                codename__in=["view_lead", "export_lead", "change_lead", "erase_lead"]
            )
        )


def lead_reference(delivery: Delivery) -> str:
    """The person a delivery is about, by lead id (or erasure id, once erased):
    never their address."""
    if delivery.erasure_id is not None:
        return _("Erasure #%(id)s") % {"id": delivery.erasure_id}
    if delivery.lead_id is None:
        return "—"
    return _("Lead #%(id)s") % {"id": delivery.lead_id}


def consent_change(delivery: Delivery) -> str:
    """The purpose and decision of a consent change; empty for a new lead."""
    return str(delivery.consent_record) if delivery.consent_record_id else ""


class DeliveryIndexView(IndexView):
    """Every delivery; people appear as lead ids, never addresses."""

    def get_base_queryset(self):
        return (
            super()
            .get_base_queryset()
            .select_related("consent_record__purpose", "rectification")
        )


class DeliveryInspectView(InspectView):
    """One delivery; for a consent change that needs staff, what to do."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["lead_reference"] = lead_reference(self.object)
        context["manual"] = self.object.status == DeliveryStatus.MANUAL
        return context


class DeliveryViewSet(ModelViewSet):
    model = Delivery
    icon = "resubmit"
    menu_label = _("CRM deliveries")
    index_view_class = DeliveryIndexView
    inspect_view_class = DeliveryInspectView
    list_display = [
        "backend_alias",
        Column("kind", label=_("Kind"), accessor="get_kind_display"),
        Column("lead", label=_("Lead"), accessor=lead_reference),
        Column("change", label=_("Consent change"), accessor=consent_change),
        StatusTagColumn(
            "get_status_display",
            label=_("Status"),
            sort_key="status",
            primary=lambda delivery: delivery.status == DeliveryStatus.MANUAL,
        ),
        "attempts",
        "next_attempt_at",
        "last_error",
    ]
    list_filter = ["status", "kind", "backend_alias"]
    inspect_view_enabled = True
    inspect_template_name = "wagtail_leadgen/admin/delivery_inspect.html"
    inspect_view_fields = [
        "kind",
        "backend_alias",
        "consent_record",
        "rectification",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "last_status_code",
        "remote_id",
        "idempotency_key",
        "created_at",
        "delivered_at",
    ]
    exclude_form_fields: list[
        str
    ] = []  # required by ModelViewSet; the policy denies editing

    #: More URL patterns under the viewset's prefix and namespace: the retry
    #: and resume actions, listed with every admin URL in ``wagtail_hooks``.
    extra_urlpatterns: Sequence = ()

    def get_urlpatterns(self):
        return [*super().get_urlpatterns(), *self.extra_urlpatterns]


def _require_change(request) -> None:
    if not request.user.has_perm("wagtail_leadgen.change_delivery"):
        raise PermissionDenied


@require_POST
def retry_delivery(request, pk: int):
    """Queue a failed or waiting delivery again, due now."""
    _require_change(request)
    delivery = get_object_or_404(Delivery, pk=pk)
    if delivery.status == DeliveryStatus.DELIVERED:
        messages.info(request, _("This delivery already succeeded."))
    else:
        retry_now([delivery])
        messages.success(request, _("The delivery will be attempted again now."))
    return redirect("wagtail_leadgen_deliveries:inspect", pk)


@require_POST
def mark_applied(request, pk: int):
    """Record that staff applied a consent change, a correction or an erasure
    by hand at its destination."""
    _require_change(request)
    delivery = get_object_or_404(Delivery, pk=pk)
    if not applied_by_hand(delivery):
        messages.info(request, _("This delivery does not need manual action."))
    elif delivery.erasure_id is not None:
        log_erasure_applied(delivery, request.user)
        messages.success(request, _("The erasure is recorded as done by hand."))
    else:
        log_consent_change_applied(delivery, request.user)
        if delivery.rectification_id:
            messages.success(request, _("The correction is recorded as applied."))
        else:
            messages.success(request, _("The consent change is recorded as applied."))
    return redirect("wagtail_leadgen_deliveries:inspect", pk)


@require_POST
def resume(request, alias: str):
    """Resume a destination paused after it answered 410 Gone."""
    _require_change(request)
    if "\x00" in alias:  # no alias holds a NUL, which PostgreSQL refuses in a query
        raise Http404
    get_object_or_404(PausedDestination, backend_alias=alias)
    count = resume_destination(alias)
    messages.success(
        request,
        _("Destination %(alias)s resumed; %(count)s waiting deliveries queued.")
        % {"alias": alias, "count": count},
    )
    return redirect("wagtail_leadgen_deliveries:index")
