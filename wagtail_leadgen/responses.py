"""Headers the plugin's own responses carry, in one place."""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from pathlib import Path
from typing import Any, TypeVar

from django.contrib.staticfiles import finders
from django.core.signals import setting_changed
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

from .conf import leadgen_settings

Response = TypeVar("Response", bound=HttpResponseBase)

# For responses whose URL carries a download token, or that serve a gated file.
PRIVATE_HEADERS = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}

# Every page template of the plugin extends this one; a site overrides it to
# put the pages inside its own layout.
BASE_TEMPLATE = "wagtail_leadgen/base.html"
_PACKAGE_TEMPLATES = Path(__file__).parent / "templates"


def base_template_origin() -> str | None:
    """Where ``wagtail_leadgen/base.html`` is loaded from (None: nowhere)."""
    try:
        template = get_template(BASE_TEMPLATE)
    except TemplateDoesNotExist:
        return None
    # Django's and Jinja2's backends give their templates an origin; another
    # backend may not, and then nothing can be said about the layout.
    origin = getattr(template, "origin", None)
    return origin.name if origin is not None else None


def is_plugin_template(origin: str) -> bool:
    """Whether a template file is one the plugin ships (not a site's override)."""
    return Path(origin).is_relative_to(_PACKAGE_TEMPLATES)


def plugin_layout_in_use() -> bool:
    """Whether lead pages render in the plugin's own base template.

    False once a site overrides ``wagtail_leadgen/base.html`` with its own
    layout: its scripts and styles then answer to the site's policy, not ours.
    """
    origin = base_template_origin()
    return origin is not None and is_plugin_template(origin)


def site_csp_nonce(request: HttpRequest | None) -> str | None:
    """The nonce of the site's own Content-Security-Policy for this request.

    Django 6's ``ContentSecurityPolicyMiddleware`` keeps it in
    ``request._csp_nonce``, django-csp in ``request.csp_nonce``; both are lazy
    and only written into the header once read, which this does.
    """
    for attribute in ("_csp_nonce", "csp_nonce"):
        nonce = getattr(request, attribute, None)
        if nonce is not None:
            return str(nonce)
    return None


# The plugin's stylesheet: its own layout puts it inline in the page head
# (no request that blocks the first paint), allowed by its hash.
STYLESHEET = "wagtail_leadgen/leadgen.css"
_COMMENTS = re.compile(r"/\*.*?\*/", re.DOTALL)
_AROUND_PUNCTUATION = re.compile(r"\s*([{};])\s*")


@functools.cache
def inline_stylesheet() -> tuple[str, str] | None:
    """The plugin's stylesheet as its layout inlines it (comments and extra
    whitespace left out), and the Content-Security-Policy source that allows
    exactly that text (``'sha256-…'``). Read once per process from the static
    file, which a site may override with its own ``leadgen.css``; None when
    it cannot be found, or could close its ``<style>`` element (the layout
    then links it)."""
    path = finders.find(STYLESHEET)
    if not path:
        return None
    css = _COMMENTS.sub("", Path(str(path)).read_text(encoding="utf-8"))
    css = _AROUND_PUNCTUATION.sub(r"\1", " ".join(css.split()))
    if "</" in css or "<!--" in css:
        return None
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return css, f"'sha256-{digest}'"


def _forget_stylesheet(setting: str = "", **kwargs: Any) -> None:
    if setting.startswith("STATIC"):  # STATICFILES_DIRS, STATIC_ROOT... (tests)
        inline_stylesheet.cache_clear()


setting_changed.connect(_forget_stylesheet, dispatch_uid="leadgen-inline-stylesheet")


def stylesheet_inlined() -> bool:
    """Whether the plugin's layout puts its stylesheet inline (``INLINE_STYLESHEET``)."""
    return bool(leadgen_settings.INLINE_STYLESHEET) and inline_stylesheet() is not None


def _adding_source(policy: str, directive: str, source: str) -> str:
    """``policy`` with ``source`` added to ``directive`` (or, without one, to
    a ``directive`` copied from ``default-src``). Unchanged when the policy
    restricts nothing of that kind, allows every inline one already (a hash
    would turn that off), or allows none at all (``'none'``, which a hash
    beside it would cancel)."""
    directives = [part.strip() for part in policy.split(";") if part.strip()]
    names = [part.split()[0].lower() for part in directives]
    if directive in names:
        index = names.index(directive)
    elif "default-src" in names:
        _name, *sources = directives[names.index("default-src")].split()
        directives.append(" ".join([directive, *sources]))
        index = len(directives) - 1
    else:
        return policy
    if {"'unsafe-inline'", "'none'"} & set(directives[index].lower().split()):
        return policy
    directives[index] = f"{directives[index]} {source}"
    return "; ".join(directives)


def allowing_the_stylesheet(policy: str) -> str:
    """``policy`` with the inline stylesheet's hash in ``style-src``, when the
    layout puts it inline."""
    if not stylesheet_inlined():
        return policy
    _css, source = inline_stylesheet() or ("", "")
    return _adding_source(policy, "style-src", source)


# The plugin's form scripts (form.js, pow.js) are fetched once the page has
# painted: requested while it renders, they would delay its largest paint on
# a slow phone (Lighthouse's LCP). The page names them in the loader's
# ``data-src``, so its text, and the hash that allows it, never change.
# The signal is the browser's paint entry; a browser without paint timing
# waits for the load event and a frame, and a page that never reports a paint
# (a background tab) still gets them three seconds after its load event.
SCRIPT_LOADER = (
    "(function(c){var done=0;function go(){if(done)return;done=1;"
    "c.getAttribute('data-src').split(' ').forEach(function(u){"
    "var s=document.createElement('script');s.src=u;s.async=false;"
    "s.nonce=c.nonce;document.body.appendChild(s)})}"
    "function later(){setTimeout(go,0)}"
    "var P=window.PerformanceObserver,"
    "paint=P&&(P.supportedEntryTypes||[]).indexOf('paint')>=0;"
    "if(paint){if(performance.getEntriesByType('paint').length)later();"
    "else new P(later).observe({type:'paint'})}"
    "addEventListener('load',function(){"
    "paint?setTimeout(go,3000):requestAnimationFrame(later)})})"
    "(document.currentScript)"
)
_LOADER_DIGEST = hashlib.sha256(SCRIPT_LOADER.encode()).digest()
SCRIPT_LOADER_SOURCE = f"'sha256-{base64.b64encode(_LOADER_DIGEST).decode()}'"


def scripts_after_paint() -> bool:
    """Whether the form's scripts come through the inline loader
    (``LOAD_SCRIPTS_AFTER_PAINT``): in the plugin's own layout only, whose
    policy allows the loader by its hash; a site's layout gets deferred
    ``<script>`` elements, which its own policy already allows."""
    return bool(leadgen_settings.LOAD_SCRIPTS_AFTER_PAINT) and plugin_layout_in_use()


def allowing_the_script_loader(policy: str) -> str:
    """``policy`` with the script loader's hash in ``script-src``."""
    if not leadgen_settings.LOAD_SCRIPTS_AFTER_PAINT:
        return policy
    return _adding_source(policy, "script-src", SCRIPT_LOADER_SOURCE)


def with_csp(response: Response) -> Response:
    """Add the plugin's Content-Security-Policy to a page in the plugin's layout.

    Left out when the response already has one (the site's middleware or view)
    or when the site renders the pages in its own layout, where the site's
    policy governs: ours would block its analytics, fonts and banners. It
    allows the layout's inline stylesheet and script loader by their hashes.
    """
    policy = leadgen_settings.CONTENT_SECURITY_POLICY
    if policy and "Content-Security-Policy" not in response and plugin_layout_in_use():
        response["Content-Security-Policy"] = allowing_the_script_loader(
            allowing_the_stylesheet(policy)
        )
    return response


def private(response: Response) -> Response:
    """Never cached, never leaked as a referrer, never indexed; CSP included."""
    for header, value in PRIVATE_HEADERS.items():
        response[header] = value
    return with_csp(response)


def shared(response: Response, max_age: int) -> Response:
    """A page any shared cache (a CDN) may keep ``max_age`` seconds and serve
    to every anonymous visitor; browsers revalidate each time (``max-age=0``),
    so a purge on publish reaches visitors at once. CSP included."""
    response["Cache-Control"] = f"public, max-age=0, s-maxage={max_age}"
    return with_csp(response)
