"""Test helpers: post a page's form as a browser does, CRM destinations in
settings, and the sweep of every table for personal data."""

import html
import json
import re
from collections.abc import Callable

import pytest
import swapper
from django.apps import apps
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import models

from wagtail_leadgen.crm.base import TransientCRMError
from wagtail_leadgen.crm.locmem import LocmemBackend
from wagtail_leadgen.forms import CONSENT_GIVEN, TOKEN_FIELD

# -- The base page: Wagtail's Page, or tests.basepage.BasePage in the custom run --------
#: True in the custom base page run (``tests.settings_custom_page``).
SWAPPED_BASE_PAGE = bool(swapper.is_swapped("wagtailcore", "Page"))

#: For the tests that only mean something on a swapped base page.
custom_base_page_only = pytest.mark.skipif(
    not SWAPPED_BASE_PAGE,
    reason="about a swapped base page: runs with tests.settings_custom_page",
)


def default_page_only(reason: str):
    """Skip in the custom base page run a test about Wagtail's default ``Page``."""
    return pytest.mark.skipif(SWAPPED_BASE_PAGE, reason=reason)


#: Wagtail's default ``Page`` has a meta description (``search_description``);
#: the custom run's ``BasePage`` has not, and there the meta-description hint
#: never fires (there is nothing to fill in).
HAS_META_DESCRIPTION = hasattr(
    swapper.load_model("wagtailcore", "Page"), "search_description"
)


def meta_description(text: str) -> dict:
    """``search_description=text`` for a page, when the base page has that field."""
    return {"search_description": text} if HAS_META_DESCRIPTION else {}


def form_data(client, page, **answers) -> dict:
    """The fresh token from the rendered page plus the given answers.

    A page a shared cache may hold carries a page token; like the page's
    script (static/wagtail_leadgen/form.js), this swaps it for the visitor's
    own from the form's token URL, so the time trap runs as for a visitor
    with JavaScript.
    """
    response = client.get(page.url)
    assert response.status_code == 200
    markup = response.content.decode()
    token = html.unescape(
        re.search(rf'name="{TOKEN_FIELD}" value="([^"]+)"', markup).group(1)
    )
    token_url = re.search(r'data-leadgen-token-url="([^"]+)"', markup)
    if token_url:
        fetched = client.get(html.unescape(token_url.group(1)), {"t": token})
        assert fetched.status_code == 200, fetched.content
        token = fetched.json()["token"]
    return {TOKEN_FIELD: token, **answers}


def ticked(*purposes) -> dict:
    """Form data ticking these purposes' boxes, with the value the form renders."""
    return {f"consent_{purpose.pk}": CONSENT_GIVEN for purpose in purposes}


def assert_denied(response) -> None:
    """Wagtail answers a permission refusal with a redirect to the dashboard."""
    from django.urls import reverse

    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert response.url == reverse("wagtailadmin_home")


LOCMEM = "wagtail_leadgen.crm.locmem.LocmemBackend"


def locmem_destinations(**destinations: Callable | None) -> dict:
    """A ``WAGTAIL_LEADGEN`` dict with in-memory CRM destinations.

    Each keyword is an alias; its value is the backend's ``FAIL_WITH`` (a
    callable returning the exception to raise for a lead, or None to succeed).
    """
    return {
        "FORM_MIN_FILL_SECONDS": 0,
        "CRM_BACKENDS": {
            alias: {"BACKEND": LOCMEM, "OPTIONS": {"FAIL_WITH": fail_with}}
            for alias, fail_with in destinations.items()
        },
    }


def failing(error: Exception) -> Callable:
    """``FAIL_WITH`` for a destination that always fails with ``error``."""
    return lambda lead: error


def failing_once(error: Exception) -> Callable:
    """``FAIL_WITH`` for a destination whose first attempt fails with ``error``."""
    failures = [error]
    return lambda lead: failures.pop() if failures else None


class NoUpdatesBackend(LocmemBackend):
    """An in-memory CRM that cannot apply consent changes nor corrections
    (like HubSpot without an access token): they need staff."""

    supports_update = False
    supports_correction = False


NO_UPDATES = "tests.helpers.NoUpdatesBackend"


def destinations(**configs: dict) -> dict:
    """A ``WAGTAIL_LEADGEN`` dict with these destinations (alias -> settings
    entry, e.g. ``{"BACKEND": LOCMEM, "RECEIVES": ["Partner offers"]}``)."""
    return {"FORM_MIN_FILL_SECONDS": 0, "CRM_BACKENDS": configs}


class SwitchableBackend(LocmemBackend):
    """An in-memory CRM that can be taken down: every request to an alias in
    ``SwitchableBackend.down`` fails as a connection error would."""

    down: set[str] = set()

    def send(self, request):
        if self.alias in self.down:
            raise TransientCRMError("connection refused")
        return super().send(request)


SWITCHABLE = "tests.helpers.SwitchableBackend"


# -- The PII sweep -----------------------------------------------------------------
_TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def _spellings(field, needles):
    """The needles, and for a JSON column their JSON-escaped spelling too
    (non-ASCII characters may be stored as ``\\uXXXX``)."""
    if not isinstance(field, models.JSONField):
        return needles
    return {
        spelling
        for needle in needles
        for spelling in (needle, json.dumps(needle)[1:-1])
    }


def sweep(*needles: str) -> list[str]:
    """Every stored value holding one of ``needles`` (case-insensitive), as
    ``"app.model.field #pk"``: each text, char, email and JSON column of every
    model of every installed app (Wagtail's audit log and revisions, the task
    queue's tables), and the decoded content of every session."""
    hits = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if not isinstance(field, _TEXT_FIELDS):
                continue
            for needle in _spellings(field, needles):
                matches = model._base_manager.filter(
                    **{f"{field.attname}__icontains": needle}
                ).values_list("pk", flat=True)
                hits += [
                    f"{model._meta.label_lower}.{field.name} #{pk}" for pk in matches
                ]
    for session in Session.objects.all():
        content = str(SessionStore().decode(session.session_data)).lower()
        hits += [
            f"session {session.pk}" for needle in needles if needle.lower() in content
        ]
    return hits
