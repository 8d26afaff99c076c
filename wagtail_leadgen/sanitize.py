"""Editor HTML shown to visitors, cleaned with nh3.

bleach, the sanitiser of the original design, is unmaintained; nh3 (ammonia
bindings) is its successor. Purpose texts are legal wording: only emphasis,
paragraphs and links survive.
"""

from __future__ import annotations

import nh3

PURPOSE_TAGS = {"p", "br", "strong", "b", "em", "i", "a", "ul", "ol", "li"}
# Wagtail's stored rich text links pages as <a linktype="page" id="3">; those
# attributes must survive cleaning of the stored form.
_STORED_LINK_ATTRIBUTES = {"href", "linktype", "id"}


def clean_stored_purpose_html(value: str) -> str:
    """Clean Wagtail's stored rich-text form of a purpose text."""
    return nh3.clean(
        value or "",
        tags=PURPOSE_TAGS,
        attributes={"a": _STORED_LINK_ATTRIBUTES},
        link_rel=None,
    )


def clean_purpose_html(value: str) -> str:
    """Clean rendered purpose HTML for display: links get ``rel=noopener noreferrer``."""
    return nh3.clean(
        value or "",
        tags=PURPOSE_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
