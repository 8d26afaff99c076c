"""Spam review in the admin: the quarantine list, and release or delete one.

Everything here needs ``change_lead``: the list shows the address each
submission carries, so it is personal data, and every listing is written
to Wagtail's audit log (one entry per submission shown, by id). Release
and delete are POST only and audited too. A row that was released or
deleted meanwhile, a page deleted since, an invalid address: each gets a
message, never an error page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from ..audit import log_quarantine_viewed, log_spam_deleted, log_spam_released
from ..models.leads import Submission
from ..services import quarantine

PERMISSION = "wagtail_leadgen.change_lead"
PER_PAGE = 50


def can_review_spam(user) -> bool:
    return user.has_perm(PERMISSION)


def _require_review(request) -> None:
    if not can_review_spam(request.user):
        raise PermissionDenied


class QuarantineMenuItem(MenuItem):
    """Shown only to staff who may review spam."""

    def is_shown(self, request) -> bool:
        return can_review_spam(request.user)


class QuarantineView(WagtailAdminTemplateMixin, TemplateView):
    """Quarantined submissions: reason, date, page and the address sent."""

    template_name = "wagtail_leadgen/admin/quarantine.html"
    page_title = _("Spam quarantine")
    header_icon = "warning"

    def dispatch(self, request, *args, **kwargs):
        _require_review(request)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        paginator = Paginator(quarantine.quarantined(), PER_PAGE)
        page = paginator.get_page(self.request.GET.get("p"))
        rows = list(page.object_list)
        log_quarantine_viewed(rows, self.request.user)
        context.update(
            page_obj=page,
            rows=[(row, quarantine.address_of(row)) for row in rows],
        )
        return context


def _back() -> Any:
    return redirect(reverse("wagtail_leadgen_quarantine:index"))


@require_POST
def release(request, pk: int):
    """Send a false positive through the form's capture path, as a lead."""
    _require_review(request)
    try:
        result, spam = quarantine.release(pk)
    except quarantine.ReleaseProblem as problem:
        messages.error(request, problem.message)
        return _back()
    log_spam_released(result.lead, spam.pk, spam.spam_reason, request.user)
    messages.success(
        request,
        _("Released: the submission is now a lead and goes to its CRMs as usual."),
    )
    return _back()


@require_POST
def delete(request, pk: int):
    """Delete one quarantined submission; a tombstone stays."""
    _require_review(request)
    spam = Submission.objects.filter(pk=pk, is_spam=True).first()
    requested_by = request.user.get_username()
    if spam is None or quarantine.delete_spam(pk, requested_by=requested_by) is None:
        messages.error(request, quarantine.NotQuarantined.message)  # handled meanwhile
        return _back()
    log_spam_deleted(spam, request.user)
    messages.success(request, _("The quarantined submission is deleted."))
    return _back()
