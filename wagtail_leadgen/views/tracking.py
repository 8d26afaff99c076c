"""Public endpoints that count clicks on calls to action (R3, R7).

A CTA to a page or a URL links to ``cta_click``, which counts the click and
redirects (302) to the CTA's own target: the destination always comes from the
CTA in the database, never from the request, so this is no open redirect.

A click-to-call CTA keeps its ``tel:`` link, so the phone's dialer opens
straight away without JavaScript and without a detour through our server
(browsers and phones handle a redirect to ``tel:`` unevenly). Its click is
counted by the link's ``ping`` attribute: the browser posts to ``cta_ping``
when the link is followed (Chrome, Edge and Safari do; Firefox does not, so
those clicks are missed).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from ..models.snippets import CallToAction
from ..services.tracking import count_cta_click

# Headers of the counting responses: a browser must not replay a cached
# redirect without asking us again, and a search engine must not index it.
NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}


def _headers(response: HttpResponse) -> HttpResponse:
    for header, value in NO_STORE.items():
        response[header] = value
    return response


def redirect_target(cta: CallToAction) -> str:
    """Where a click on ``cta`` leads, or "" when it cannot be redirected to.

    Only a site-relative path or an http(s) (or ftp) URL qualifies; a ``tel:`` link is
    never redirected to (see the module's docstring).
    """
    target = cta.href
    if not target or cta.is_click_to_call:
        return ""
    parts = urlsplit(target)
    if parts.scheme in HttpResponseRedirect.allowed_schemes and parts.netloc:
        return target
    if not parts.scheme and not parts.netloc and target.startswith("/"):
        return target
    return ""


@require_safe
def cta_click(request: HttpRequest, pk: int) -> HttpResponse:
    """Count a click (GET by a person only) and send the visitor to the CTA's target."""
    cta = get_object_or_404(CallToAction, pk=pk)
    target = redirect_target(cta)
    if not target:
        raise Http404("This call to action leads nowhere.")
    count_cta_click(request, cta)
    return _headers(HttpResponseRedirect(target))


@csrf_exempt  # a hyperlink-auditing ping carries no CSRF token; see below
@require_POST
def cta_ping(request: HttpRequest, pk: int) -> HttpResponse:
    """Count a click on a click-to-call CTA, posted by the link's ``ping`` attribute.

    Browsers send pings with ``Content-Type: text/ping``, which neither an HTML
    form nor a cross-site ``fetch`` without a CORS preflight can send: requiring
    it keeps other sites from inflating the counter through their visitors.
    Only click-to-call CTAs are counted here; the others are counted by
    ``cta_click`` and must not be counted twice.
    """
    if request.content_type != "text/ping":
        return _headers(HttpResponse(status=400))
    cta = get_object_or_404(CallToAction, pk=pk)
    if cta.is_click_to_call:
        count_cta_click(request, cta)
    return _headers(HttpResponse(status=204))
