"""Admin views: the records of processing (R18) and a lead's auditor's pack.

The register holds no personal data, only configuration; reading it needs
``wagtail_leadgen.view_register`` (declared on consent purposes), so that a
DPO or an auditor can be given it without seeing leads or editing purposes.
The auditor's pack holds one person's data: it needs ``export_lead``, like
every other way of taking a lead out of the site, and each download is in
the audit log. The URLs are wired in ``wagtail_hooks`` (the pack's with the
lead's other URLs, in the leads section).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from ..audit import log_auditor_pack
from ..models import Lead
from ..services.exports import csv_response, download_response
from ..services.pack import auditor_pack
from ..services.register import (
    FORMATS,
    register_entries,
    register_html,
    register_json,
    register_table,
)

PERMISSION = "wagtail_leadgen.view_register"

# The printable page embeds purpose texts (sanitised HTML) and its own style.
PRINTABLE_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def can_view_register(user) -> bool:
    return user.is_active and user.has_perm(PERMISSION)


class RegisterMenuItem(MenuItem):
    """The register's entry in the plugin's menu, for users who may read it."""

    def is_shown(self, request) -> bool:
        return can_view_register(request.user)


class RegisterView(WagtailAdminTemplateMixin, TemplateView):
    """Every live processing, with the downloads."""

    template_name = "wagtail_leadgen/register/index.html"
    page_title = _("Records of processing")
    header_icon = "clipboard-list"

    def dispatch(self, request, *args, **kwargs):
        if not can_view_register(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        entries = register_entries()
        context.update(
            entries=entries,
            controller=entries[0].controller if entries else None,
            downloads=[
                (
                    label,
                    reverse("wagtail_leadgen_register:download", args=[file_format]),
                )
                for file_format, label in (
                    ("json", _("Download JSON")),
                    ("csv", _("Download CSV")),
                    ("html", _("Printable version")),
                )
            ],
        )
        return context


@require_GET
def download_register(request: HttpRequest, file_format: str) -> HttpResponseBase:
    """The register as a JSON or CSV file, or as a printable page."""
    if not can_view_register(request.user):
        raise PermissionDenied
    if file_format not in FORMATS:
        raise Http404
    entries = register_entries()
    filename = f"records-of-processing-{timezone.now():%Y%m%d}"
    if file_format == "json":
        return download_response(
            register_json(entries),
            f"{filename}.json",
            "application/json; charset=utf-8",
        )
    if file_format == "csv":
        return csv_response(filename, *register_table(entries))
    response = HttpResponse(register_html(entries))
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = PRINTABLE_CSP
    return response


@require_GET
def download_auditor_pack(request: HttpRequest, pk: int) -> HttpResponse:
    """One lead's evidence for an auditor, as a ZIP; written to the audit log."""
    if not request.user.has_perm("wagtail_leadgen.export_lead"):
        raise PermissionDenied
    lead = get_object_or_404(Lead, pk=pk)
    content = auditor_pack(lead)
    log_auditor_pack(lead, request.user, channel="admin")
    return download_response(
        content, f"auditor-pack-lead-{lead.pk}.zip", "application/zip"
    )
