"""StreamField blocks: page body (rich text, images, CTAs) and the lead form's fields."""

from __future__ import annotations

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
