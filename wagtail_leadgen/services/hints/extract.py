"""From a page to text blocks: rich text, StreamField, plain text, and the CTAs met.

Which fields of a page are read is declared on the page class, like
``search_fields``::

    class ArticlePage(Page):
        content_hint_fields = ["intro", "body"]

In that order; the first one is the "offer above the form" on a lead-capture
page. A page type that declares nothing has every rich text, StreamField and
long text field read, except the lead form's own, in model order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from typing import Any

import swapper
from django.db import models
from wagtail import blocks
from wagtail.blocks import StreamValue
from wagtail.fields import RichTextField, StreamField
from wagtail.images.blocks import ImageBlock
from wagtail.models import AbstractPage
from wagtail.rich_text import RichText
from wagtail.snippets.blocks import SnippetChooserBlock

from ...models.mixins import LeadCaptureMixin
from ...models.profiling import ProfilingMixin
from ...models.snippets import CallToAction
from .text import TextBlock

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
# StreamField blocks whose text is a subheading, by block name.
HEADING_BLOCK_NAMES = frozenset({"heading", "subheading", "title", "h2", "h3", "h4"})
HTML_RE = re.compile(r"<(?:p|h[1-6]|ul|ol|li|div|br|blockquote)\b", re.IGNORECASE)


@dataclass
class ExtractedContent:
    """Plain text blocks in reading order, and the CTAs met on the way.

    ``ctas`` holds each CTA block's ``CallToAction`` (``None`` for a block
    whose snippet is gone); ``fields`` the text of each field read, by name.
    """

    blocks: list[TextBlock] = field(default_factory=list)
    ctas: list[Any] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n\n".join(block.text for block in self.blocks)


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
    return isinstance(block, SnippetChooserBlock) and issubclass(
        block.target_model, CallToAction
    )


def _walk_block(block: Any, value: Any, name: str, out: ExtractedContent) -> None:
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

    The model's ``content_hint_fields`` when it declares them; otherwise
    every rich text, StreamField and long text field of the model, except
    the lead form's own fields.
    """
    declared = getattr(model, "content_hint_fields", None)
    if declared is not None:
        return list(declared)
    return _discovered_content_fields(model)


@cache
def _discovered_content_fields(model: Any) -> list[str]:
    excluded = {
        f.name for f in swapper.load_model("wagtailcore", "Page")._meta.get_fields()
    }
    excluded |= {f.name for f in LeadCaptureMixin._meta.local_fields}
    excluded |= {f.name for f in ProfilingMixin._meta.local_fields}
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
    out = ExtractedContent()
    if isinstance(page_or_fields, AbstractPage):
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
