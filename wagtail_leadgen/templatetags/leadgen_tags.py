"""Template tags for sites that write their own page templates.

``{% leadgen_form form %}`` renders the form with its information notice
before the button; ``{% leadgen_notice form %}`` renders the notice alone,
for a site that lays its form out itself; ``{% leadgen_download
download_token %}`` renders the link to a just-unlocked document (or why it
is not available); ``{% leadgen_unsubscribe_url lead %}`` (or ``... lead
purpose``) gives the one-click unsubscribe link for a site's own emails;
``{% leadgen_public_url page %}`` the page's address for share links;
``{% leadgen_stylesheet %}`` the plugin's stylesheet, inline (the plugin's
own layout uses it in its head).

The context of ``includes/lead_form.html`` and ``includes/notice.html``
(documented in docs/getting-started.md, "Template tags"): ``form``, ``page``,
``request``, ``notice`` (``services.notice.Notice``), and, kept for
templates written before the notice was built as a whole, ``controller``
(``LeadgenSiteSettings``), ``purposes`` and ``request_processing``.
"""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from .. import mailer
from ..forms import LeadForm
from ..responses import (
    SCRIPT_LOADER,
    STYLESHEET,
    inline_stylesheet,
    scripts_after_paint,
    site_csp_nonce,
    stylesheet_inlined,
)
from ..services import proof_of_work
from ..services.downloads import DownloadUnavailable, grant_for_token
from ..services.notice import build_notice, notice_for, site_settings_for
from ..services.preferences import unsubscribe_url
from ..tokens import InvalidToken

register = template.Library()


def notice_context(context: template.Context, form: LeadForm) -> dict[str, Any]:
    """What the lead form and notice templates read (see the module docstring)."""
    request = context.get("request")
    page = context.get("page")
    # Only a lead page has a request processing and destinations of its own.
    lead_page = page if hasattr(page, "get_request_processing") else None
    if request is not None:
        controller = site_settings_for(request)
        notice = notice_for(lead_page, type(form), request)
    else:
        controller = None
        notice = build_notice(lead_page, type(form))
    return {
        "notice": notice,
        "request_processing": (
            lead_page.get_request_processing() if lead_page is not None else None
        ),
        "request": request,
        "page": page,
        "form": form,
        "controller": controller,
        "purposes": list(form.purposes),
    }


@register.inclusion_tag("wagtail_leadgen/includes/lead_form.html", takes_context=True)
def leadgen_form(context: template.Context, form: LeadForm) -> dict[str, Any]:
    """The form; where it posts and whether it swaps its page token come from
    the page's ``form_post_context`` (absent: it posts back, with a CSRF token).

    A page a shared cache holds gets no proof-of-work challenge in its HTML
    (one challenge is good for one submission): its script fetches one with
    the visitor's token. Its scripts come after the first paint in the
    plugin's layout (``SCRIPT_LOADER``), deferred elsewhere.
    """
    token_url = context.get("leadgen_token_url")
    pow_on = proof_of_work.enabled()
    challenge = None if token_url else proof_of_work.new_challenge()
    # In this order: form.js hands pow.js the challenge it fetched.
    scripts = [static("wagtail_leadgen/pow.js")] if pow_on else []
    if token_url:
        scripts.append(static("wagtail_leadgen/form.js"))
    return {
        **notice_context(context, form),
        "proof_of_work": json.dumps(challenge) if challenge else "",
        "proof_of_work_on": pow_on,
        "proof_of_work_field": proof_of_work.FIELD,
        "form_action": context.get("leadgen_form_action") or "",
        "token_url": token_url,
        "scripts": scripts,
        "script_loader": SCRIPT_LOADER if scripts and scripts_after_paint() else "",
        # The plugin's scripts carry the site's nonce under a strict policy.
        "script_nonce": site_csp_nonce(context.get("request")) if scripts else None,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("wagtail_leadgen/includes/notice.html", takes_context=True)
def leadgen_notice(context: template.Context, form: LeadForm) -> dict[str, Any]:
    """The information notice of ``form`` alone: place it before your button."""
    return notice_context(context, form)


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


@register.simple_tag
def leadgen_public_url(page) -> str:
    """The page's address as others open it (share links), from the same root
    as the links in emails: ``SITE_URL``, else the root URL of its Wagtail
    Site; never the request's Host header. "" for a page with no URL."""
    parts = page.get_url_parts()
    if parts is None:
        return ""
    return mailer.site_root_url(page) + parts[2]


@register.simple_tag(takes_context=True)
def leadgen_stylesheet(context: template.Context) -> SafeString:
    """The plugin's stylesheet in a ``<style>`` element, which blocks no
    paint (the plugin's policy allows it by its hash; under a site's policy
    with a nonce, it carries the nonce), or a link to the file with
    ``INLINE_STYLESHEET`` off."""
    inline = inline_stylesheet() if stylesheet_inlined() else None
    if inline is None:
        return format_html('<link rel="stylesheet" href="{}">', static(STYLESHEET))
    nonce = site_csp_nonce(context.get("request"))
    # The file's own text: read from the static files, never from a visitor,
    # and refused by ``inline_stylesheet`` if it could close the element.
    css = mark_safe(inline[0])  # noqa: S308
    if nonce:
        return format_html('<style nonce="{}">{}</style>', nonce, css)
    return format_html("<style>{}</style>", css)
