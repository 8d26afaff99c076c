"""The plugin's own ``NinjaAPI``: mount ``api.urls`` where the site wants it,
e.g. ``path("api/leadgen/v1/", api.urls)``; its URL namespace is
``wagtail_leadgen_api``. It is separate from Wagtail's v3 API (a preview), so
that its contract stays stable whatever v3 does."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from ..conf import leadgen_settings
from . import consent, forms, my_data
from .parser import StrictJSONParser
from .problems import ApiProblem, problem_response, register_problem_handlers


def docs_switch(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve the interactive docs and the OpenAPI document only while
    ``API["DOCS"]`` is on (read per request, so the setting can change)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not leadgen_settings.api["DOCS"]:
            return problem_response(ApiProblem(404, "not-found", "No such resource."))
        return view(request, *args, **kwargs)

    return wrapper


api = NinjaAPI(
    title="wagtail-leadgen API",
    version="1.0.0",
    description="Lead forms, submissions, consent and data-subject rights for decoupled front ends.",
    urls_namespace="wagtail_leadgen_api",
    parser=StrictJSONParser(),
    openapi_url="/openapi.json",
    docs_url="/docs/",
    docs_decorator=docs_switch,
)
register_problem_handlers(api)
api.add_router("/forms/", forms.router)
api.add_router("/consent/", consent.router)
api.add_router("/my-data/", my_data.router)
