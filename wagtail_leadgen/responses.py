"""Headers the plugin's own responses carry, in one place."""

from __future__ import annotations

from typing import TypeVar

from django.http.response import HttpResponseBase

from .conf import leadgen_settings

Response = TypeVar("Response", bound=HttpResponseBase)

# For responses whose URL carries a download token, or that serve a gated file.
PRIVATE_HEADERS = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


def with_csp(response: Response) -> Response:
    """Add the configured Content-Security-Policy unless the site already set one."""
    policy = leadgen_settings.CONTENT_SECURITY_POLICY
    if policy and "Content-Security-Policy" not in response:
        response["Content-Security-Policy"] = policy
    return response


def private(response: Response) -> Response:
    """Never cached, never leaked as a referrer, never indexed; CSP included."""
    for header, value in PRIVATE_HEADERS.items():
        response[header] = value
    return with_csp(response)
