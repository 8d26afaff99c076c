"""Text figures: words, sentences, syllables and the readability formulas.

Pure Python on purpose: no Django import (a test loads this file on its own
and checks that ``django`` stays out of ``sys.modules``), so the counting can
be reasoned about, benchmarked and reused without settings. Whatever comes
from the settings (the reading speed, the default language, the thresholds)
is passed in by the caller, ``analysis.py``.

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
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from functools import cache, lru_cache
from typing import Any

import pyphen

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
VOWEL_GROUP_RE = re.compile(r"[aeiouy]+")


@dataclass(frozen=True)
class TextBlock:
    """One block of text: a ``heading``, a ``paragraph`` or a list ``item``."""

    kind: str
    text: str


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


# -- Counting ---------------------------------------------------------------------
def language_root(language: str | None) -> str:
    """``"fr"`` for ``"fr-CA"`` or ``"fr_FR"``; ``"en"`` when no language is given."""
    return (language or "en").replace("_", "-").split("-")[0].lower()


@cache
def formula_for(root: str) -> tuple[float, float, float] | None:
    """(base, per word/sentence, per syllable/word) from textstat's table, or None."""
    # Imported on first use, not with this module: importing textstat imports
    # NLTK, which costs a few tenths of a second at start-up.
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
def _hyphenator(root: str) -> pyphen.Pyphen | None:
    """One pyphen instance per language (they are read-only once built)."""
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


def analyse_blocks(
    blocks: Iterable[TextBlock],
    language: str | None,
    *,
    min_words: int,
    long_sentence_words: int,
    words_per_minute: int,
) -> ContentAnalysis:
    """Figures about text blocks in reading order.

    Headings count as words and reset the words-between-subheadings count,
    but are neither paragraphs nor sentences. ``min_words``: no readability
    score below it; ``long_sentence_words``: a longer sentence is long;
    ``words_per_minute``: the silent reading speed of ``language``.
    """
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

    for block in blocks:
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
        reading_time_seconds=round(words_total * 60 / words_per_minute),
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
