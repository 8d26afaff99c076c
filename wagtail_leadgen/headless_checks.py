"""System checks for the headless side: who may call the JSON APIs from a browser.

The plugin does not need django-cors-headers; when a site uses it (the
ecosystem's tool) to open the APIs to its front ends, these checks read its
settings. A wildcard with credentials lets any web site read a visitor's
answers to it: a form's schema, a "my data" export.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

# Origins no site allows on purpose: a pattern that admits them all admits any.
_PROBE_ORIGINS = (
    "https://wagtail-leadgen-probe.invalid",
    "http://attacker.example:8080",
    "null",
)


def _matches_any_origin(pattern: Any) -> bool:
    """True when an allowed-origin regex admits every probe origin."""
    try:
        compiled = re.compile(pattern) if isinstance(pattern, str) else pattern
        return all(compiled.match(origin) for origin in _PROBE_ORIGINS)
    except (re.error, TypeError, AttributeError):
        return False


@register(Tags.security)
def check_cors_wildcard_with_credentials(
    app_configs: Any, **kwargs: Any
) -> list[CheckMessage]:
    """W041: any origin may call the APIs with the visitor's cookies."""
    if not getattr(settings, "CORS_ALLOW_CREDENTIALS", False):
        return []
    if getattr(settings, "CORS_ALLOW_ALL_ORIGINS", False) or getattr(
        settings, "CORS_ORIGIN_ALLOW_ALL", False
    ):
        allowed = "CORS_ALLOW_ALL_ORIGINS is True"
    else:
        regexes = getattr(settings, "CORS_ALLOWED_ORIGIN_REGEXES", None) or getattr(
            settings, "CORS_ORIGIN_REGEX_WHITELIST", ()
        )
        catch_all = [
            pattern for pattern in regexes or () if _matches_any_origin(pattern)
        ]
        if not catch_all:
            return []
        allowed = f"CORS_ALLOWED_ORIGIN_REGEXES has {catch_all[0]!r}, which matches any origin"
    return [
        Warning(
            f"{allowed} while CORS_ALLOW_CREDENTIALS is True: any web site can "
            "call the JSON APIs with a visitor's cookies and read the answers.",
            hint="List your front ends' origins in CORS_ALLOWED_ORIGINS instead "
            "(see docs/headless.md, 'CORS').",
            id="wagtail_leadgen.W041",
        )
    ]
