"""Errors as ``application/problem+json`` (RFC 9457), in one shape for every endpoint.

A problem has ``type``, ``title``, ``status`` and ``detail``; validation
problems add ``errors``: a list of ``{"field": <name or null>, "code": <str>,
"message": <str>}``, ``field`` being null for an error about the whole body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError

PROBLEM_JSON = "application/problem+json"
# RFC 9110's names, which Python uses from 3.13 on: the same titles whatever
# Python serves the API.
RFC_9110_TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}
PROBLEM_TYPE_BASE = (
    "https://github.com/wagtail-leadgen/wagtail-leadgen/blob/main/docs/headless.md#"
)


class ApiProblem(Exception):
    """Raise to answer with a problem document; ``slug`` names the problem type."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str = "",
        *,
        errors: Sequence[Mapping[str, Any]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or slug)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.errors = list(errors)
        self.headers = dict(headers or {})


def field_error(field: str | None, code: str, message: str) -> dict[str, Any]:
    """One entry of a problem's ``errors`` list."""
    return {"field": field, "code": code, "message": str(message)}


def status_title(status: int) -> str:
    """The reason phrase of ``status``, as RFC 9110 names it."""
    return RFC_9110_TITLES.get(status) or HTTPStatus(status).phrase


def problem_response(problem: ApiProblem) -> HttpResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + problem.slug,
        "title": status_title(problem.status),
        "status": problem.status,
        "detail": str(problem.detail),
    }
    if problem.errors:
        body["errors"] = problem.errors
    response = HttpResponse(
        json.dumps(body), status=problem.status, content_type=PROBLEM_JSON
    )
    response["Cache-Control"] = "no-store"
    for name, value in problem.headers.items():
        response[name] = value
    return response


def _location_name(loc: Sequence[Any]) -> str | None:
    """Ninja's error location (``("body", "payload", "email")``) as a field name."""
    parts = [str(part) for part in loc[2:]] if len(loc) > 2 else []
    return ".".join(parts) or None


def _on_problem(request: HttpRequest, exc: ApiProblem) -> HttpResponse:
    return problem_response(exc)


def _on_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        field_error(
            _location_name(error.get("loc", ())),
            error.get("type", "invalid"),
            error.get("msg", ""),
        )
        for error in exc.errors
    ]
    return problem_response(
        ApiProblem(
            422,
            "invalid-body",
            "The request body does not match the schema.",
            errors=errors,
        )
    )


def _on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem_response(ApiProblem(404, "not-found", "No such resource."))


def _on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # Ninja wraps whatever the body parser raises in a 400 "Cannot parse
    # request body": answer with the parser's own problem (415, duplicate key).
    if isinstance(exc.__cause__, ApiProblem):
        return problem_response(exc.__cause__)
    return problem_response(ApiProblem(exc.status_code, "http-error", str(exc)))


def _on_too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem_response(
        ApiProblem(
            413, "too-large", "The request body is larger than this server accepts."
        )
    )


def register_problem_handlers(api: NinjaAPI) -> None:
    """Answer every expected error of ``api`` with a problem document."""
    # Ninja's hint wants each handler to take the class too; ours take instances.
    handlers: list[tuple[type[Exception], Any]] = [
        (ApiProblem, _on_problem),
        (ValidationError, _on_validation),
        (Http404, _on_not_found),
        (HttpError, _on_http_error),
        (RequestDataTooBig, _on_too_big),
    ]
    for exception, handler in handlers:
        api.add_exception_handler(exception, handler)


__all__ = [
    "ApiProblem",
    "PROBLEM_JSON",
    "field_error",
    "problem_response",
    "register_problem_handlers",
]
