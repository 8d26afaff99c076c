"""The plugin's own ``NinjaAPI``: mount ``api.urls`` where the site wants it,
e.g. ``path("api/leadgen/v1/", api.urls)``; its URL namespace is
``wagtail_leadgen_api``. It is separate from Wagtail's v3 API (a preview), so
that its contract stays stable whatever v3 does."""

from __future__ import annotations

from ninja import NinjaAPI

from . import consent, forms, my_data
from .parser import StrictJSONParser
from .problems import register_problem_handlers

api = NinjaAPI(
    title="wagtail-leadgen API",
    version="1.0.0",
    description="Lead forms, submissions, consent and data-subject rights for decoupled front ends.",
    urls_namespace="wagtail_leadgen_api",
    parser=StrictJSONParser(),
    openapi_url="/openapi.json",
    docs_url="/docs/",
)
register_problem_handlers(api)
api.add_router("/forms/", forms.router)
api.add_router("/consent/", consent.router)
api.add_router("/my-data/", my_data.router)
