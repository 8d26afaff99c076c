"""``HostileCookieMiddleware``: cookies with control characters never reach the session.

Django accepts any session key of eight characters or more and looks it up
in the database; on PostgreSQL a key holding a NUL makes that query raise,
so one crafted cookie turns every page that reads the session into a server
error (the plugin's lead pages and the whole site alike). Django's own keys
are 32 lowercase letters and digits, and no cookie the site sets holds a
control character, so such a cookie is dropped from the request (as if it had
not been sent) before ``SessionMiddleware`` reads it.

Add it to ``MIDDLEWARE`` just before
``django.contrib.sessions.middleware.SessionMiddleware``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .cleaning import has_unsafe_characters

logger = logging.getLogger("wagtail_leadgen.security")


class HostileCookieMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        cookies = request.COOKIES
        dropped = sorted(
            name
            for name, value in cookies.items()
            if has_unsafe_characters(name) or has_unsafe_characters(value)
        )
        if dropped:
            # Cookie names are chosen by sites, never personal data; values are
            # never logged.
            logger.warning("Dropped %s cookie(s) with control characters", len(dropped))
            request.COOKIES = {
                name: value for name, value in cookies.items() if name not in dropped
            }
        return self.get_response(request)
