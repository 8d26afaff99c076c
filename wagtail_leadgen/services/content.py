"""Content hints (R5, R6): length, readability and lead-form checks for editors.

``analyse_content(page_or_fields, language)`` turns a page's text (rich text,
StreamField, plain text fields) into figures: words, reading time, sentences,
long sentences, longest paragraph, words between subheadings and a readability
score with the language's own formula. ``page_hints(page)`` adds what the
editor should do about them, against the targets of the page's type, plus the
lead-generation checks (form length, consent purposes, information notice,
CTAs, thank-you page, meta description). Hints guide; nothing here ever blocks
publishing.

Readability and the network
---------------------------
The coefficients of the formulas come from ``textstat``'s per-language table
(French: Kandel & Moles, 207 - 1.015 x words/sentence - 73.6 x
syllables/word; English: Flesch reading ease, 206.835 - 1.015 x
words/sentence - 84.6 x syllables/word). We never call textstat's text
functions, for two reasons:

- its module-level ``textstat`` object holds the language as global state
  (``set_lang``), unsafe to switch per request in a threaded server;
- its English syllable counter loads NLTK's ``cmudict`` corpus and *downloads*
  it when it is missing. The plugin must never touch the network.

Syllables are counted offline with ``pyphen``, whose hyphenation dictionaries
ship inside the package: French words exactly as textstat counts them
(hyphenation points + 1); English words as the larger of that count and a
vowel-group count, which on our measurements stays within 0.04 syllable per
word of CMUdict where pyphen alone undercounts by 0.16 (about +13 Flesch
points). textstat imports NLTK when it is imported, but NLTK is never asked
for data, so it never downloads anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import cache, lru_cache
from html.parser import HTMLParser
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.utils.formats import number_format
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ..conf import leadgen_settings

# -- Levels ---------------------------------------------------------------------
GOOD = "good"
INFO = "info"
WARNING = "warning"
POOR = "poor"
LEVELS = (GOOD, INFO, WARNING, POOR)

# -- Profiles: which targets a page type starts from ----------------------------
CONTENT = "content"
LANDING = "landing"
EBOOK = "ebook"
THANK_YOU = "thank_you"
PROFILES = (CONTENT, LANDING, EBOOK, THANK_YOU)

# Formula names, by language root, for the coefficients textstat holds.
FORMULA_NAMES = {
    "fr": "Kandel & Moles",
    "en": "Flesch reading ease",
    "de": "Amstad",
    "es": "Fernández Huerta",
    "it": "Flesch-Vacca",
    "nl": "Flesch-Douma",
    "ru": "Flesch (Oborneva)",
}

# -- Tokenising -------------------------------------------------------------------
# A word: letters or digits, possibly joined by hyphens or apostrophes
# ("c'est-à-dire", "l'offre", "e-mail" are one word each).
WORD_RE = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
# A sentence ends with . ! ? or … (possibly followed by a closing quote or
# bracket) and whitespace.
SENTENCE_END_RE = re.compile(r"(?<=[.!?…])(?:\s*[»”\"')\]])?\s+")
# Words after which a full stop does not end the sentence.
ABBREVIATIONS = frozenset(
    (
        *("m", "mm", "mme", "mmes", "mlle", "dr", "pr", "st", "ste", "cf", "ex"),
        *("p", "pp", "n°", "nr", "vs", "e.g", "i.e", "env", "art"),
        *("fig", "vol", "chap", "av", "bd", "mr", "mrs", "ms", "prof", "jr", "sr"),
        *("inc", "ltd", "co"),
    )
)
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
BLOCK_TAGS = HEADING_TAGS | frozenset(
    {
        "p",
        "div",
        "li",
        "ul",
        "ol",
        "blockquote",
        "pre",
        "table",
        "tr",
        "td",
        "th",
        "dd",
        "dt",
        "dl",
        "figcaption",
        "section",
        "article",
        "aside",
        "header",
        "footer",
    }
)
SKIPPED_TAGS = frozenset({"script", "style", "template"})
VOWEL_GROUP_RE = re.compile(r"[aeiouy]+")
# StreamField blocks whose text is a subheading, by block name.
HEADING_BLOCK_NAMES = frozenset({"heading", "subheading", "title", "h2", "h3", "h4"})


# -- What the analysis returns ----------------------------------------------------
@dataclass(frozen=True)
class TextBlock:
    """One block of text: a ``heading``, a ``paragraph`` or a list ``item``."""

    kind: str
    text: str


@dataclass
class ExtractedContent:
    """Plain text blocks in reading order, and the CTAs met on the way.

    ``ctas`` holds each CTA block's ``CallToAction`` (``None`` for a block
    whose snippet is gone).
    """

    blocks: list[TextBlock] = field(default_factory=list)
    ctas: list[Any] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n\n".join(block.text for block in self.blocks)


@dataclass
class ContentAnalysis:
    """Figures about a text. ``readability`` is None under the minimum word
    count, or for a language without a formula."""

    language: str
    words: int
    reading_time_seconds: int
    sentences: int
    average_sentence_length: float
    long_sentences: int
    long_sentence_share: float
    long_sentence_words: int
    paragraphs: int
    longest_paragraph: int
    subheadings: int
    max_words_between_subheadings: int
    syllables_per_word: float
    readability: float | None
    readability_formula: str | None
    min_words_for_readability: int

    @property
    def reading_time_minutes(self) -> int:
        """Whole minutes, at least 1 as soon as there is a word to read."""
        if not self.words:
            return 0
        return max(1, round(self.reading_time_seconds / 60))

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["reading_time_minutes"] = self.reading_time_minutes
        return data


@dataclass(frozen=True)
class Hint:
    """One piece of advice: what was found (``message``), what to do (``action``)."""

    id: str
    level: str
    message: str
    action: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "level": self.level,
            "message": self.message,
            "action": self.action,
        }


@dataclass
class PageHints:
    """Everything the panel, the endpoint and the report show about a page."""

    analysis: ContentAnalysis
    hints: list[Hint]
    profile: str
    targets: dict[str, Any]
    form_fields: int | None = None

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
                    "words": number_format(analysis.words, force_grouping=True),
                    "reading_time": reading_time_display(analysis),
                    "readability": readability_display(analysis, self.targets),
                },
            },
            "hints": [hint.as_dict() for hint in self.hints],
            "counts": {level: self.count(level) for level in LEVELS},
        }


# -- Extraction -------------------------------------------------------------------
class _BlockParser(HTMLParser):
    """Rich text to text blocks, keeping paragraph and heading boundaries."""

    def __init__(self, out: list[TextBlock]) -> None:
        super().__init__(convert_charrefs=True)
        self.out = out
        self.buffer: list[str] = []
        self.stack: list[str] = []
        self.skipping = 0

    def _kind(self) -> str:
        for tag in reversed(self.stack):
            if tag in HEADING_TAGS:
                return "heading"
            if tag == "li":
                return "item"
            if tag in {"p", "td", "th", "dd", "dt", "figcaption", "pre"}:
                return "paragraph"
        return "paragraph"

    def flush(self) -> None:
        text = " ".join("".join(self.buffer).split())
        self.buffer = []
        if text:
            self.out.append(TextBlock(self._kind(), text))

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in SKIPPED_TAGS:
            self.skipping += 1
        elif tag in BLOCK_TAGS:
            self.flush()
            self.stack.append(tag)
        elif tag == "br":
            self.buffer.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in BLOCK_TAGS:
            self.flush()
            if tag in self.stack:
                del self.stack[len(self.stack) - 1 - self.stack[::-1].index(tag) :]

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.buffer.append(data)

    def close(self) -> None:
        super().close()
        self.flush()


HTML_RE = re.compile(r"<(?:p|h[1-6]|ul|ol|li|div|br|blockquote)\b", re.IGNORECASE)


def html_to_blocks(html: str, out: list[TextBlock] | None = None) -> list[TextBlock]:
    """Plain text blocks of an HTML fragment (rich text as stored or rendered)."""
    out = [] if out is None else out
    parser = _BlockParser(out)
    parser.feed(html or "")
    parser.close()
    return out


def text_to_blocks(text: str, out: list[TextBlock] | None = None) -> list[TextBlock]:
    """Plain text: paragraphs are separated by blank lines."""
    out = [] if out is None else out
    for paragraph in re.split(r"\n\s*\n", text or ""):
        paragraph = " ".join(paragraph.split())
        if paragraph:
            out.append(TextBlock("paragraph", paragraph))
    return out


def _is_cta_block(block: Any) -> bool:
    from wagtail.snippets.blocks import SnippetChooserBlock

    from ..models.snippets import CallToAction

    return isinstance(block, SnippetChooserBlock) and issubclass(
        block.target_model, CallToAction
    )


def _walk_block(block: Any, value: Any, name: str, out: ExtractedContent) -> None:
    from wagtail import blocks
    from wagtail.images.blocks import ImageBlock

    if isinstance(block, blocks.RichTextBlock):
        html_to_blocks(getattr(value, "source", value) or "", out.blocks)
    elif _is_cta_block(block):
        out.ctas.append(value)
    elif isinstance(block, ImageBlock):
        return
    elif isinstance(block, blocks.StreamBlock):
        _walk_stream(value, out)
    elif isinstance(block, blocks.ListBlock):
        for item in value or ():
            _walk_block(block.child_block, getattr(item, "value", item), name, out)
    elif isinstance(block, blocks.StructBlock):
        for child_name, child_block in block.child_blocks.items():
            child_value = value.get(child_name) if value is not None else None
            if isinstance(child_block, blocks.CharBlock) and not isinstance(
                child_block, blocks.TextBlock
            ):
                # Inside a struct, only a heading's short text is reading
                # matter; labels, alt texts and captions are not counted.
                if child_name in HEADING_BLOCK_NAMES and child_value:
                    out.blocks.append(
                        TextBlock("heading", " ".join(child_value.split()))
                    )
                continue
            _walk_block(child_block, child_value, child_name, out)
    elif isinstance(block, (blocks.CharBlock, blocks.TextBlock)):
        if not value:
            return
        if name in HEADING_BLOCK_NAMES:
            out.blocks.append(TextBlock("heading", " ".join(str(value).split())))
        else:
            text_to_blocks(str(value), out.blocks)


def _walk_stream(value: Any, out: ExtractedContent) -> None:
    for child in value or ():
        block = getattr(child, "block", None)
        if block is None:
            continue
        _walk_block(block, child.value, getattr(child, "block_type", ""), out)


def _extract_value(value: Any, out: ExtractedContent) -> None:
    from wagtail.blocks import StreamValue
    from wagtail.rich_text import RichText

    if value is None:
        return
    if isinstance(value, StreamValue):
        _walk_stream(value, out)
    elif isinstance(value, RichText):
        html_to_blocks(value.source, out.blocks)
    elif isinstance(value, str):
        if HTML_RE.search(value):
            html_to_blocks(value, out.blocks)
        else:
            text_to_blocks(value, out.blocks)
    elif isinstance(value, Iterable):
        for item in value:
            _extract_value(item, out)


def content_field_names(model: type) -> list[str]:
    """The fields whose text is analysed, in order.

    Taken from the ``ContentHintsPanel(content_fields=[...])`` of the model's
    edit handler when it names them; otherwise every rich text, StreamField
    and long text field of the model, except the lead form's own fields.
    """
    from ..panels import find_hints_panel

    panel = find_hints_panel(model)
    if panel is not None and panel.content_fields:
        return list(panel.content_fields)
    return _discovered_content_fields(model)


@cache
def _discovered_content_fields(model: type) -> list[str]:
    from django.db import models
    from wagtail.fields import RichTextField, StreamField
    from wagtail.models import Page

    from ..models.mixins import LeadCaptureMixin

    excluded = {f.name for f in Page._meta.get_fields()}
    excluded |= {f.name for f in LeadCaptureMixin._meta.local_fields}
    names = []
    for model_field in model._meta.concrete_fields:
        if model_field.name in excluded:
            continue
        if isinstance(model_field, (RichTextField, StreamField, models.TextField)):
            names.append(model_field.name)
    return names


def extract_content(page_or_fields: Any) -> ExtractedContent:
    """Text blocks and CTAs of a page, a ``{name: value}`` mapping, a value or a list of values.

    A value may be a StreamField value, a ``RichText``, an HTML string (rich
    text as stored) or plain text.
    """
    from wagtail.fields import RichTextField, StreamField
    from wagtail.models import Page

    out = ExtractedContent()
    if isinstance(page_or_fields, Page):
        page = page_or_fields
        for name in content_field_names(type(page)):
            value = getattr(page, name, None)
            model_field = page._meta.get_field(name)
            start = len(out.blocks)
            if isinstance(model_field, RichTextField):
                html_to_blocks(value or "", out.blocks)
            elif isinstance(model_field, StreamField):
                _walk_stream(value, out)
            else:
                text_to_blocks(str(value or ""), out.blocks)
            out.fields[name] = " ".join(b.text for b in out.blocks[start:])
    elif isinstance(page_or_fields, Mapping):
        for name, value in page_or_fields.items():
            start = len(out.blocks)
            _extract_value(value, out)
            out.fields[name] = " ".join(b.text for b in out.blocks[start:])
    else:
        _extract_value(page_or_fields, out)
    return out


# -- Counting ---------------------------------------------------------------------
def language_root(language: str | None) -> str:
    return (
        (language or settings.LANGUAGE_CODE or "en")
        .replace("_", "-")
        .split("-")[0]
        .lower()
    )


@cache
def formula_for(root: str) -> tuple[float, float, float] | None:
    """(base, per word/sentence, per syllable/word) from textstat's table, or None."""
    from textstat.backend.utils.constants import LANG_CONFIGS

    config = LANG_CONFIGS.get(root, {})
    if "fre_base" not in config or _hyphenator(root) is None:
        return None
    return (
        float(config["fre_base"]),
        float(config["fre_sentence_length"]),
        float(config["fre_syll_per_word"]),
    )


@cache
def _hyphenator(root: str):
    """One pyphen instance per language (they are read-only once built)."""
    import pyphen

    if root not in pyphen.LANGUAGES:
        return None
    return pyphen.Pyphen(lang=root)


_PREFIXES: dict[int, frozenset[str]] = {}


def _pattern_prefixes(hd: Any) -> frozenset[str]:
    """Every prefix of every hyphenation pattern, to stop matching early."""
    prefixes = _PREFIXES.get(id(hd))
    if prefixes is None:
        prefixes = frozenset(
            key[:end] for key in hd.patterns for end in range(1, len(key) + 1)
        )
        _PREFIXES[id(hd)] = prefixes
    return prefixes


def hyphenation_points(hyphenator: Any, word: str) -> int:
    """``len(hyphenator.positions(word))``, computed without building pyphen's
    ``DataInt`` objects, which cost more than the pattern matching itself.

    Same algorithm as ``pyphen.HyphDict.positions`` (Liang's patterns, then
    the left/right margins of ``Pyphen.positions``), except that matching at a
    position stops as soon as no pattern starts with the letters read so far;
    a test checks that both agree. Falls back to pyphen's own method if its
    internals ever change.
    """
    hd = hyphenator.hd
    patterns = getattr(hd, "patterns", None)
    maxlen = getattr(hd, "maxlen", None)
    if patterns is None or maxlen is None:
        return len(hyphenator.positions(word))
    prefixes = _pattern_prefixes(hd)
    pointed = f".{word.lower()}."
    size = len(pointed)
    references = [0] * (size + 1)
    for i in range(size - 1):
        for j in range(i + 1, min(i + maxlen, size) + 1):
            piece = pointed[i:j]
            if piece not in prefixes:
                break  # no longer pattern starts here either
            pattern = patterns.get(piece)
            if pattern:
                offset, values = pattern
                start = i + offset
                for k, value in enumerate(values):
                    if value > references[start + k]:
                        references[start + k] = value
    # Position p (between letters p-1 and p) is references[p + 1].
    last = len(word) - hyphenator.right
    return sum(1 for p in range(hyphenator.left, last + 1) if references[p + 1] % 2)


@lru_cache(maxsize=50_000)
def count_syllables(word: str, root: str) -> int:
    """Syllables of one lowercased word, offline (see the module docstring)."""
    hyphenator = _hyphenator(root)
    total = 0
    for part in re.split(r"['’\-]", word):
        if not part:
            continue
        if part.isdigit():
            total += 1
            continue
        count = hyphenation_points(hyphenator, part) + 1 if hyphenator else 1
        if root == "en":
            count = max(count, _english_vowel_groups(part))
        if not re.search(r"[^\W\d_]", part):
            count = 1
        elif len(part) == 1 and part not in "aeiouyàâéèêëîïôöùûüœæ":
            # An elided article or pronoun (l', d', j', qu') is no syllable.
            count = 0
        total += count
    return max(1, total)


def _english_vowel_groups(word: str) -> int:
    groups = len(VOWEL_GROUP_RE.findall(word))
    if groups > 1 and word.endswith("e") and not word.endswith(("le", "ee", "ye")):
        groups -= 1
    if (
        groups > 1
        and word.endswith(("es", "ed"))
        and not word.endswith(
            ("ses", "zes", "ches", "shes", "ges", "ces", "ted", "ded", "xes")
        )
    ):
        groups -= 1
    return max(1, groups)


def split_sentences(text: str) -> list[str]:
    """Sentences of one block; a block always ends the sentence it is in."""
    pieces = SENTENCE_END_RE.split(text)
    sentences: list[str] = []
    for piece in pieces:
        if sentences and _ends_with_abbreviation(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return [sentence for sentence in sentences if WORD_RE.search(sentence)]


def _ends_with_abbreviation(sentence: str) -> bool:
    if not sentence.endswith("."):
        return False
    last = (
        sentence.rstrip(".").rsplit(None, 1)[-1].lower() if sentence.strip(".") else ""
    )
    return len(last) == 1 and last.isalpha() or last in ABBREVIATIONS


def reading_speed(root: str) -> int:
    speeds = leadgen_settings.reading_speeds
    return int(speeds.get(root) or speeds.get("en") or 238)


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


def analyse_extracted(
    extracted: ExtractedContent,
    language: str | None,
    *,
    min_words: int,
    long_sentence_words: int,
) -> ContentAnalysis:
    root = language_root(language)
    formula = formula_for(root)
    words_total = 0
    subheadings = 0
    paragraphs = 0
    longest_paragraph = 0
    since_heading = 0
    max_since_heading = 0
    sentence_lengths: list[int] = []
    syllables = 0
    prose_words = 0

    for block in extracted.blocks:
        block_words = WORD_RE.findall(block.text)
        words_total += len(block_words)
        if block.kind == "heading":
            subheadings += 1
            since_heading = 0
            continue
        paragraphs += 1
        longest_paragraph = max(longest_paragraph, len(block_words))
        since_heading += len(block_words)
        max_since_heading = max(max_since_heading, since_heading)
        for sentence in split_sentences(block.text):
            sentence_words = WORD_RE.findall(sentence)
            sentence_lengths.append(len(sentence_words))
            if formula is not None:
                prose_words += len(sentence_words)
                for word in sentence_words:
                    syllables += count_syllables(word.lower(), root)

    sentences = len(sentence_lengths)
    words_in_sentences = sum(sentence_lengths)
    average = words_in_sentences / sentences if sentences else 0.0
    long_count = sum(1 for length in sentence_lengths if length > long_sentence_words)
    syllables_per_word = syllables / prose_words if prose_words else 0.0

    readability = None
    if formula is not None and sentences and words_total >= min_words:
        base, per_sentence_word, per_syllable = formula
        score = base - per_sentence_word * average - per_syllable * syllables_per_word
        readability = round(min(100.0, max(0.0, score)), 1)

    return ContentAnalysis(
        language=root,
        words=words_total,
        reading_time_seconds=round(words_total * 60 / reading_speed(root)),
        sentences=sentences,
        average_sentence_length=round(average, 1),
        long_sentences=long_count,
        long_sentence_share=round(long_count / sentences, 3) if sentences else 0.0,
        long_sentence_words=long_sentence_words,
        paragraphs=paragraphs,
        longest_paragraph=longest_paragraph,
        subheadings=subheadings,
        max_words_between_subheadings=max_since_heading,
        syllables_per_word=round(syllables_per_word, 3),
        readability=readability,
        readability_formula=FORMULA_NAMES.get(root, "Flesch") if formula else None,
        min_words_for_readability=min_words,
    )


# -- Targets ----------------------------------------------------------------------
def page_profile(model: type | None) -> str:
    """The targets a page type starts from: landing, ebook, thank_you or content."""
    from ..models.mixins import GatedDocumentMixin, LeadCaptureMixin, ThankYouMixin

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
    from wagtail.models import Page

    model = page_or_model if isinstance(page_or_model, type) else type(page_or_model)
    if not issubclass(model, Page):
        model = None
    configured = leadgen_settings.content_targets
    sections = ["default", page_profile(model)]
    if model is not None:
        sections.append(model._meta.label_lower)
    merged: dict[str, Any] = {}
    for section in sections:
        merged.update(configured.get(section, {}))
    return merged


# -- Hints ------------------------------------------------------------------------
# A title and what to do, per hint id: the Checks panel shows these, and the
# report exports them. Messages with figures are built where the hint is made.
HINT_TEXTS: dict[str, tuple[Any, Any]] = {
    "words": (
        gettext_lazy("Length of the content"),
        gettext_lazy("Develop the topic: answer the questions your readers ask."),
    ),
    "words-max": (
        gettext_lazy("Long for this type of page"),
        gettext_lazy("Keep to the essentials; move details to a content page."),
    ),
    "readability": (
        gettext_lazy("Readability"),
        gettext_lazy("Shorten sentences and prefer short, everyday words."),
    ),
    "long-sentences": (
        gettext_lazy("Many long sentences"),
        gettext_lazy("Split long sentences: one idea per sentence."),
    ),
    "long-paragraph": (
        gettext_lazy("Long paragraph"),
        gettext_lazy("Split it: one idea per paragraph."),
    ),
    "subheadings": (
        gettext_lazy("Too few subheadings"),
        gettext_lazy(
            "Add a subheading (H2 or H3) that says what the next part is about."
        ),
    ),
    "offer-above-form": (
        gettext_lazy("Offer not described above the form"),
        gettext_lazy("Say in one or two sentences what the visitor gets."),
    ),
    "form-fields": (
        gettext_lazy("Long form"),
        gettext_lazy(
            "Every extra field costs conversions: keep the email and at most "
            "three more, and only what the purpose needs."
        ),
    ),
    "purpose-text": (
        gettext_lazy("Consent purpose without text"),
        gettext_lazy(
            "Write what the data is used for in the purpose, then publish it."
        ),
    ),
    "purpose-unpublished": (
        gettext_lazy("Consent purpose not published"),
        gettext_lazy("Publish the purpose, or remove it from the page."),
    ),
    "notice": (
        gettext_lazy("Incomplete information notice"),
        gettext_lazy(
            "Fill in the data controller's name and contact email in "
            "Settings › Lead generation: data controller."
        ),
    ),
    "cta-target": (
        gettext_lazy("Call to action leading nowhere"),
        gettext_lazy("Publish its target page, or choose another target."),
    ),
    "cta-missing": (
        gettext_lazy("No call to action"),
        gettext_lazy("Add a call to action that leads readers to an offer."),
    ),
    "thank-you-page": (
        gettext_lazy("No thank-you page"),
        gettext_lazy(
            "Choose a published thank-you page: it gives the download and "
            "suggests further content."
        ),
    ),
    "meta-description": (
        gettext_lazy("No meta description"),
        gettext_lazy(
            "Write one or two sentences in the search description (Promote tab): "
            "search engines show them under the title."
        ),
    ),
}

# Lead-generation checks also shown in Wagtail's Checks panel.
CHECKS_PANEL_HINTS = (
    "form-fields",
    "purpose-text",
    "purpose-unpublished",
    "notice",
    "cta-target",
    "thank-you-page",
)


def _hint(hint_id: str, level: str, message: str) -> Hint:
    action = "" if level == GOOD else str(HINT_TEXTS[hint_id][1])
    return Hint(hint_id, level, message, action)


def _n(value: int | float) -> str:
    return number_format(value, force_grouping=True)


def readability_label(score: float | None, targets: Mapping[str, Any]) -> str | None:
    if score is None:
        return None
    if score > targets["READABILITY_GOOD"]:
        return "easy"
    if score >= targets["READABILITY_FAIR"]:
        return "fair"
    return "hard"


def readability_display(analysis: ContentAnalysis, targets: Mapping[str, Any]) -> str:
    label = readability_label(analysis.readability, targets)
    if label is None:
        return "–"
    names = {"easy": _("easy"), "fair": _("fair"), "hard": _("hard")}
    return _("%(score)s (%(label)s)") % {
        "score": _n(round(analysis.readability)),
        "label": names[label],
    }


def reading_time_display(analysis: ContentAnalysis) -> str:
    minutes = analysis.reading_time_minutes
    return ngettext("%(minutes)s min", "%(minutes)s min", minutes) % {
        "minutes": minutes
    }


def content_hints(
    analysis: ContentAnalysis,
    targets: Mapping[str, Any],
    *,
    profile: str = CONTENT,
) -> list[Hint]:
    """Hints on length, readability and structure, against the targets."""
    hints: list[Hint] = []
    words = analysis.words
    if not words:
        return [_hint("words", INFO, _("No text yet."))]

    good, excellent, maximum = (
        targets["WORDS_GOOD"],
        targets["WORDS_EXCELLENT"],
        targets["WORDS_MAX"],
    )
    if excellent and words >= excellent:
        hints.append(
            _hint(
                "words",
                GOOD,
                _("%(count)s words: long and detailed, like the pages that rank best.")
                % {"count": _n(words)},
            )
        )
    elif good and words >= good:
        hints.append(
            _hint(
                "words",
                GOOD,
                _(
                    "%(count)s words: above the %(good)s-word floor; %(excellent)s or more rank best."
                )
                % {
                    "count": _n(words),
                    "good": _n(good),
                    "excellent": _n(excellent or good),
                },
            )
        )
    elif good:
        hints.append(
            _hint(
                "words",
                WARNING,
                ngettext(
                    "%(count)s word: content that ranks and converts has about %(good)s or more.",
                    "%(count)s words: content that ranks and converts has about %(good)s or more.",
                    words,
                )
                % {"count": _n(words), "good": _n(good)},
            )
        )
    if maximum and words > maximum:
        hints.append(
            _hint(
                "words-max",
                INFO,
                _(
                    "%(count)s words: long for this type of page (aim for %(max)s at most)."
                )
                % {"count": _n(words), "max": _n(maximum)},
            )
        )

    if analysis.readability is None:
        if analysis.readability_formula is None:
            hints.append(
                _hint(
                    "readability",
                    INFO,
                    _("No readability formula for this page's language (%(language)s).")
                    % {"language": analysis.language},
                )
            )
        elif profile == CONTENT or words >= analysis.min_words_for_readability // 2:
            hints.append(
                _hint(
                    "readability",
                    INFO,
                    _("Readability is scored from %(min)s words on (%(count)s so far).")
                    % {
                        "min": _n(analysis.min_words_for_readability),
                        "count": _n(words),
                    },
                )
            )
    else:
        label = readability_label(analysis.readability, targets)
        values = {
            "score": _n(round(analysis.readability)),
            "formula": analysis.readability_formula,
        }
        if label == "easy":
            hints.append(
                _hint(
                    "readability",
                    GOOD,
                    _("Readability %(score)s (%(formula)s): easy to read.") % values,
                )
            )
        elif label == "fair":
            hints.append(
                _hint(
                    "readability",
                    INFO,
                    _(
                        "Readability %(score)s (%(formula)s): fairly easy; short sentences would help."
                    )
                    % values,
                )
            )
        else:
            hints.append(
                _hint(
                    "readability",
                    WARNING,
                    _(
                        "Readability %(score)s (%(formula)s): hard to read for a broad audience."
                    )
                    % values,
                )
            )

    if (
        analysis.sentences >= 3
        and analysis.long_sentence_share > targets["LONG_SENTENCES_MAX_SHARE"]
    ):
        hints.append(
            _hint(
                "long-sentences",
                WARNING,
                _(
                    "%(percent)s%% of the sentences have more than %(words)s words "
                    "(aim for %(max)s%% at most)."
                )
                % {
                    "percent": round(analysis.long_sentence_share * 100),
                    "words": analysis.long_sentence_words,
                    "max": round(targets["LONG_SENTENCES_MAX_SHARE"] * 100),
                },
            )
        )
    if analysis.longest_paragraph > targets["PARAGRAPH_MAX_WORDS"]:
        hints.append(
            _hint(
                "long-paragraph",
                WARNING,
                _(
                    "The longest paragraph has %(count)s words (aim for %(max)s at most)."
                )
                % {
                    "count": _n(analysis.longest_paragraph),
                    "max": _n(targets["PARAGRAPH_MAX_WORDS"]),
                },
            )
        )
    if analysis.max_words_between_subheadings > targets["SUBHEADING_EVERY_WORDS"]:
        hints.append(
            _hint(
                "subheadings",
                WARNING,
                _(
                    "%(count)s words in a row without a subheading "
                    "(aim for one every %(max)s words)."
                )
                % {
                    "count": _n(analysis.max_words_between_subheadings),
                    "max": _n(targets["SUBHEADING_EVERY_WORDS"]),
                },
            )
        )
    return hints


def form_field_count(page: Any) -> int | None:
    """Fields of the page's lead form, the always-present email included."""
    from ..models.mixins import LeadCaptureMixin

    if not isinstance(page, LeadCaptureMixin):
        return None
    return 1 + len(page.form_fields or ())


def form_length_hint(count: int, targets: Mapping[str, Any]) -> Hint:
    values = {"count": count}
    if count <= targets["FORM_FIELDS_GOOD"]:
        return _hint(
            "form-fields",
            GOOD,
            ngettext(
                "The form asks for %(count)s field: short, as it should be.",
                "The form asks for %(count)s fields: short, as it should be.",
                count,
            )
            % values,
        )
    level = POOR if count >= targets["FORM_FIELDS_POOR"] else WARNING
    return _hint(
        "form-fields",
        level,
        ngettext(
            "The form asks for %(count)s field: each one lowers conversions.",
            "The form asks for %(count)s fields: each extra one lowers conversions.",
            count,
        )
        % values,
    )


def _purposes_of(page: Any) -> list[Any]:
    try:
        return list(page.consent_purposes.all())
    except ValueError:  # an unsaved page without in-memory selection
        return []


def leadgen_hints(
    page: Any,
    targets: Mapping[str, Any],
    *,
    extracted: ExtractedContent | None = None,
    site: Any = None,
    profile: str | None = None,
) -> list[Hint]:
    """Lead-generation checks: form, consent, notice, CTAs, thank-you page, meta."""
    from ..models.mixins import LeadCaptureMixin

    profile = profile or page_profile(type(page))
    extracted = extracted if extracted is not None else extract_content(page)
    hints: list[Hint] = []

    if (
        targets["OFFER_ABOVE_FORM"]
        and extracted.fields
        and not next(iter(extracted.fields.values())).strip()
    ):
        hints.append(
            _hint(
                "offer-above-form",
                WARNING,
                _("The offer is not described above the form."),
            )
        )

    if isinstance(page, LeadCaptureMixin):
        hints.append(form_length_hint(form_field_count(page), targets))
        for purpose in _purposes_of(page):
            if (
                not strip_tags(purpose.purpose_text or "").strip()
                or not (purpose.checkbox_label or "").strip()
            ):
                hints.append(
                    _hint(
                        "purpose-text",
                        POOR,
                        _("The consent purpose “%(name)s” has no text.")
                        % {"name": purpose.name},
                    )
                )
            elif not purpose.live:
                hints.append(
                    _hint(
                        "purpose-unpublished",
                        WARNING,
                        _(
                            "The consent purpose “%(name)s” is not published: its checkbox is not shown."
                        )
                        % {"name": purpose.name},
                    )
                )
        controller = _controller_settings(page, site)
        if controller is not None and not controller.is_complete:
            hints.append(
                _hint(
                    "notice",
                    POOR,
                    _(
                        "The information notice does not say who the data controller is or how to reach them."
                    ),
                )
            )
        try:
            thank_you = page.thank_you_page
        except ObjectDoesNotExist:  # chosen in a draft, deleted since
            thank_you = None
        if thank_you is None:
            hints.append(
                _hint(
                    "thank-you-page",
                    WARNING,
                    _(
                        "No thank-you page: visitors are thanked on the form page, with nothing more to read."
                    ),
                )
            )
        elif not thank_you.live:
            hints.append(
                _hint(
                    "thank-you-page",
                    WARNING,
                    _("The thank-you page “%(title)s” is not published.")
                    % {"title": thank_you.title},
                )
            )

    for cta in extracted.ctas:
        if cta is None:
            hints.append(
                _hint(
                    "cta-target",
                    POOR,
                    _("A call-to-action block has no call to action chosen."),
                )
            )
        elif not cta.href:
            hints.append(
                _hint(
                    "cta-target",
                    POOR,
                    _(
                        "The call to action “%(label)s” points to a page that is missing or not published."
                    )
                    % {"label": cta.label},
                )
            )
    if profile == CONTENT and not extracted.ctas and extracted.blocks:
        hints.append(_hint("cta-missing", INFO, _("No call to action in the content.")))

    if (
        targets["META_DESCRIPTION"]
        and not (getattr(page, "search_description", "") or "").strip()
    ):
        hints.append(_hint("meta-description", WARNING, _("No meta description.")))
    return hints


def _controller_settings(page: Any, site: Any):
    from ..models.settings import LeadgenSiteSettings

    site = site or page_site(page)
    if site is None:
        return None
    return LeadgenSiteSettings.for_site(site)


def page_site(page: Any):
    """The page's site; for an unsaved page, its parent's; else the default site."""
    from wagtail.models import Site

    site = None
    try:
        if page.pk or page.path:
            site = page.get_site()
    except Exception:  # an unsaved page may not resolve to a site
        site = None
    if site is None:
        site = Site.objects.filter(is_default_site=True).first()
    return site


def page_language(page: Any) -> str:
    locale_id = getattr(page, "locale_id", None)
    if locale_id:
        return page.locale.language_code
    return settings.LANGUAGE_CODE


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
    hints = content_hints(analysis, targets, profile=profile)
    hints += leadgen_hints(
        page, targets, extracted=extracted, site=site, profile=profile
    )
    order = {POOR: 0, WARNING: 1, INFO: 2, GOOD: 3}
    hints.sort(key=lambda hint: order[hint.level])
    return PageHints(
        analysis=analysis,
        hints=hints,
        profile=profile,
        targets=targets,
        form_fields=form_field_count(page),
    )
