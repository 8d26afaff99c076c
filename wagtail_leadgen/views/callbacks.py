"""Call-backs in the admin: the requests still to call (or all of them),
each with its SLA badge, and a one-click "called" action with the outcome.

Seeing the list needs ``view_lead`` (it shows numbers and addresses: every
listing is in the audit log, one entry per lead shown); marking a call needs
``change_lead``, is POST only (CSRF-protected) and audited.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from ..audit import VIEW_ACTION, log_callback_called, log_lead_actions
from ..models.callbacks import CallbackOutcome, CallbackRequest
from ..services.callbacks import (
    CallbackState,
    filter_by_callback,
    mark_called,
    sla_badge,
)
from .admin import LeadFilterSet, LeadViewSet

VIEW_PERMISSION = "wagtail_leadgen.view_lead"
CALL_PERMISSION = "wagtail_leadgen.change_lead"
PER_PAGE = 50
SHOW_CHOICES = ("waiting", "all")


# -- The leads inbox's call-back filter ---------------------------------------------
class CallbackLeadFilterSet(LeadFilterSet):
    """The inbox's filters, and whether the lead asked to be called back."""

    callback = django_filters.ChoiceFilter(
        label=_("Call-back"),
        choices=CallbackState.choices,
        method="filter_callback",
        widget=forms.RadioSelect,
        empty_label=_("All"),
    )

    class Meta(LeadFilterSet.Meta):
        fields = [*LeadFilterSet.Meta.fields, "callback"]

    def filter_callback(self, queryset, name, state):
        return filter_by_callback(queryset, state)


class CallbackLeadViewSet(LeadViewSet):
    """The leads inbox, with its call-back filter (``wagtail_hooks`` registers it)."""

    filterset_class = CallbackLeadFilterSet


# -- The call-backs list --------------------------------------------------------------
class CallbacksMenuItem(MenuItem):
    def is_shown(self, request) -> bool:
        return request.user.has_perm(VIEW_PERMISSION)


class CallbacksView(WagtailAdminTemplateMixin, TemplateView):
    """The call-back filter of the leads inbox: waiting first, most urgent first."""

    template_name = "wagtail_leadgen/admin/callbacks.html"
    page_title = _("Call-backs")
    header_icon = "mobile-alt"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(VIEW_PERMISSION):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        show = self.request.GET.get("show")
        show = show if show in SHOW_CHOICES else "waiting"
        callbacks = CallbackRequest.objects.select_related(
            "lead", "called_by", "submission__page"
        )
        if show == "waiting":
            callbacks = callbacks.waiting()
        else:
            callbacks = callbacks.order_by("-requested_at", "-pk")
        page = Paginator(callbacks, PER_PAGE).get_page(self.request.GET.get("p"))
        rows = list(page.object_list)
        if rows:
            log_lead_actions(
                sorted({row.lead_id for row in rows}),
                VIEW_ACTION,
                user=self.request.user,
                data={"list": "callbacks"},
            )
        now = timezone.now()
        context.update(
            show=show,
            page_obj=page,
            rows=[(row, sla_badge(row, now)) for row in rows],
            outcomes=CallbackOutcome.choices,
            can_call=self.request.user.has_perm(CALL_PERMISSION),
        )
        return context


@require_POST
def called(request, pk: int):
    """Mark one request called, with its outcome, by the user, now."""
    if not request.user.has_perm(CALL_PERMISSION):
        raise PermissionDenied
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("wagtail_leadgen_callbacks:index")
    callback = CallbackRequest.objects.select_related("lead").filter(pk=pk).first()
    if callback is None:
        messages.error(request, _("This call-back request no longer exists."))
        return redirect(back)
    outcome = str(request.POST.get("outcome", ""))
    if not mark_called(
        callback,
        user=request.user,
        outcome=outcome,
        notes=str(request.POST.get("notes", ""))[:4000],
    ):
        messages.error(request, _("Choose the outcome of the call."))
        return redirect(back)
    log_callback_called(callback, request.user)
    messages.success(request, _("Marked called."))
    return redirect(back)
