"""The pages reached from the emails a visitor gets: confirm, unsubscribe, preferences.

- ``confirm``: GET and HEAD show what the link confirms, with a button; only
  the page's POST confirms (mail scanners follow and prefetch links).
- ``unsubscribe``: RFC 8058 one-click. A POST whose body is
  ``List-Unsubscribe=One-Click`` (form-encoded or multipart, no cookie, no
  CSRF token: mail providers send it) withdraws at once; GET opens the
  preferences page.
- ``preferences``: each purpose with its state; withdraw one or all, give a
  consent again with a tick.

A bad link of any kind gets a page that says what to do next, with a 4xx
status; nothing changes. Every response is private, not cached, not indexed,
and sends no referrer. The pages speak the language of the person's emails.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ..mailer import wording_of
from ..models.privacy import ConfirmationRequest, SuppressionSource
from ..models.settings import LeadgenSiteSettings
from ..responses import private
from ..services import optin, preferences
from ..services.preferences import LinkHolder, NotOffered, UnknownLink

logger = logging.getLogger("wagtail_leadgen.security")

_PROBLEMS: dict[str, tuple[int, Any, Any]] = {
    "confirm_unknown": (
        404,
        _("This confirmation link is not valid"),
        _(
            "The link may have been cut or changed. Open it again from the email, "
            "copied in full. If it still does not work, fill in the form again."
        ),
    ),
    "confirm_used": (
        410,
        _("This confirmation link has already been used"),
        _(
            "A confirmation link works once. What it confirmed is recorded; you "
            "can see and change your choices on your preferences page."
        ),
    ),
    "confirm_expired": (
        410,
        _("This confirmation link has expired"),
        _(
            "Nothing was confirmed and nothing will be sent to you. To subscribe, "
            "fill in the form again and tick the box: you will get a new link."
        ),
    ),
    "confirm_nothing": (
        410,
        _("There is nothing left to confirm"),
        _(
            "What this link would confirm was withdrawn, expired or confirmed "
            "since. You can see and change your choices on your preferences page."
        ),
    ),
    "link_unknown": (
        404,
        _("This link is not valid"),
        _(
            "The link may have been cut, changed or replaced by a newer one. Open "
            "it again from your most recent email, copied in full."
        ),
    ),
    "one_click_body": (
        400,
        _("This address is for unsubscribe requests from mail programs"),
        _(
            "Your mail program can unsubscribe you with one click. To see and "
            "change your choices yourself, open your preferences page."
        ),
    ),
}


def _page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    status: int = 200,
    *,
    has_form: bool = False,
) -> HttpResponse:
    response = render(
        request, f"wagtail_leadgen/consent/{template}", context, status=status
    )
    if status >= 400:
        # Django's request logger would log this path, a link that may still
        # work; these views log the refusal themselves, without the link.
        response._has_been_logged = True  # type: ignore[attr-defined]
    response = private(response)
    if has_form:
        # Under "no-referrer" a browser posts the page's form with "Origin:
        # null", which Django's CSRF check refuses. "same-origin" still keeps
        # the link's token from every other site.
        response["Referrer-Policy"] = "same-origin"
    return response


def _problem(
    request: HttpRequest,
    kind: str,
    *,
    lead=None,
    offer_url: str | None = None,
) -> HttpResponse:
    """A page that says what went wrong and what to do next; nothing changed."""
    status, title, message = _PROBLEMS[kind]
    context = {
        "title": title,
        "message": message,
        "offer_url": offer_url,
        "preferences_path": _preferences_path(lead) if lead is not None else None,
        "controller": LeadgenSiteSettings.for_request(request),
    }
    return _page(request, "problem.html", context, status=status)


def _preferences_path(lead) -> str:
    # The page of the person's own link, on this site: a relative URL.
    token = preferences.preferences_token(lead)
    return reverse("wagtail_leadgen:preferences", args=[token])


def _offer_url(confirmation: ConfirmationRequest | None) -> str | None:
    page = confirmation.submission.page if confirmation is not None else None
    return page.url if page is not None and page.live else None


# -- Double opt-in ----------------------------------------------------------------
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Show what the link confirms; confirm on the page's POST only."""
    try:
        confirmation = optin.confirmation_for_token(token)
    except optin.UnknownLink:
        logger.warning("Confirmation refused: unknown link")
        return _problem(request, "confirm_unknown")
    except optin.UsedLink as used:
        lead = used.request.lead if used.request is not None else None
        return _problem(request, "confirm_used", lead=lead)
    except optin.ExpiredLink as expired:
        return _problem(
            request, "confirm_expired", offer_url=_offer_url(expired.request)
        )
    lead = confirmation.lead
    with translation.override(confirmation.submission.language or get_language()):
        if request.method != "POST":
            records = optin.purposes_to_confirm(confirmation)
            if not records:
                return _problem(request, "confirm_nothing", lead=lead)
            context: dict[str, Any] = {"wordings": [wording_of(r) for r in records]}
            return _page(request, "confirm.html", context, has_form=True)
        try:
            records = optin.confirm(confirmation, language=get_language() or "")
        except optin.UsedLink:
            return _problem(request, "confirm_used", lead=lead)
        except optin.ExpiredLink:
            return _problem(
                request, "confirm_expired", offer_url=_offer_url(confirmation)
            )
        if not records:
            return _problem(request, "confirm_nothing", lead=lead)
        context = {
            "wordings": [wording_of(r) for r in records],
            "preferences_path": _preferences_path(lead),
        }
        return _page(request, "confirmed.html", context)


# -- One-click unsubscribe ----------------------------------------------------------
def _is_one_click(request: HttpRequest) -> bool:
    try:
        return request.POST.getlist("List-Unsubscribe") == ["One-Click"]
    except MultiPartParserError:
        return False


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """RFC 8058: a POST of ``List-Unsubscribe=One-Click`` withdraws at once."""
    if request.method != "POST":
        return private(redirect("wagtail_leadgen:preferences", token=token))
    try:
        holder = preferences.holder_for_token(token)
    except UnknownLink:
        logger.warning("Unsubscribe refused: unknown link")
        return _problem(request, "link_unknown")
    with translation.override(preferences.language_of(holder.lead) or get_language()):
        if not _is_one_click(request):
            logger.warning("Unsubscribe refused: not a one-click request")
            return _problem(request, "one_click_body", lead=holder.lead)
        preferences.one_click_unsubscribe(holder)
        context = {
            "purpose": holder.purpose,
            "preferences_path": _preferences_path(holder.lead),
        }
        return _page(request, "unsubscribed.html", context)


# -- Preferences ------------------------------------------------------------------
_DONE = {
    "withdrawn": _("Your consent is withdrawn. It takes effect now."),
    "withdrawn_all": _(
        "You will get no more marketing from us. Your objection is recorded "
        "and kept, even if your data is erased."
    ),
    "granted": _("Thank you: your consent is recorded."),
}


@require_http_methods(["GET", "HEAD", "POST"])
def preferences_page(request: HttpRequest, token: str) -> HttpResponse:
    """Each purpose with its state; withdraw one or all, give one again."""
    try:
        holder = preferences.holder_for_token(token)
    except UnknownLink:
        logger.warning("Preferences refused: unknown link")
        return _problem(request, "link_unknown")
    with translation.override(preferences.language_of(holder.lead) or get_language()):
        if request.method == "POST":
            return _change(request, holder, token)
        done = request.GET.get("done")
        return _preferences(request, holder, done=_DONE.get(done or ""))


def _preferences(
    request: HttpRequest,
    holder: LinkHolder,
    *,
    done: Any = None,
    error: Any = None,
    error_purpose: int | None = None,
    status: int = 200,
) -> HttpResponse:
    rows = preferences.preference_rows(holder.lead)
    context = {
        "rows": rows,
        "done": done,
        "error": error,
        "error_purpose": error_purpose,
        "controller": LeadgenSiteSettings.for_request(request),
    }
    return _page(request, "preferences.html", context, status=status, has_form=True)


def _change(request: HttpRequest, holder: LinkHolder, token: str) -> HttpResponse:
    action = request.POST.get("action")
    lead = holder.lead
    if action == "withdraw_all":
        preferences.withdraw(
            lead, None, channel="preferences", source=SuppressionSource.PREFERENCES
        )
        return _done(token, "withdrawn_all")
    if action not in ("withdraw", "grant"):
        return _preferences(
            request, holder, error=_("Choose one of the buttons."), status=400
        )
    try:
        row = preferences.row_for(lead, request.POST.get("purpose", ""))
    except NotOffered:
        return _preferences(
            request,
            holder,
            error=_("This choice is not available any more. Reload the page."),
            status=400,
        )
    if action == "withdraw":
        if row.in_force:
            preferences.withdraw(
                lead,
                [row.purpose],
                channel="preferences",
                source=SuppressionSource.PREFERENCES,
            )
        return _done(token, "withdrawn")
    if request.POST.get("consent") != "yes":
        return _preferences(
            request,
            holder,
            error=_("Tick the box to give your consent, then press the button."),
            error_purpose=row.purpose.pk,
            status=400,
        )
    try:
        preferences.grant_again(lead, row.purpose)
    except NotOffered:
        return _preferences(
            request,
            holder,
            error=_("This choice is not available any more. Reload the page."),
            status=400,
        )
    return _done(token, "granted")


def _done(token: str, what: str) -> HttpResponse:
    """Post/redirect/get: reloading the page never sends the form again."""
    url = reverse("wagtail_leadgen:preferences", args=[token]) + f"?done={what}"
    return private(HttpResponseRedirect(url, status=303))
