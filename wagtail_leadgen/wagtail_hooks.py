"""All admin wiring of wagtail-leadgen."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from .audit import register_log_actions
from .gating import is_gated_document
from .models import CallToAction, ConsentPurpose, Delivery, Lead
from .views.admin import LeadgenViewSetGroup, ReadOnlyPermissionPolicy


class ConsentPurposeViewSet(SnippetViewSet):
    model = ConsentPurpose
    icon = "tick-inverse"
    menu_label = _("Consent purposes")
    list_display = ["name", "legal_basis", "is_offer", "live"]
    list_filter = ["legal_basis", "is_offer"]
    search_fields = ["name", "checkbox_label"]
    add_to_admin_menu = True
    menu_order = 250


class CallToActionViewSet(SnippetViewSet):
    model = CallToAction
    icon = "pick"
    menu_label = _("Calls to action")
    list_display = ["label", "style", "href"]
    search_fields = ["label"]


register_snippet(ConsentPurposeViewSet)
register_snippet(CallToActionViewSet)


register_permission_policy(Lead, ReadOnlyPermissionPolicy(Lead), exact_class=True)
register_permission_policy(
    Delivery, ReadOnlyPermissionPolicy(Delivery), exact_class=True
)


@hooks.register("register_admin_viewset")
def register_leads_and_deliveries():
    return LeadgenViewSetGroup()


@hooks.register("before_serve_document")
def refuse_gated_documents_outside_token_view(document, request):
    """Defence in depth: even if its collection loses its privacy, a gated file is
    served by Wagtail's document URL only to people who can use the admin."""
    if is_gated_document(document) and not request.user.has_perm(
        "wagtailadmin.access_admin"
    ):
        raise Http404


# -- KPI dashboard (R7) ---------------------------------------------------------------
@hooks.register("register_admin_urls")
def register_dashboard_urls():
    from django.urls import path

    from .views.dashboard import KPIReportView

    return [
        path(
            "leadgen/kpis/",
            KPIReportView.as_view(),
            name="wagtail_leadgen_dashboard",
        )
    ]


@hooks.register("register_reports_menu_item")
def register_dashboard_menu_item():
    from django.urls import reverse

    from .views.dashboard import ReportMenuItem

    return ReportMenuItem(
        _("Lead generation KPIs"),
        reverse("wagtail_leadgen_dashboard"),
        name="leadgen-kpis",
        icon_name="table",
        order=600,
    )


@hooks.register("construct_homepage_panels")
def add_dashboard_panel(request, panels):
    from .views.dashboard import add_top_pages_panel

    add_top_pages_panel(request, panels)


# Viewing and exporting leads are written to the audit log (R19).
hooks.register("register_log_actions", register_log_actions)


# -- Content hints (R5, R6) -------------------------------------------------------------
@hooks.register("register_admin_urls")
def register_content_hints_urls():
    from .views.hints import admin_urls

    return admin_urls()


@hooks.register("register_reports_menu_item")
def register_content_hints_menu_item():
    from django.urls import reverse

    from .views.hints import HintsReportMenuItem

    return HintsReportMenuItem(
        _("Content hints"),
        reverse("wagtail_leadgen_hints:report"),
        name="leadgen-content-hints",
        icon_name="glasses",
        order=650,
    )


@hooks.register("construct_wagtail_userbar")
def add_lead_generation_checks(request, items, page):
    """Feed the lead-generation checks to Wagtail's Checks panel and userbar."""
    from .panels import add_leadgen_checks

    add_leadgen_checks(request, items, page)
