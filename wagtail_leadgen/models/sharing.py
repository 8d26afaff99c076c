"""When a lead page may be held by a shared cache, and where its form posts then.

A page a CDN holds is the same for everyone, so its form cannot carry a CSRF
cookie or a visitor's token: it posts to the plugin's CSRF-exempt form
endpoint (guarded by the request's origin) and its script fetches the
visitor's time-trap token from the token endpoint (docs/caching.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.response import SimpleTemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language

from ..conf import leadgen_settings
from ..tokens import PAGE_TOKEN_BUCKET
from .freshness import FormCache, request_stamp, settings_key

# Rendered shared pages kept per process (a few kilobytes each).
RENDERED_PAGES_MAX = 128
rendered_pages = FormCache(max_entries=RENDERED_PAGES_MAX)


def form_endpoint_url(page_id: int, name: str = "form_submit") -> str | None:
    """The URL of the plugin's form endpoint (``form_submit``, ``form_token``)
    for a page; None when the site did not include ``wagtail_leadgen.urls``."""
    try:
        return reverse(f"wagtail_leadgen:{name}", args=[page_id])
    except NoReverseMatch:
        return None


def may_share(request: HttpRequest, page_id: int) -> bool:
    """A GET or HEAD without session cookie (no editor, no one past a page
    password; ``request.user`` is not read, which would add ``Vary: Cookie``),
    credentials or preview, while ``SHARED_CACHE_MAX_AGE`` > 0 and the form
    endpoint is mounted."""
    return (
        request.method in ("GET", "HEAD")
        and not getattr(request, "is_preview", False)
        and leadgen_settings.shared_cache_max_age > 0
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "Authorization" not in request.headers
        and form_endpoint_url(page_id) is not None
    )


def form_post_urls(
    request: HttpRequest, page_id: int, *, shared: bool
) -> dict[str, Any]:
    """While pages may be shared, the form posts to the form endpoint with the
    page's query string (UTM parameters), else back to the page; a shared
    page's script fetches the visitor's token from the token endpoint."""
    action = ""
    if leadgen_settings.shared_cache_max_age > 0:
        action = form_endpoint_url(page_id) or ""
        query = request.META.get("QUERY_STRING", "")
        if action and query:
            action = f"{action}?{query}"
    return {
        "leadgen_form_action": action,
        "leadgen_token_url": form_endpoint_url(page_id, "form_token")
        if shared
        else None,
    }


def _may_carry_a_nonce(request: HttpRequest) -> bool:
    """Whether the site's CSP middleware gives this request a nonce (Django 6's
    ``_csp_nonce``, django-csp's ``csp_nonce``): a page rendered with it must
    go out with that request's header, so it is never reused in process."""
    return hasattr(request, "_csp_nonce") or hasattr(request, "csp_nonce")


def rendered_once(
    request: HttpRequest, page_id: int, render: Callable[[], HttpResponse]
) -> HttpResponse:
    """A shared page's response, rendered once per content stamp, page token
    period, address and language, then served from memory in this process.

    The HTML is the same for every anonymous visitor in that period (that is
    what lets a CDN hold it), so rendering it again for each one is wasted
    work when no CDN is in front. Content the stamp does not watch (a snippet
    or image shown on the page) shows within ``PAGE_TOKEN_BUCKET`` seconds.
    """
    if _may_carry_a_nonce(request):
        return render()
    key = (
        "rendered",
        settings_key(),
        page_id,
        int(time.time()) // PAGE_TOKEN_BUCKET,
        request.scheme,
        request.get_host(),
        request.get_full_path(),
        get_language(),
    )

    def build() -> tuple[int, bytes, str]:
        response = render()
        if isinstance(response, SimpleTemplateResponse):
            response.render()
        return response.status_code, response.content, response["Content-Type"]

    status, content, content_type = rendered_pages.get_or_build(
        request_stamp(request), key, build
    )
    return HttpResponse(content, status=status, content_type=content_type)
