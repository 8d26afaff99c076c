"""The plugin's routes on Wagtail 8's v3 API (a preview), for sites that install it.

Wagtail's own contrib apps add their routers to ``wagtail.api.v3.api.api``
from ``AppConfig.ready()``; so does the plugin (``register_v3_routes``), and
only when the site installs ``wagtail.api.v3``. Under ``/leadgen/`` of the
v3 mount, ``forms/{page_id}/`` answers with the same form schema as the
plugin's own API (``wagtail_leadgen.api.forms.form_schema``) and counts a view
of the page as it does; the plugin's own mount stays the stable one: v3 may
change, that contract does not.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Router

from .api import forms as plugin_forms
from .api.problems import ApiProblem

#: Where the routes sit under the site's v3 mount (e.g. ``/api/v3/leadgen/``).
V3_PREFIX = "/leadgen/"

router = Router(tags=["leadgen"])
_registered_on: list[Any] = []


@router.get(
    "/forms/{int:page_id}/",
    url_name="leadgen_form_schema",
    summary="The form of a lead page (as the plugin's own API serves it)",
    operation_id="leadgen_form_schema",
)
def form_schema(request: HttpRequest, page_id: int, response: HttpResponse) -> Any:
    response["Cache-Control"] = "no-store"  # it carries a fresh time-trap token
    try:
        return plugin_forms.shown_form_schema(request, page_id)
    except ApiProblem as problem:  # v3's error handlers know Http404
        raise Http404(problem.detail) from problem


def register_v3_routes() -> bool:
    """Add the plugin's router to Wagtail's v3 API when the site installs it;
    True when it is (or already was) added. Called from ``AppConfig.ready()``."""
    if not apps.is_installed("wagtail.api.v3"):
        return False
    # Imported only here: wagtail.api.v3 builds its schemas from every page
    # model on import, which a site without v3 must not pay for.
    from wagtail.api.v3.api import api

    if not any(mounted is api for mounted in _registered_on):
        api.add_router(V3_PREFIX, router)
        _registered_on.append(api)
    return True
