"""The re-permission link of the renewal email (R16): GET and HEAD show what
it keeps with a button, only the page's POST renews (mail scanners follow
links). A bad link gets a page that says what to do next, with a 4xx
status; nothing changes. Every response is private and not indexed, and
the page speaks the language of the person's emails.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from ..mailer import wording_of
from ..models.settings import LeadgenSiteSettings
from ..responses import private
from ..services import renewal
from ..services.preferences import language_of, preferences_token

logger = logging.getLogger("wagtail_leadgen.security")

_PROBLEMS: dict[type[renewal.LinkProblem], tuple[int, Any, Any]] = {
    renewal.UnknownLink: (
        404,
        _("This link is not valid"),
        _(
            "The link may have been cut or changed. Open it again from the email, "
            "copied in full."
        ),
    ),
    renewal.UsedLink: (
        410,
        _("Your data is already kept"),
        _(
            "This link was used: your answer is recorded. You can see and change "
            "your choices on your preferences page."
        ),
    ),
    renewal.ExpiredLink: (
        410,
        _("This link has expired"),
        _(
            "The period it offered to renew is over, so those consents ended. To "
            "hear from us again, fill in one of our forms and tick the box."
        ),
    ),
}


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    response = render(
        request, f"wagtail_leadgen/consent/{template}", context, status=status
    )
    if status >= 400:
        # The refusal is logged below, without the link (which may still work).
        response._has_been_logged = True  # type: ignore[attr-defined]
    response = private(response)
    # "no-referrer" would make the browser post the form with "Origin: null",
    # which the CSRF check refuses; "same-origin" still keeps the token home.
    response["Referrer-Policy"] = "same-origin"
    return response


def _preferences_path(lead) -> str:
    return reverse("wagtail_leadgen:preferences", args=[preferences_token(lead)])


def _problem(request: HttpRequest, problem: renewal.LinkProblem) -> HttpResponse:
    status, title, message = _PROBLEMS[type(problem)]
    lead = problem.request.lead if problem.request is not None else None
    context = {
        "title": title,
        "message": message,
        "preferences_path": _preferences_path(lead) if lead is not None else None,
        "controller": LeadgenSiteSettings.for_request(request),
    }
    return _page(request, "problem.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def renew(request: HttpRequest, token: str) -> HttpResponse:
    """Show what the link keeps; keep it on the page's POST only."""
    try:
        renewal_request = renewal.renewal_for_token(token)
    except renewal.LinkProblem as problem:
        logger.warning("Renewal refused: %s", type(problem).__name__)
        return _problem(request, problem)
    lead = renewal_request.lead
    with translation.override(language_of(lead) or get_language()):
        if request.method != "POST":
            wordings = [
                renewal.current_wording(purpose)
                for purpose in renewal.renewable_purposes(lead)
            ]
            context = {"wordings": wordings, "expires_at": renewal_request.expires_at}
            return _page(request, "renew.html", context)
        try:
            records = renewal.renew(renewal_request)
        except renewal.LinkProblem as problem:
            return _problem(request, problem)
        context = {
            "wordings": [wording_of(record) for record in records],
            "preferences_path": _preferences_path(lead),
        }
        return _page(request, "renewed.html", context)
