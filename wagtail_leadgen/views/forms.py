"""The two endpoints of a lead form a shared cache (a CDN) holds.

While ``SHARED_CACHE_MAX_AGE`` > 0, an anonymous visitor's lead page is the
same HTML for everyone: no CSRF cookie, and a page token instead of the
visitor's own time-trap token. So:

- ``form_token`` (GET, never cached) swaps the page token for the visitor's
  own, issued now, with a proof-of-work challenge when that is on; the form's
  deferred script calls it. It reads no table: the page token says which
  page and which texts the cached HTML shows. The page view is counted here.
- ``form_submit`` (POST) is where the form posts. It is CSRF-exempt, since the
  page set no cookie to compare with, and refuses a post from another site by
  its ``Origin`` header (or, without one, ``Sec-Fetch-Site``), which browsers
  set and a page cannot forge; see docs/caching.md for what that does and does
  not cover. The honeypot, the time trap, the rate limit and double opt-in
  then apply as on the page itself.

A post costs no query to find its page: the live page, built once per
content stamp (``freshness.cached``), and the request's site, resolved by
Wagtail once per stamp and host, come from the process cache. The stamp
changes when a page is published, unpublished, moved or deleted, a site is
saved and a view restriction is added, changed or removed. Wagtail's privacy
hook (and the site's own hooks) still run on every post, reading the
restrictions themselves.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe
from wagtail import hooks
from wagtail.models import Site

from ..conf import leadgen_settings
from ..models.freshness import cached
from ..models.lookup import live_lead_page
from ..responses import private
from ..services import proof_of_work
from ..services.experiment_counts import record_variant_view
from ..services.tracking import is_countable, record_page_view
from ..tokens import ExpiredToken, InvalidToken, read_form_token, visitor_form_token

logger = logging.getLogger("wagtail_leadgen.security")

# What browsers send in Sec-Fetch-Site for a form posted from the site itself
# ("none": typed or bookmarked, which a form post never is, but is not a site).
_SAME_SITE_FETCH = ("same-origin", "none")
_MAX_TOKEN_LENGTH = 2000
# Host names (with port) whose site is kept per stamp: a server answering to
# more names than this (ALLOWED_HOSTS = ["*"]) looks the rest up each time,
# so that made-up Host headers cannot fill the cache.
_MAX_CACHED_HOSTS = 64


def own_origin(request: HttpRequest) -> str:
    """The origin the site is served from, as this request reached Django."""
    return f"{request.scheme}://{request.get_host()}".lower()


def is_allowed_origin(request: HttpRequest) -> bool:
    """Whether a form post comes from the site itself or an allowed origin.

    The ``Origin`` header decides when there is one (``null`` is refused);
    without it ``Sec-Fetch-Site`` must say same-origin; a request with
    neither (old browsers, some privacy tools) is let through: the other
    guards still apply (docs/caching.md).
    """
    origin = request.headers.get("Origin")
    if origin is not None:
        origin = origin.strip().lower()
        return origin == own_origin(request) or (
            origin in leadgen_settings.form_allowed_origins
        )
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site.strip().lower() in _SAME_SITE_FETCH
    return True


def _request_site(request: HttpRequest) -> Any:
    """``Site.find_for_request``, its answer for this host kept per stamp and
    set where Wagtail keeps it for the request (``_wagtail_site``)."""
    sites: dict[tuple[str, str], Any] = cached(request, "sites-by-host", dict)
    # ``get_host`` refuses a host outside ALLOWED_HOSTS (400).
    host = (request.get_host(), request.get_port())
    if hasattr(request, "_wagtail_site") or host not in sites:
        site = Site.find_for_request(request)
        if len(sites) < _MAX_CACHED_HOSTS:
            sites[host] = site
        return site
    # Each request its own copy: Wagtail and the site's hooks may set
    # attributes on the instance.
    site = copy.copy(sites[host])
    setattr(request, "_wagtail_site", site)  # noqa: B010 - Wagtail's attribute
    return site


def _lead_page(request: HttpRequest, page_id: int) -> Any:
    """The live lead page ``page_id`` of the request's site, else 404."""
    page = live_lead_page(request, page_id)
    site = _request_site(request)
    if page is None or site is None or not page.path.startswith(site.root_page.path):
        raise Http404  # no such page, or a page of another site on this server
    return page


def _refused(request: HttpRequest) -> HttpResponse:
    logger.info("Lead form post refused: cross-site origin")
    response = TemplateResponse(
        request,
        "wagtail_leadgen/errors/cross_site.html",
        {
            "title": _("This form cannot be sent from here"),
            "message": _(
                "The form was sent from another website. Open the page on our "
                "site and send the form from there."
            ),
        },
        status=403,
    )
    return private(response)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def form_submit(request: HttpRequest, page_id: int) -> HttpResponse:
    """Process a lead page's form (POST); a GET goes back to the page."""
    page = _lead_page(request, page_id)
    if request.method != "POST":
        return HttpResponseRedirect(page.url or "/")
    if not is_allowed_origin(request):
        return _refused(request)
    # The hooks Wagtail's serve view runs around a page: its privacy
    # (password, login, groups) restrictions and the site's own hooks.
    chain = _submit
    for wrap in reversed(hooks.get_hooks("on_serve_page")):
        chain = wrap(chain)
    for hook in hooks.get_hooks("before_serve_page"):
        result = hook(page, request, (), {})
        if isinstance(result, HttpResponse):
            return private(result)
    return private(chain(page, request, (), {}))


def _submit(page: Any, request: HttpRequest, args: Any, kwargs: Any) -> HttpResponse:
    return page.serve_submission(request)


@require_safe
def form_token(request: HttpRequest, page_id: int) -> HttpResponse:
    """The visitor's own time-trap token for the page token ``t``, as JSON:
    ``{"token": ..., "pow": challenge or null}``; never cached."""
    page_token = request.GET.get("t", "")[:_MAX_TOKEN_LENGTH]
    try:
        token = read_form_token(page_token, page_id=page_id)
    except ExpiredToken:
        # The page stayed in a cache or a tab for too long; its form will be
        # shown again with a fresh token when posted.
        return private(JsonResponse({"error": "expired"}, status=400))
    except InvalidToken:
        return private(JsonResponse({"error": "invalid"}, status=400))
    if leadgen_settings.COUNT_PAGE_VIEWS and is_countable(request):
        record_page_view(page_id)
        if token.variant is not None:  # the A/B test variant the page shows
            record_variant_view(*token.variant)
    return private(
        JsonResponse(
            {
                "token": visitor_form_token(token),
                "pow": proof_of_work.new_challenge(),
            }
        )
    )
