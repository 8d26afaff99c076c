"""Entry points: the figures of a text, the hints of a page.

``analyse_content(page_or_fields, language)`` turns a page's text (rich text,
StreamField, plain text fields) into figures: words, reading time, sentences,
long sentences, longest paragraph, words between subheadings and a readability
score with the language's own formula. ``page_hints(page)`` adds what the
editor should do about them, against the targets of the page's type, plus the
lead-generation checks (form length, consent purposes, information notice,
CTAs, thank-you page, meta description). Hints guide; nothing here ever blocks
publishing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .extract import ExtractedContent, extract_content
from .registry import (
    LEVELS,
    PAGE,
    POOR,
    TEXT,
    WARNING,
    Hint,
    HintContext,
    run_rules,
    worst_first,
)
from .rules import grouped
from .rules_form import form_field_count
from .targets import (
    CONTENT,
    get_targets,
    page_language,
    page_profile,
    readability_label,
    reading_speed,
)
from .text import ContentAnalysis, analyse_blocks, language_root


@dataclass
class PageHints:
    """Everything the panel, the endpoint and the report show about a page.

    ``extracted`` is the text and CTAs that were analysed (not serialised).
    """

    analysis: ContentAnalysis
    hints: list[Hint]
    profile: str
    targets: dict[str, Any]
    form_fields: int | None = None
    extracted: ExtractedContent | None = field(default=None, repr=False)

    def count(self, level: str) -> int:
        return sum(1 for hint in self.hints if hint.level == level)

    @property
    def warnings(self) -> int:
        return self.count(WARNING)

    @property
    def poor(self) -> int:
        return self.count(POOR)

    def get(self, hint_id: str) -> Hint | None:
        return next((hint for hint in self.hints if hint.id == hint_id), None)

    def as_dict(self) -> dict[str, Any]:
        analysis = self.analysis
        return {
            "profile": self.profile,
            "language": analysis.language,
            "metrics": {
                **analysis.as_dict(),
                "form_fields": self.form_fields,
                "display": {
                    "words": grouped(analysis.words),
                    "reading_time": reading_time_display(analysis),
                    "readability": readability_display(analysis, self.targets),
                },
            },
            "hints": [hint.as_dict() for hint in self.hints],
            "counts": {level: self.count(level) for level in LEVELS},
        }


def readability_display(analysis: ContentAnalysis, targets: dict[str, Any]) -> str:
    """The score with its label, e.g. "72 (easy)"; a dash without a score."""
    label = readability_label(analysis.readability, targets)
    if label is None or analysis.readability is None:
        return "–"
    names = {"easy": _("easy"), "fair": _("fair"), "hard": _("hard")}
    return _("%(score)s (%(label)s)") % {
        "score": grouped(round(analysis.readability)),
        "label": names[label],
    }


def reading_time_display(analysis: ContentAnalysis) -> str:
    minutes = analysis.reading_time_minutes
    return ngettext("%(minutes)s min", "%(minutes)s min", minutes) % {
        "minutes": minutes
    }


def analyse_extracted(
    extracted: ExtractedContent,
    language: str | None,
    *,
    min_words: int,
    long_sentence_words: int,
) -> ContentAnalysis:
    """Figures about extracted text; ``language`` defaults to ``LANGUAGE_CODE``."""
    root = language_root(language or settings.LANGUAGE_CODE)
    return analyse_blocks(
        extracted.blocks,
        root,
        min_words=min_words,
        long_sentence_words=long_sentence_words,
        words_per_minute=reading_speed(root),
    )


def analyse_content(
    page_or_fields: Any,
    language: str | None = None,
    *,
    min_words: int | None = None,
    long_sentence_words: int | None = None,
) -> ContentAnalysis:
    """Figures about a page's text (or about the given field values).

    ``language`` defaults to the page's locale, then ``LANGUAGE_CODE``.
    ``min_words`` (readability is None below it) and ``long_sentence_words``
    default to the page type's targets (see ``get_targets``).
    """
    if isinstance(page_or_fields, ExtractedContent):
        extracted = page_or_fields
        targets = get_targets(None)
    else:
        extracted = extract_content(page_or_fields)
        targets = get_targets(page_or_fields)
        if language is None:
            language = page_language(page_or_fields)
    if min_words is None:
        min_words = targets["MIN_WORDS_FOR_READABILITY"]
    if long_sentence_words is None:
        long_sentence_words = targets["LONG_SENTENCE_WORDS"]
    return analyse_extracted(
        extracted,
        language,
        min_words=min_words,
        long_sentence_words=long_sentence_words,
    )


def content_hints(
    analysis: ContentAnalysis,
    targets: dict[str, Any],
    *,
    profile: str = CONTENT,
) -> list[Hint]:
    """Hints on length, readability and structure, against the targets."""
    return run_rules(
        TEXT, HintContext(targets=targets, profile=profile, analysis=analysis)
    )


def leadgen_hints(
    page: Any,
    targets: dict[str, Any],
    *,
    extracted: ExtractedContent | None = None,
    site: Any = None,
    profile: str | None = None,
) -> list[Hint]:
    """Lead-generation checks: form, consent, notice, CTAs, thank-you page, meta."""
    context = HintContext(
        targets=targets,
        profile=profile or page_profile(type(page)),
        page=page,
        extracted=extracted if extracted is not None else extract_content(page),
        site=site,
    )
    return run_rules(PAGE, context)


def page_hints(
    page: Any,
    *,
    language: str | None = None,
    site: Any = None,
) -> PageHints:
    """All hints for a page, saved or not (the live endpoint passes the unsaved form's page)."""
    targets = get_targets(page)
    profile = page_profile(type(page))
    extracted = extract_content(page)
    analysis = analyse_extracted(
        extracted,
        language or page_language(page),
        min_words=targets["MIN_WORDS_FOR_READABILITY"],
        long_sentence_words=targets["LONG_SENTENCE_WORDS"],
    )
    context = HintContext(
        targets=targets,
        profile=profile,
        analysis=analysis,
        page=page,
        extracted=extracted,
        site=site,
    )
    return PageHints(
        analysis=analysis,
        hints=worst_first(run_rules(TEXT, context) + run_rules(PAGE, context)),
        profile=profile,
        targets=targets,
        form_fields=form_field_count(page),
        extracted=extracted,
    )
