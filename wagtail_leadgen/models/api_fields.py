"""What the page types show through Wagtail's page APIs (``api_fields``).

The values are DRF serializer fields, as Wagtail's API v2 expects; its v3
preview reads the same ``APIField(serializer=...)`` through its v2 shim, so
they never read the request (there is none in v3). Each one describes the
page from what its HTML form uses: ``get_purposes()``, ``get_form_class()``
and the thank-you page, never a second copy of those rules.

Nothing here ever names the gated document: its id, URL or file name in a
public page API would hand out what the form is there to exchange.
"""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext
from rest_framework import serializers

#: The URL namespace of the plugin's own API (``wagtail_leadgen.api.app``).
PLUGIN_API_NAMESPACE = "wagtail_leadgen_api"


def form_schema_path(page_id: int) -> str | None:
    """The path of this page's form schema in the plugin's API, where the site
    mounts it (``GET …/forms/<page_id>``); None when the site does not mount it."""
    try:
        root = reverse(f"{PLUGIN_API_NAMESPACE}:api-root")
    except NoReverseMatch:
        return None
    return f"{root}forms/{page_id}"


def describe_purposes(purposes: Any) -> list[dict[str, Any]]:
    """Each consent purpose with its current published wording and version,
    as the plugin's form schema gives its consents: ``name`` is what the
    visitor ticks, ``text`` the purpose (sanitised HTML). A purpose's own
    ``name`` is for editors only and is not shown."""
    return [
        {
            "id": purpose.pk,
            "version": purpose.live_revision_id,
            "name": purpose.checkbox_label,
            "text": purpose.purpose_html,
            "requires_confirmation": purpose.requires_confirmation,
        }
        for purpose in purposes
    ]


def describe_form(page: Any) -> dict[str, Any]:
    """The form a page shows: heading, button and answer fields (email first)."""
    form_class = page.get_form_class()
    return {
        "heading": page.form_heading or gettext("Get it now"),
        "submit_label": page.submit_label or gettext("Send"),
        "fields": form_class.describe_answer_fields(),
    }


def describe_thank_you_page(page: Any) -> dict[str, Any] | None:
    """Where a visitor goes after the form, if it is a published page."""
    thank_you = page.thank_you_page
    if thank_you is None or not thank_you.live:
        return None
    return {"id": thank_you.pk, "title": thank_you.title, "url": thank_you.url}


class _WholePageField(serializers.Field):
    """A read-only value computed from the whole page (``source="*"``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", read_only=True, **kwargs)


class FormDefinitionField(_WholePageField):
    def to_representation(self, value: Any) -> dict[str, Any]:
        return describe_form(value)


class PurposesField(_WholePageField):
    def to_representation(self, value: Any) -> list[dict[str, Any]]:
        return describe_purposes(value.get_purposes())


class ThankYouPageField(_WholePageField):
    def to_representation(self, value: Any) -> dict[str, Any] | None:
        return describe_thank_you_page(value)


class FormSchemaUrlField(_WholePageField):
    def to_representation(self, value: Any) -> str | None:
        return form_schema_path(value.pk)
