"""What the consent and "my data" endpoints share: tokens and their throttle,
the bearer scheme, and the headers of private answers.

Every link token and bearer token these endpoints refuse counts against the
client's IP (scope ``TOKEN_SCOPE``, ``RATE_LIMIT_SUBMISSIONS`` per
``RATE_LIMIT_WINDOW``, the intake's own limit); past it, every token endpoint
answers 429 with ``Retry-After`` before looking at the token, so links cannot
be guessed by the thousand. Refusals are logged without the token.

No endpoint here reads a cookie: tokens come in the body or the
``Authorization`` header, so cross-site requests cannot ride on a browser's
credentials and the endpoints are rightly exempt from CSRF checks.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Schema
from ninja.security import HttpBearer

from ..conf import leadgen_settings
from ..models.access import AccessRequest
from ..responses import PRIVATE_HEADERS
from ..services import my_data
from ..services.ratelimit import allow_attempt, attempts_exceeded, client_ip
from .problems import ApiProblem

logger = logging.getLogger("wagtail_leadgen.security")

TOKEN_SCOPE = "api-bad-token"  # noqa: S105 -- a cache scope, not a secret
#: Longest token accepted in a body or header (ours are far shorter).
TOKEN_MAX_LENGTH = 512


class FieldErrorOut(Schema):
    field: str | None
    code: str
    message: str


class ProblemOut(Schema):
    """An ``application/problem+json`` document (RFC 9457), see problems.py."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldErrorOut] | None = None


#: The error statuses the endpoints may answer, for the OpenAPI document: a
#: JSON body, a link token in it, a bearer token.
BODY_ERRORS = frozenset({400, 413, 415, 422, 429})
TOKEN_ERRORS = BODY_ERRORS | {404, 409, 410}
BEARER_ERRORS = frozenset({400, 401, 429})


def refuse_if_throttled(request: HttpRequest) -> None:
    """429 once this client had too many tokens refused in the window."""
    if attempts_exceeded(
        TOKEN_SCOPE,
        client_ip(request),
        limit=leadgen_settings.RATE_LIMIT_SUBMISSIONS,
    ):
        logger.warning("API token attempt refused: too many bad tokens")
        raise ApiProblem(
            429,
            "rate-limited",
            "Too many invalid links from this address. Try again later.",
            headers={"Retry-After": str(leadgen_settings.RATE_LIMIT_WINDOW)},
        )


def bad_token(
    request: HttpRequest, status: int, slug: str, detail: str, **kwargs: Any
) -> ApiProblem:
    """The problem to raise for a refused token, counted and logged."""
    allow_attempt(
        TOKEN_SCOPE,
        client_ip(request),
        limit=leadgen_settings.RATE_LIMIT_SUBMISSIONS,
        window=leadgen_settings.RATE_LIMIT_WINDOW,
    )
    logger.warning("API token refused: %s", slug)
    return ApiProblem(status, slug, detail, **kwargs)


def private(response: HttpResponse) -> None:
    """Answers about one person: not cached, not indexed, no referrer."""
    for name, value in PRIVATE_HEADERS.items():
        response[name] = value


def _challenge(error: str = "") -> dict[str, str]:
    value = 'Bearer realm="wagtail-leadgen"'
    if error:
        value += f', error="{error}"'
    return {"WWW-Authenticate": value}


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>``; every refusal is a problem document
    (401 ``missing-token`` without the header). Subclasses check the token."""

    def __call__(self, request: HttpRequest) -> Any:
        refuse_if_throttled(request)
        scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiProblem(
                401,
                "missing-token",
                "Send the token in the header 'Authorization: Bearer <token>'.",
                headers=_challenge(),
            )
        if len(token) > TOKEN_MAX_LENGTH:
            raise bad_token(
                request,
                401,
                self.refused_slug,
                self.refused_detail,
                headers=_challenge("invalid_token"),
            )
        return self.authenticate(request, token)

    refused_slug = "invalid-token"
    refused_detail = "The token is not valid."

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return token


class MyDataAccess(BearerToken):
    """The bearer token ``POST /my-data/verify`` gives: ``request.auth`` is
    its ``AccessRequest`` (with ``.lead``)."""

    refused_slug = "access-ended"
    refused_detail = (
        "This access is not valid any more (ended, expired or erased). "
        "Ask for a new link."
    )

    def authenticate(self, request: HttpRequest, token: str) -> AccessRequest:
        try:
            return my_data.access_for_api_token(token)
        except my_data.AccessEnded:
            raise bad_token(
                request,
                401,
                self.refused_slug,
                self.refused_detail,
                headers=_challenge("invalid_token"),
            ) from None
