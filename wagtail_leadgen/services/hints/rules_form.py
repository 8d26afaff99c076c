"""The lead form's hints: its length, its consent boxes and its notice (R5, R8, R10).

One function per hint, as in ``rules.py``; this module is imported after it
(the package imports ``rules`` first), so these hints come after the
content's within a level.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ...forms import UnknownFieldKind
from ...models.mixins import LeadCaptureMixin
from ...models.publishing import site_for_page
from ...models.settings import LeadgenSiteSettings

# The content's rules register first, whoever imports this module first.
from . import rules as _content_rules  # noqa: F401
from .registry import (
    GOOD,
    PAGE,
    POOR,
    WARNING,
    Finding,
    Hint,
    HintContext,
    get_rule,
    hint_rule,
)


def form_field_count(page: Any) -> int | None:
    """Fields of the page's lead form, the always-present email included."""
    if not isinstance(page, LeadCaptureMixin):
        return None
    return 1 + len(page.form_fields or ())


def form_length_finding(count: int, targets: Mapping[str, Any]) -> Finding:
    values = {"count": count}
    if count <= targets["FORM_FIELDS_GOOD"]:
        return Finding(
            GOOD,
            ngettext(
                "The form asks for %(count)s field: short, as it should be.",
                "The form asks for %(count)s fields: short, as it should be.",
                count,
            )
            % values,
        )
    return Finding(
        POOR if count >= targets["FORM_FIELDS_POOR"] else WARNING,
        ngettext(
            "The form asks for %(count)s field: each one lowers conversions.",
            "The form asks for %(count)s fields: each extra one lowers conversions.",
            count,
        )
        % values,
    )


def form_length_hint(count: int, targets: Mapping[str, Any]) -> Hint:
    """The form-length hint for a form of ``count`` fields."""
    return get_rule("form-fields").hint(form_length_finding(count, targets))


@hint_rule(
    "form-fields",
    title=gettext_lazy("Long form"),
    action=gettext_lazy(
        "Every extra field costs conversions: keep the email and at most "
        "three more, and only what the purpose needs."
    ),
    scope=PAGE,
    checks_panel=True,
)
def form_fields(context: HintContext) -> Finding | None:
    count = form_field_count(context.page)
    return None if count is None else form_length_finding(count, context.targets)


def _lacks_text(purpose: Any) -> bool:
    return (
        not strip_tags(purpose.purpose_text or "").strip()
        or not (purpose.checkbox_label or "").strip()
    )


@hint_rule(
    "purpose-text",
    title=gettext_lazy("Consent purpose without text"),
    action=gettext_lazy(
        "Write what the data is used for in the purpose, then publish it."
    ),
    scope=PAGE,
    checks_panel=True,
)
def purpose_text(context: HintContext) -> list[Finding]:
    if not isinstance(context.page, LeadCaptureMixin):
        return []
    return [
        Finding(
            POOR,
            _("The consent purpose “%(name)s” has no text.") % {"name": purpose.name},
        )
        for purpose in context.purposes
        if _lacks_text(purpose)
    ]


@hint_rule(
    "purpose-unpublished",
    title=gettext_lazy("Consent purpose not published"),
    action=gettext_lazy("Publish the purpose, or remove it from the page."),
    scope=PAGE,
    checks_panel=True,
)
def purpose_unpublished(context: HintContext) -> list[Finding]:
    if not isinstance(context.page, LeadCaptureMixin):
        return []
    # A purpose without text is reported as such, published or not.
    return [
        Finding(
            WARNING,
            _(
                "The consent purpose “%(name)s” is not published: its checkbox is not shown."
            )
            % {"name": purpose.name},
        )
        for purpose in context.purposes
        if not _lacks_text(purpose) and not purpose.live
    ]


@hint_rule(
    "notice",
    title=gettext_lazy("Incomplete information notice"),
    action=gettext_lazy(
        "Fill in the data controller's name and contact email in "
        "Settings › Lead generation: data controller."
    ),
    scope=PAGE,
    checks_panel=True,
)
def notice(context: HintContext) -> Finding | None:
    if not isinstance(context.page, LeadCaptureMixin):
        return None
    site = context.site or site_for_page(context.page)
    if site is None or LeadgenSiteSettings.for_site(site).is_complete:
        return None
    return Finding(
        POOR,
        _(
            "The information notice does not say who the data controller is or how to reach them."
        ),
    )


@hint_rule(
    "request-processing",
    title=gettext_lazy("No request processing"),
    action=gettext_lazy(
        "Choose and publish the request processing: what is done with the data "
        "to answer the request, stated next to the button. No box is needed "
        "for what the visitor asks for."
    ),
    scope=PAGE,
    checks_panel=True,
)
def request_processing(context: HintContext) -> Finding | None:
    page = context.page
    if not isinstance(page, LeadCaptureMixin):
        return None
    try:
        processing = page.request_processing
    except ObjectDoesNotExist:  # chosen in a draft, deleted since
        processing = None
    if processing is None:
        return Finding(
            POOR,
            _(
                "The notice does not say what is done with the data to answer the "
                "request: the page cannot be published."
            ),
        )
    if not processing.live:
        return Finding(
            POOR,
            _("The request processing “%(name)s” is not published.")
            % {"name": processing.name},
        )
    return None


@hint_rule(
    "required-consent",
    title=gettext_lazy("Required consent box"),
    action=gettext_lazy(
        "Leave every consent box optional: consent must be free. What the "
        "visitor asks for rests on the request processing, not on a box."
    ),
    scope=PAGE,
    checks_panel=True,
)
def required_consent(context: HintContext) -> list[Finding]:
    """A box a site's own form builder made required (R8 forbids it)."""
    page = context.page
    if not isinstance(page, LeadCaptureMixin):
        return []
    try:
        form_class = page.get_form_class([p for p in context.purposes if p.live])
    except UnknownFieldKind:  # a field the builder cannot build: not this hint's
        return []
    return [
        Finding(
            POOR,
            _("The box “%(label)s” is required: the form cannot be sent unticked.")
            % {"label": purpose.checkbox_label},
        )
        for purpose in form_class.required_consent_purposes()
    ]
