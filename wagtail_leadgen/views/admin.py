"""Admin views: leads and their CRM deliveries, read-only, with a retry action.

Seeing leads needs the plugin's own ``view`` permissions, separate from page
editing (R19). Nobody edits or deletes a lead or a delivery here: changes go
through the privacy services; the only action is to retry a delivery, which
needs ``change_delivery``.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.permission_policies import ModelPermissionPolicy

from ..models import Delivery, DeliveryStatus, Lead, PausedDestination
from ..services.delivery import resume_destination, retry_now


class ReadOnlyPermissionPolicy(ModelPermissionPolicy):
    """Grants viewing only: leads and deliveries are records, not content."""

    def user_has_permission(self, user, action):
        return action == "view" and super().user_has_permission(user, "view")

    def user_has_any_permission(self, user, actions):
        return "view" in actions and super().user_has_permission(user, "view")


class LeadViewSet(ModelViewSet):
    model = Lead
    icon = "user"
    menu_label = _("Leads")
    list_display = ["email", "created_at", "last_contact_at"]
    search_fields = ["email"]
    inspect_view_enabled = True
    inspect_template_name = "wagtail_leadgen/admin/lead_inspect.html"
    inspect_view_fields = ["email", "created_at", "last_contact_at"]
    exclude_form_fields = []  # required by ModelViewSet; the policy denies editing


class DeliveryViewSet(ModelViewSet):
    model = Delivery
    icon = "resubmit"
    menu_label = _("CRM deliveries")
    list_display = [
        "backend_alias",
        "submission",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
    ]
    list_filter = ["status", "backend_alias"]
    inspect_view_enabled = True
    inspect_template_name = "wagtail_leadgen/admin/delivery_inspect.html"
    inspect_view_fields = [
        "backend_alias",
        "submission",
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
    exclude_form_fields = []  # required by ModelViewSet; the policy denies editing

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("retry/<int:pk>/", retry_delivery, name="retry"),
            path("resume/<str:alias>/", resume, name="resume"),
        ]


class LeadgenViewSetGroup(ModelViewSetGroup):
    menu_label = _("Lead generation")
    menu_icon = "mail"
    menu_order = 240
    items = (
        LeadViewSet("wagtail_leadgen_lead"),
        DeliveryViewSet("wagtail_leadgen_delivery"),
    )


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
    return redirect("wagtail_leadgen_delivery:inspect", pk)


@require_POST
def resume(request, alias: str):
    """Resume a destination paused after it answered 410 Gone."""
    _require_change(request)
    get_object_or_404(PausedDestination, backend_alias=alias)
    count = resume_destination(alias)
    messages.success(
        request,
        _("Destination %(alias)s resumed; %(count)s waiting deliveries queued.")
        % {"alias": alias, "count": count},
    )
    return redirect("wagtail_leadgen_delivery:index")
