"""Template tags for sites that write their own page templates.

``{% leadgen_form form %}`` renders the form with its information notice;
``{% leadgen_download download_token %}`` renders the link to a just-unlocked
document (or why it is not available); ``{% leadgen_unsubscribe_url lead %}``
(or ``... lead purpose``) gives the one-click unsubscribe link for a site's own
emails.
"""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.urls import reverse

from ..forms import LeadForm
from ..models.settings import LeadgenSiteSettings
from ..services import proof_of_work
from ..services.downloads import DownloadUnavailable, grant_for_token
from ..services.preferences import unsubscribe_url
from ..tokens import InvalidToken

register = template.Library()


@register.inclusion_tag("wagtail_leadgen/includes/lead_form.html", takes_context=True)
def leadgen_form(context: template.Context, form: LeadForm) -> dict[str, Any]:
    request = context.get("request")
    page = context.get("page")
    controller = LeadgenSiteSettings.for_request(request) if request else None
    challenge = proof_of_work.new_challenge()
    processing = page.get_request_processing() if page is not None else None
    return {
        "request_processing": processing,
        "proof_of_work": json.dumps(challenge) if challenge else "",
        "proof_of_work_field": proof_of_work.FIELD,
        "request": request,
        "page": page,
        "form": form,
        "controller": controller,
        "purposes": list(form.purposes),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("wagtail_leadgen/includes/download.html")
def leadgen_download(token: str | None) -> dict[str, Any]:
    """Check the link without spending a use, so showing the page never costs a download."""
    if not token:
        return {"status": "none"}
    try:
        grant = grant_for_token(token)
    except (InvalidToken, DownloadUnavailable):
        return {"status": "unavailable"}
    return {
        "status": "ok",
        "document": grant.document,
        "url": reverse("wagtail_leadgen:download", args=[token]),
    }


@register.simple_tag
def leadgen_unsubscribe_url(lead, purpose=None) -> str:
    """The absolute one-click unsubscribe link of ``lead`` (for ``purpose``, or
    all marketing), from the configured site root: for a newsletter's visible
    link and its ``List-Unsubscribe`` header."""
    return unsubscribe_url(lead, purpose)
