"""Erasure in the admin (R15): "Erase this person" on a lead's page, and the
list of erasures (tombstones) with what each CRM answered."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import Button

from ..audit import lead_log_label, log_lead_erased
from ..models import Delivery, DeliveryStatus, Erasure, Lead
from ..services.erasure import AlreadyErased, destinations_to_ask, erase_lead

ERASE_PERMISSION = "wagtail_leadgen.erase_lead"


def erase_button(lead: Lead, user) -> Button | None:
    """The "Erase this person" button of a lead's page, for users who may."""
    if not user.has_perm(ERASE_PERMISSION):
        return None
    return Button(
        _("Erase this person"),
        url=reverse("wagtail_leadgen_erasures:erase", args=[lead.pk]),
        icon_name="bin",
        priority=90,
    )


class ErasureRequestForm(forms.Form):
    note = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "How the request came in, e.g. a letter from the person's heirs. "
            "Never type the person's address or name here: this note is kept."
        ),
    )


class EraseLeadView(WagtailAdminTemplateMixin, FormView):
    """Confirm, with a reason, then erase the person and ask the CRMs to."""

    form_class = ErasureRequestForm
    template_name = "wagtail_leadgen/admin/erase_confirm.html"
    page_title = _("Erase this person")
    header_icon = "bin"
    lead: Lead

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(ERASE_PERMISSION):
            raise PermissionDenied
        lead = Lead.objects.filter(pk=kwargs["pk"]).first()
        if lead is None:
            return self._already_erased()
        self.lead = lead
        return super().dispatch(request, *args, **kwargs)

    def get_page_subtitle(self) -> str:
        return lead_log_label(self.lead.pk)

    def get_context_data(self, **kwargs) -> dict[str, Any]:
        return super().get_context_data(
            lead=self.lead,
            lead_reference=lead_log_label(self.lead.pk),
            destinations=destinations_to_ask(self.lead),
            cancel_url=reverse("wagtail_leadgen_leads:inspect", args=[self.lead.pk]),
            **kwargs,
        )

    def form_valid(self, form: ErasureRequestForm) -> HttpResponse:
        lead_pk = self.lead.pk
        try:
            erasure = erase_lead(
                self.lead,
                reason=Erasure.Reason.STAFF,
                requested_by=self.request.user.get_username(),
                note=form.cleaned_data["note"],
            )
        except AlreadyErased:
            return self._already_erased()
        log_lead_erased(lead_pk, erasure, self.request.user)
        messages.success(
            self.request,
            _(
                "%(lead)s was erased (erasure #%(erasure)s). The CRMs that had "
                "the person are asked to erase them too: see the erasures list."
            )
            % {"lead": lead_log_label(lead_pk), "erasure": erasure.pk},
        )
        return redirect("wagtail_leadgen_leads:index")

    def _already_erased(self) -> HttpResponse:
        messages.info(self.request, _("This person's data was already erased."))
        return redirect("wagtail_leadgen_leads:index")


# -- The erasures list (tombstones) ------------------------------------------------
OUTCOMES = {
    DeliveryStatus.DELIVERED: _("%(count)s done"),
    DeliveryStatus.PENDING: _("%(count)s pending"),
    DeliveryStatus.FAILED: _("%(count)s failed"),
    DeliveryStatus.MANUAL: _("%(count)s manual action needed"),
}


def crm_outcome(erasure: Erasure) -> str:
    """How the CRMs answered, e.g. "2 done, 1 manual action needed"."""
    counts: dict[str, int] = {}
    for delivery in erasure.deliveries.all():
        counts[delivery.status] = counts.get(delivery.status, 0) + 1
    if not counts:
        return str(_("No CRM had the person"))
    return ", ".join(
        str(OUTCOMES[DeliveryStatus(status)]) % {"count": count}
        for status, count in sorted(counts.items())
    )


class ErasureIndexView(IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().prefetch_related("deliveries")


class ErasureInspectView(InspectView):
    """One erasure: what went, why, and each CRM's outcome."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["deliveries"] = Delivery.objects.filter(erasure=self.object)
        context["removed"] = sorted(self.object.removed.items())
        return context


class ErasureViewSet(ModelViewSet):
    model = Erasure
    icon = "bin"
    menu_label = _("Erasures")
    index_view_class = ErasureIndexView
    inspect_view_class = ErasureInspectView
    list_display = [
        Column("erasure", label=_("Erasure"), accessor=str),
        DateColumn("created_at", label=_("Erased at")),
        "requested_by",
        Column("crm", label=_("CRM outcome"), accessor=crm_outcome),
        DateColumn("completed_at", label=_("Completed at")),
    ]
    list_filter = ["reason"]
    ordering = "-created_at"
    inspect_view_enabled = True
    inspect_template_name = "wagtail_leadgen/admin/erasure_inspect.html"
    inspect_view_fields = [
        "created_at",
        "reason",
        "requested_by",
        "note",
        "destinations",
        "completed_at",
    ]
    exclude_form_fields: list[
        str
    ] = []  # required by ModelViewSet; the policy denies editing

    def get_permissions_to_register(self):
        """Only viewing: erasures are records, written by the erasure itself."""
        return super().get_permissions_to_register().filter(codename="view_erasure")

    #: More URL patterns under the viewset's prefix and namespace: the erase
    #: action of a lead's page, listed with every admin URL in ``wagtail_hooks``.
    extra_urlpatterns: Sequence = ()

    def get_urlpatterns(self):
        return [*super().get_urlpatterns(), *self.extra_urlpatterns]
