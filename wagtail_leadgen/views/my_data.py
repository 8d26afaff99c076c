"""The person's "my data" page, at ``/leadgen/my-data/`` (R14, R15).

- ``my_data``: without a verified session, a form asking for an address; its
  POST answers with the same page whatever the address (see
  ``services.my_data``). With a session: everything stored about the person,
  the downloads, a link to their preferences, the correction and erasure forms.
- ``verify``: the emailed link. GET and HEAD show a button; POST verifies and
  opens the session. A bad link gets a page that says why, with the form to
  ask for a new one, and a 4xx status.
- ``download``: the person's data as JSON or CSV, streamed, never cached.
- ``correct``: POST, corrects their name, company… (``services.rectification``).
- ``erase``: GET asks to confirm; POST erases everything at once
  (``services.erasure``) and ends the session.
- ``leave``: POST, ends the session.

Every response is private, not cached, not indexed; no JavaScript is needed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from ..audit import log_subject_exported
from ..conf import leadgen_settings
from ..models.erasure import Erasure
from ..models.leads import Lead
from ..models.rectification import RectificationSource
from ..models.settings import LeadgenSiteSettings
from ..responses import private
from ..services import my_data
from ..services.erasure import erase_address
from ..services.preferences import preferences_token
from ..services.ratelimit import client_ip
from ..services.rectification import InvalidCorrection, correction_form, rectify
from ..services.subject import FILE_FORMATS, subject_data, subject_file
from ..validators import EMAIL_MAX_LENGTH, validate_lead_email
from .my_data_display import for_display


class LinkRequestForm(forms.Form):
    email = forms.CharField(
        label=_("Your email address"),
        max_length=EMAIL_MAX_LENGTH,
        validators=[validate_lead_email],
        help_text=_("The address you gave in our forms."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


_PROBLEMS: dict[type[my_data.LinkProblem], tuple[int, Any, Any]] = {
    my_data.UnknownLink: (
        400,
        _("This link is not valid"),
        _(
            "The link may have been cut or changed. Open it again from the "
            "email, copied in full, or ask for a new link below."
        ),
    ),
    my_data.UsedLink: (
        410,
        _("This link has already been used"),
        _("A link to your data works once. Ask for a new link below."),
    ),
    my_data.ExpiredLink: (
        410,
        _("This link has expired"),
        _("A link to your data works for a short time only. Ask for a new link below."),
    ),
}


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    context = {"controller": LeadgenSiteSettings.for_request(request), **context}
    response = render(
        request, f"wagtail_leadgen/my_data/{template}", context, status=status
    )
    if status >= 400:
        # Django's request logger would log the path, which may hold a link.
        response._has_been_logged = True  # type: ignore[attr-defined]
    response = private(response)
    # Under "no-referrer" a browser posts the page's forms with "Origin: null",
    # which Django's CSRF check refuses; "same-origin" still keeps the link
    # from every other site.
    response["Referrer-Policy"] = "same-origin"
    return response


def _to_my_data(done: str = "") -> HttpResponse:
    """Post/redirect/get: reloading never sends a form again."""
    url = reverse("wagtail_leadgen:my_data") + (f"?done={done}" if done else "")
    return private(HttpResponseRedirect(url, status=303))


_DONE = {
    "corrected": _(
        "Your correction is recorded. It is passed on to every place your data "
        "was sent."
    ),
    "unchanged": _("Nothing was changed: the values are the same as before."),
}


def _ask(
    request: HttpRequest,
    form: LinkRequestForm | None = None,
    status: int = 200,
    **extra,
) -> HttpResponse:
    context = {"form": form or LinkRequestForm(), **extra}
    return _page(request, "request.html", context, status=status)


# -- The page -----------------------------------------------------------------
@require_http_methods(["GET", "HEAD", "POST"])
def my_data_page(request: HttpRequest) -> HttpResponse:
    """The person's data in a verified session; else the form to ask for a link."""
    if request.method == "POST":
        form = LinkRequestForm(request.POST)
        if not form.is_valid():
            return _ask(request, form, status=400)
        my_data.request_link(form.cleaned_data["email"], client_ip=client_ip(request))
        minutes = max(1, round(leadgen_settings.MY_DATA_LINK_MAX_AGE / 60))
        return _page(request, "sent.html", {"minutes": minutes})
    had_session = my_data.SESSION_KEY in request.session
    lead = my_data.session_lead(request.session)
    if lead is None:
        ended = _("Your session has ended. Ask for a new link to see your data again.")
        return _ask(request, notice=ended if had_session else None)
    return _data_page(request, lead, done=_DONE.get(request.GET.get("done", "")))


def _data_page(
    request: HttpRequest, lead: Lead, *, correction=None, done=None, status: int = 200
) -> HttpResponse:
    context = {
        "data": for_display(subject_data(lead)),
        "preferences_path": reverse(
            "wagtail_leadgen:preferences", args=[preferences_token(lead)]
        ),
        "correction": correction if correction is not None else correction_form(lead),
        "done": done,
    }
    return _page(request, "data.html", context, status=status)


# -- The emailed link ---------------------------------------------------------
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request: HttpRequest, token: str) -> HttpResponse:
    """Show a button on GET; verify and open the session on POST."""
    try:
        access = my_data.access_for_token(token)
        if request.method != "POST":
            return _page(request, "verify.html", {})
        lead = my_data.verify(access)
    except my_data.LinkProblem as problem:
        status, title, message = _PROBLEMS[type(problem)]
        return _ask(request, status=status, problem_title=title, problem=message)
    my_data.start_session(request.session, lead)
    return _to_my_data()


# -- In the session -----------------------------------------------------------
@require_http_methods(["GET", "HEAD"])
def download(request: HttpRequest, file_format: str) -> HttpResponseBase:
    """Everything stored about the person, as a file (GDPR Art. 15 and 20)."""
    lead = my_data.session_lead(request.session)
    if lead is None or file_format not in FILE_FORMATS:
        return _to_my_data()
    log_subject_exported(lead, None, export_format=file_format, channel="my_data")
    return private(subject_file(lead, file_format, filename="my-data"))


@require_POST
def correct(request: HttpRequest) -> HttpResponse:
    """Correct the person's own details; recorded and passed on to the CRMs."""
    lead = my_data.session_lead(request.session)
    if lead is None:
        return _to_my_data()
    form = correction_form(lead, request.POST)
    if not form.is_valid():
        return _data_page(request, lead, correction=form, status=400)
    try:
        changed = rectify(lead, form.changes(), source=RectificationSource.PERSON)
    except InvalidCorrection as invalid:  # the answers changed meanwhile
        for field, messages in invalid.errors.items():
            form.add_error(field if field in form.fields else None, messages)
        return _data_page(request, lead, correction=form, status=400)
    return _to_my_data("corrected" if changed else "unchanged")


@require_http_methods(["GET", "HEAD", "POST"])
def erase(request: HttpRequest) -> HttpResponse:
    """Ask to confirm; on POST erase everything about the person, at once."""
    lead = my_data.session_lead(request.session)
    if lead is None:
        return _to_my_data()
    if request.method != "POST":
        return _page(request, "erase.html", {})
    erasure = erase_address(
        lead.email, reason=Erasure.Reason.PERSON, requested_by="self-service"
    )
    my_data.end_session(request.session)
    asked = len(erasure.destinations) if erasure is not None else 0
    return _page(request, "erased.html", {"asked": asked})


@require_POST
def leave(request: HttpRequest) -> HttpResponse:
    """Close the person's data in this browser before the session runs out."""
    my_data.end_session(request.session)
    return _to_my_data()
