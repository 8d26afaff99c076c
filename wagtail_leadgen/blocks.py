"""StreamField blocks: page body (rich text, images, CTAs) and the lead form's fields."""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.images.blocks import ImageBlock
from wagtail.snippets.blocks import SnippetChooserBlock

from .field_kinds import FORM_FIELD_KINDS


class CTABlock(blocks.StructBlock):
    """Places a reusable CallToAction snippet anywhere in a page's body."""

    cta = SnippetChooserBlock("wagtail_leadgen.CallToAction", label=_("Call to action"))

    class Meta:
        icon = "pick"
        label = _("Call to action")
        template = "wagtail_leadgen/blocks/cta.html"

    def get_api_representation(self, value: Any, context: Any = None) -> Any:
        """The call to action itself, not just its snippet id: what a decoupled
        front end needs to draw it as the page does. ``href`` is where it leads;
        ``click_url`` goes there counting the click (as the HTML link does), or
        for click-to-call, ``ping_url`` is the link's ``ping``. None when it
        leads nowhere (its target page is gone or unpublished)."""
        cta = value.get("cta") if value else None
        if cta is None or not cta.href:
            return None
        name = "cta_ping" if cta.is_click_to_call else "cta_click"
        try:
            counter = reverse(f"wagtail_leadgen:{name}", args=[cta.pk])
        except NoReverseMatch:  # the site does not mount the plugin's URLs
            counter = None
        return {
            "id": cta.pk,
            "label": cta.label,
            "description": cta.description,
            "style": cta.style,
            "href": cta.href,
            "click_to_call": cta.is_click_to_call,
            "click_url": None if cta.is_click_to_call else counter,
            "ping_url": counter if cta.is_click_to_call else None,
        }


class BodyBlock(blocks.StreamBlock):
    paragraph = blocks.RichTextBlock(
        features=["h2", "h3", "bold", "italic", "link", "ol", "ul", "blockquote"],
        label=_("Text"),
    )
    image = ImageBlock(label=_("Image"))
    cta = CTABlock()


class FormFieldBlock(blocks.StructBlock):
    """One optional field of a lead form; its kind is the block's type name.

    Answers are stored under the kind (``company``, ``phone``…), so an editor
    renaming the label never re-keys what was already collected.
    """

    label = blocks.CharBlock(
        required=False,
        max_length=100,
        label=_("Label"),
        help_text=_("Leave empty for the standard label."),
    )
    required = blocks.BooleanBlock(required=False, label=_("Required"))
    help_text = blocks.CharBlock(required=False, max_length=200, label=_("Help text"))

    class Meta:
        icon = "form"


class FormFieldsBlock(blocks.StreamBlock):
    """The extra fields an editor may add after the always-present email field."""

    first_name = FormFieldBlock(label=FORM_FIELD_KINDS["first_name"])
    last_name = FormFieldBlock(label=FORM_FIELD_KINDS["last_name"])
    company = FormFieldBlock(label=FORM_FIELD_KINDS["company"])
    job_title = FormFieldBlock(label=FORM_FIELD_KINDS["job_title"])
    phone = FormFieldBlock(label=FORM_FIELD_KINDS["phone"])
    country = FormFieldBlock(label=FORM_FIELD_KINDS["country"])
    question = FormFieldBlock(label=FORM_FIELD_KINDS["question"])

    class Meta:
        block_counts = {kind: {"max_num": 1} for kind in FORM_FIELD_KINDS}
