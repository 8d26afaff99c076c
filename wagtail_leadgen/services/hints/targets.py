"""What a page is measured against: its profile, its targets, its language.

The values come from ``leadgen_settings`` (``CONTENT_TARGETS`` and
``READING_WORDS_PER_MINUTE``, merged over the defaults and validated once by
``conf.py``); this module only picks the sections that apply to a page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from wagtail.models import AbstractPage

from ...conf import CONTENT_PROFILES, leadgen_settings
from ...models.gated import GatedDocumentMixin
from ...models.mixins import LeadCaptureMixin, ThankYouMixin
from .text import language_root

# -- Profiles: which targets a page type starts from ----------------------------
CONTENT = "content"
LANDING = "landing"
EBOOK = "ebook"
THANK_YOU = "thank_you"
PROFILES = CONTENT_PROFILES


def page_profile(model: type | None) -> str:
    """The targets a page type starts from: landing, ebook, thank_you or content."""
    if model is None:
        return CONTENT
    if issubclass(model, ThankYouMixin):
        return THANK_YOU
    if issubclass(model, GatedDocumentMixin):
        return EBOOK
    if issubclass(model, LeadCaptureMixin):
        return LANDING
    return CONTENT


def get_targets(page_or_model: Any) -> dict[str, Any]:
    """The targets for a page (or page model): defaults, then its profile, then
    its model label; a site's ``CONTENT_TARGETS`` merged over each level."""
    kind = page_or_model if isinstance(page_or_model, type) else type(page_or_model)
    model: Any = kind if issubclass(kind, AbstractPage) else None
    configured = leadgen_settings.content_targets
    sections = ["default", page_profile(model)]
    if model is not None:
        sections.append(model._meta.label_lower)
    merged: dict[str, Any] = {}
    for section in sections:
        merged.update(configured.get(section, {}))
    return merged


def page_language(page: Any) -> str:
    """The page's locale, or the site's ``LANGUAGE_CODE`` for anything else."""
    locale_id = getattr(page, "locale_id", None)
    if locale_id:
        return page.locale.language_code
    return settings.LANGUAGE_CODE


def reading_speed(language: str | None) -> int:
    """Silent reading speed (words a minute) of a language; English's by default."""
    speeds = leadgen_settings.reading_speeds
    root = language_root(language)
    return int(speeds.get(root) or speeds.get("en") or 238)


def readability_label(score: float | None, targets: Mapping[str, Any]) -> str | None:
    """``easy``, ``fair`` or ``hard`` against the targets; None without a score."""
    if score is None:
        return None
    if score > targets["READABILITY_GOOD"]:
        return "easy"
    if score >= targets["READABILITY_FAIR"]:
        return "fair"
    return "hard"
