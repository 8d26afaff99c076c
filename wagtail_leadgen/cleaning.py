"""The one cleaning boundary every value crossing into the plugin goes through.

Form fields, JSON bodies, UTM parameters, the referrer, the headers the plugin
reads and admin filters all end up in a database column, an email, a CSV cell
or a CRM request. Each of those breaks in its own way on characters a browser
never sends but a script does: PostgreSQL refuses NUL in text (a 500 unless it
is caught before), lone surrogates cannot be encoded at all, the email package
turns ``\\x0b`` or ``\\x1c`` into line breaks, bidi overrides disguise what an
admin reads. So the rules live here, once:

- *answers* a visitor typed are refused with a field error when they hold an
  unsafe character (``has_unsafe_characters``), so the person can fix them;
- *metadata* nobody typed on purpose (UTM parameters, the referrer, spam kept
  in quarantine) is cleaned silently (``clean_metadata``): unsafe characters
  are dropped, the text is NFC-normalised and cut to its column's length.

Both are idempotent: cleaning a cleaned value changes nothing.

A leaf module: it imports nothing from the package.
"""

from __future__ import annotations

import datetime
import unicodedata
from urllib.parse import SplitResult, urlsplit

# Zero-width (non-)joiners are format characters that Persian and Indic names
# and emoji sequences need; every other format character (bidi overrides,
# zero-width spaces, the BOM...) is unsafe.
ALLOWED_FORMAT = frozenset({"\u200c", "\u200d"})
# Controls that free text (a question) may hold; never in single-line values.
MULTILINE_CONTROLS = frozenset({"\n", "\r", "\t"})
# The dates an admin filter accepts: what Python's date arithmetic and every
# database can represent with a day of margin on either side.
MIN_DATE = datetime.date(1900, 1, 1)
MAX_DATE = datetime.date(9998, 12, 31)


def is_unsafe_character(char: str, *, multiline: bool = False) -> bool:
    """Controls (C0, C1, DEL), format characters, surrogates, noncharacters and
    the Unicode line/paragraph separators; line breaks and tabs only in
    multi-line text."""
    category = unicodedata.category(char)
    if category == "Cc":
        return not (multiline and char in MULTILINE_CONTROLS)
    if category == "Cf":
        return char not in ALLOWED_FORMAT
    if category == "Cs":  # a lone surrogate: cannot even be encoded as UTF-8
        return True
    if category in ("Zl", "Zp"):  # U+2028, U+2029: line breaks to mail software
        return True
    # Noncharacters (U+FDD0..U+FDEF and U+xFFFE/U+xFFFF) are "Cn" too, but so
    # are code points a newer Unicode assigned (new emoji): refuse only those.
    code = ord(char)
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def has_unsafe_characters(value: str, *, multiline: bool = False) -> bool:
    return any(is_unsafe_character(char, multiline=multiline) for char in value)


def normalise(value: str) -> str:
    """NFC: one spelling for one text, so "é" typed two ways compares equal."""
    return unicodedata.normalize("NFC", value)


def strip_unsafe(value: str, *, multiline: bool = False) -> str:
    return "".join(
        char for char in value if not is_unsafe_character(char, multiline=multiline)
    )


def clean_metadata(value: object, max_length: int, *, multiline: bool = False) -> str:
    """A value nobody typed on purpose, safe to store: unsafe characters
    dropped, NFC, surrounding whitespace trimmed, at most ``max_length``."""
    text = normalise(strip_unsafe(str(value or ""), multiline=multiline)).strip()
    # NFC never lengthens a text; cutting it cannot break a surrogate pair
    # (there are none left) but may end on a combining mark, which is harmless.
    return text[:max_length].strip()


def parse_url(value: str) -> SplitResult | None:
    """``urlsplit`` that answers None instead of raising (an unclosed IPv6
    bracket, a bad port, unsafe characters)."""
    if not value or has_unsafe_characters(value):
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError for a port out of range
    except ValueError:
        return None
    return parts


def in_date_range(value: datetime.date | None) -> bool:
    """Whether a date from a filter can be turned into day bounds safely."""
    return value is None or MIN_DATE <= value <= MAX_DATE
