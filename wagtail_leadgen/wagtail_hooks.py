"""All admin wiring of wagtail-leadgen: every admin viewset, URL, menu item and hook.

The views live in ``views/``; this file says where they are served. Every admin
URL of the plugin follows one scheme: a section ``<name>`` is served at
``<admin>/leadgen/<name>/`` in the URL namespace ``wagtail_leadgen_<name>``,
and the names inside a namespace are the views' own, in snake case:

- ``leads`` (viewset): ``wagtail_leadgen_leads:index``, ``…:inspect``,
  ``…:correct``, ``…:export_person``, ``…:auditor_pack``…
- ``deliveries`` (viewset): ``wagtail_leadgen_deliveries:index``, ``…:inspect``,
  ``…:retry``, ``…:applied``, ``…:resume``…
- ``erasures`` (viewset): ``wagtail_leadgen_erasures:index``, ``…:inspect``,
  ``…:erase`` (the confirmation page of "Erase this person")
- ``hints``: ``wagtail_leadgen_hints:page``, ``…:new``, ``…:report``,
  ``…:report_results``
- ``kpis``: ``wagtail_leadgen_kpis:report``
- ``quarantine``: ``wagtail_leadgen_quarantine:index``, ``…:release``,
  ``…:delete`` (spam review, for staff with ``change_lead``)
- ``tests`` (viewset, A/B tests): ``wagtail_leadgen_tests:index``, ``…:inspect``,
  ``…:start``, ``…:stop``, ``…:promote``
- ``register`` (records of processing): ``wagtail_leadgen_register:index``,
  ``…:download``

Consent purposes, request processings and calls to action are Wagtail
snippets: they keep Wagtail's snippet URLs (``wagtailsnippets_wagtail_leadgen_<model>:…``), which Wagtail
itself reverses for choosers, revisions and usage.
"""

from __future__ import annotations

from django.http import Http404
from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSetGroup
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from .audit import register_log_actions
from .gating import is_gated_document
from .models import (
    CallToAction,
    ConsentPurpose,
    Delivery,
    Erasure,
    Lead,
    RequestProcessing,
)
from .panels import add_leadgen_checks
from .services.experiments import register_experiment_log_actions
from .views import callbacks, quarantine
from .views.admin import (
    DeliveryViewSet,
    mark_applied,
    resume,
    retry_delivery,
)
from .views.dashboard import KPIReportView, ReportMenuItem, add_top_pages_panel
from .views.erasure import EraseLeadView, ErasureViewSet
from .views.experiments import ExperimentViewSet, promote, start, stop
from .views.hints import (
    ContentHintsReportView,
    HintsReportMenuItem,
    new_page_hints_view,
    page_hints_view,
)
from .views.rectification import CorrectLeadView
from .views.register import (
    RegisterMenuItem,
    RegisterView,
    download_auditor_pack,
    download_register,
)
from .views.subject_admin import export_person

# -- The URL scheme -----------------------------------------------------------


def url_prefix(section: str) -> str:
    """Where a section of the plugin's admin is served, below the admin's root."""
    return f"leadgen/{section}"


def url_namespace(section: str) -> str:
    """The URL namespace of a section of the plugin's admin."""
    return f"wagtail_leadgen_{section}"


def section_urls(section: str, urlpatterns: list):
    """A section of plain admin URLs (not a viewset), served by the scheme."""
    return path(
        f"{url_prefix(section)}/", include((urlpatterns, url_namespace(section)))
    )


# -- Snippets -----------------------------------------------------------------


class ConsentPurposeViewSet(SnippetViewSet):
    model = ConsentPurpose
    icon = "tick-inverse"
    menu_label = _("Consent purposes")
    list_display = ["name", "requires_confirmation", "retention_months", "live"]
    list_filter = ["requires_confirmation"]
    search_fields = ["name", "checkbox_label"]
    add_to_admin_menu = True
    menu_order = 250


class RequestProcessingViewSet(SnippetViewSet):
    """What is done with the data to answer a request: no checkbox, stated
    next to the button; in the menu right after the consent purposes."""

    model = RequestProcessing
    icon = "clipboard-list"
    menu_label = _("Request processings")
    list_display = ["name", "legal_basis", "retention_months", "live"]
    list_filter = ["legal_basis"]
    search_fields = ["name", "summary"]
    add_to_admin_menu = True
    menu_order = 251


class CallToActionViewSet(SnippetViewSet):
    model = CallToAction
    icon = "pick"
    menu_label = _("Calls to action")
    list_display = ["label", "style", "href"]
    search_fields = ["label"]


register_snippet(ConsentPurposeViewSet)
register_snippet(RequestProcessingViewSet)
register_snippet(CallToActionViewSet)


# -- Leads and CRM deliveries (R19, R20) -----------------------------------------


class ReadOnlyPermissionPolicy(ModelPermissionPolicy):
    """Grants reading only: leads and deliveries are records, not content.

    Reading is viewing and, where the model defines ``export_<model>`` (leads
    do), exporting; each needs its own Django permission.
    """

    read_actions = ("view", "export")

    def user_has_permission(self, user, action):
        return action in self.read_actions and super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)


register_permission_policy(Lead, ReadOnlyPermissionPolicy(Lead), exact_class=True)
register_permission_policy(
    Delivery, ReadOnlyPermissionPolicy(Delivery), exact_class=True
)
register_permission_policy(Erasure, ReadOnlyPermissionPolicy(Erasure), exact_class=True)


class LeadgenViewSetGroup(ModelViewSetGroup):
    menu_label = _("Lead generation")
    menu_icon = "mail"
    menu_order = 240
    # Sections that are not viewsets (the records of processing) join the
    # menu through this hook.
    submenu_hook = "register_leadgen_menu_item"
    items = (
        callbacks.CallbackLeadViewSet(
            url_namespace("leads"),
            url_prefix=url_prefix("leads"),
            extra_urlpatterns=[
                path("correct/<int:pk>/", CorrectLeadView.as_view(), name="correct"),
                path(
                    "export-person/<int:pk>/<str:file_format>/",
                    export_person,
                    name="export_person",
                ),
                path(
                    "auditor-pack/<int:pk>/", download_auditor_pack, name="auditor_pack"
                ),
            ],
        ),
        DeliveryViewSet(
            url_namespace("deliveries"),
            url_prefix=url_prefix("deliveries"),
            extra_urlpatterns=[
                path("retry/<int:pk>/", retry_delivery, name="retry"),
                path("applied/<int:pk>/", mark_applied, name="applied"),
                path("resume/<str:alias>/", resume, name="resume"),
            ],
        ),
        ErasureViewSet(
            url_namespace("erasures"),
            url_prefix=url_prefix("erasures"),
            extra_urlpatterns=[
                path("erase/<int:pk>/", EraseLeadView.as_view(), name="erase"),
            ],
        ),
        ExperimentViewSet(
            url_namespace("tests"),
            url_prefix=url_prefix("tests"),
            extra_urlpatterns=[
                path("start/<int:pk>/", start, name="start"),
                path("stop/<int:pk>/", stop, name="stop"),
                path("promote/<int:pk>/", promote, name="promote"),
            ],
        ),
    )


@hooks.register("register_admin_viewset")
def register_leads_and_deliveries():
    return LeadgenViewSetGroup()


# Viewing and exporting leads are written to the audit log (R19).
hooks.register("register_log_actions", register_log_actions)
# Starting, stopping and promoting A/B tests too.
hooks.register("register_log_actions", register_experiment_log_actions)


@hooks.register("before_serve_document")
def refuse_gated_documents_outside_token_view(document, request):
    """Defence in depth: even if its collection loses its privacy, a gated file is
    served by Wagtail's document URL only to people who can use the admin."""
    if is_gated_document(document) and not request.user.has_perm(
        "wagtailadmin.access_admin"
    ):
        raise Http404


# -- Content hints (R5, R6) and the KPI report (R7) --------------------------------


@hooks.register("register_admin_urls")
def register_admin_urls():
    return [
        section_urls(
            "hints",
            [
                path("page/<int:page_id>/", page_hints_view, name="page"),
                path(
                    "new/<slug:content_type_app_name>/<slug:content_type_model_name>/"
                    "<int:parent_page_id>/",
                    new_page_hints_view,
                    name="new",
                ),
                path("report/", ContentHintsReportView.as_view(), name="report"),
                path(
                    "report/results/",
                    ContentHintsReportView.as_view(results_only=True),
                    name="report_results",
                ),
            ],
        ),
        section_urls("kpis", [path("", KPIReportView.as_view(), name="report")]),
        section_urls(
            "callbacks",
            [
                path("", callbacks.CallbacksView.as_view(), name="index"),
                path("called/<int:pk>/", callbacks.called, name="called"),
            ],
        ),
        section_urls(
            "quarantine",
            [
                path("", quarantine.QuarantineView.as_view(), name="index"),
                path("release/<int:pk>/", quarantine.release, name="release"),
                path("delete/<int:pk>/", quarantine.delete, name="delete"),
            ],
        ),
        section_urls(
            "register",
            [
                path("", RegisterView.as_view(), name="index"),
                path(
                    "download/<slug:file_format>/", download_register, name="download"
                ),
            ],
        ),
    ]


@hooks.register("register_leadgen_menu_item")
def register_quarantine_menu_item():
    """Spam review, for staff with ``change_lead``, in the plugin's menu."""
    return quarantine.QuarantineMenuItem(
        _("Spam quarantine"),
        reverse("wagtail_leadgen_quarantine:index"),
        name="leadgen-quarantine",
        icon_name="warning",
        order=241,
    )


@hooks.register("register_leadgen_menu_item")
def register_callbacks_menu_item():
    """Call-backs to make, for staff who may see leads, beside the inbox."""
    return callbacks.CallbacksMenuItem(
        _("Call-backs"),
        reverse("wagtail_leadgen_callbacks:index"),
        name="leadgen-callbacks",
        icon_name="mobile-alt",
        order=205,
    )


@hooks.register("register_leadgen_menu_item")
def register_register_menu_item():
    return RegisterMenuItem(
        _("Records of processing"),
        reverse("wagtail_leadgen_register:index"),
        name="leadgen-register",
        icon_name="clipboard-list",
        order=300,
    )


@hooks.register("register_reports_menu_item")
def register_dashboard_menu_item():
    return ReportMenuItem(
        _("Lead generation KPIs"),
        reverse("wagtail_leadgen_kpis:report"),
        name="leadgen-kpis",
        icon_name="table",
        order=600,
    )


@hooks.register("register_reports_menu_item")
def register_content_hints_menu_item():
    return HintsReportMenuItem(
        _("Content hints"),
        reverse("wagtail_leadgen_hints:report"),
        name="leadgen-content-hints",
        icon_name="glasses",
        order=650,
    )


# The top lead pages on the admin home page, for those who may see the KPIs.
hooks.register("construct_homepage_panels", add_top_pages_panel)

# The lead-generation checks, fed to Wagtail's Checks panel and userbar.
hooks.register("construct_wagtail_userbar", add_leadgen_checks)
