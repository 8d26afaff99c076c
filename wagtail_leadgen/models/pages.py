"""The concrete page types: landing page (R1), e-book (R2), thank-you page (R4).

They are the mixins of ``mixins.py`` on the site's base page: Wagtail's
``Page``, or the model named by ``WAGTAIL_PAGE_MODEL`` when the site swaps it.
Their panels and search fields extend the base page's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.api import APIField
from wagtail.fields import RichTextField, StreamField
from wagtail.search import index

from ..blocks import BodyBlock
from ..panels import ContentHintsPanel
from .base_page import configured_page_model
from .experiment_pages import ExperimentMixin, rich_text_intro
from .gated import GatedDocumentMixin
from .mixins import (
    LeadCaptureMixin,
    ThankYouMixin,
    thank_you_page_models,
)
from .profiling import ProfilingMixin

if TYPE_CHECKING:
    # To the type checker, any base page: the configured one is only known at run time.
    from wagtail.models import AbstractPage as BasePage
else:
    BasePage = configured_page_model()


class OfferPage:
    """What goes under an offer page: its thank-you pages, nothing else."""

    @classmethod
    def clean_subpage_models(cls) -> list[type[Any]]:
        return thank_you_page_models()


class LandingPage(
    OfferPage, ExperimentMixin, ProfilingMixin, LeadCaptureMixin, BasePage
):
    """Describes one offer and carries its capture form."""

    page_description = _(
        "An offer (a demo, a call back, a newsletter) described above its lead form."
    )

    intro = models.TextField(
        _("introduction"),
        blank=True,
        help_text=_("One or two sentences on the offer, shown above the form."),
    )
    body = StreamField(BodyBlock(), blank=True, verbose_name=_("body"))

    # What the content hints read, in order; the first is the offer above the form.
    content_hint_fields = ["intro", "body"]
    content_panels = [
        *BasePage.content_panels,
        FieldPanel("intro"),
        FieldPanel("body"),
        ContentHintsPanel(),
        *LeadCaptureMixin.form_panels,
        *ProfilingMixin.profiling_panels,
    ]
    search_fields = [
        *BasePage.search_fields,
        index.SearchField("intro"),
        index.SearchField("body"),
    ]
    api_fields = [
        APIField("intro"),
        APIField("body"),
        *LeadCaptureMixin.lead_form_api_fields,
    ]
    template = "wagtail_leadgen/pages/landing_page.html"

    class Meta:
        verbose_name = _("landing page")
        verbose_name_plural = _("landing pages")


class EbookPage(
    OfferPage, ExperimentMixin, ProfilingMixin, GatedDocumentMixin, BasePage
):
    """A downloadable asset given in exchange for the form; never reachable without it."""

    page_description = _(
        "A private document (an e-book, a white paper) given in exchange for the form."
    )

    cover_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("cover image"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    summary = RichTextField(
        _("summary"), blank=True, features=["bold", "italic", "link", "ul", "ol"]
    )

    content_hint_fields = ["summary"]
    # An A/B test variant's introduction replaces the summary.
    experiment_intro_field = "summary"
    content_panels = [
        *BasePage.content_panels,
        FieldPanel("cover_image"),
        FieldPanel("summary"),
        ContentHintsPanel(),
        FieldPanel("document"),
        *LeadCaptureMixin.form_panels,
        *ProfilingMixin.profiling_panels,
    ]
    search_fields = [*BasePage.search_fields, index.SearchField("summary")]
    # The gated document is deliberately not exposed through the page APIs:
    # its id, URL or file name would hand out what the form exchanges.
    api_fields = [
        APIField("summary"),
        APIField("cover_image"),
        *LeadCaptureMixin.lead_form_api_fields,
    ]
    template = "wagtail_leadgen/pages/ebook_page.html"

    class Meta:
        verbose_name = _("e-book page")
        verbose_name_plural = _("e-book pages")

    def variant_intro(self, text: str) -> str:
        return rich_text_intro(text)


class ThankYouPage(ThankYouMixin, BasePage):
    """Thanks the visitor, gives the download, suggests more content and sharing."""

    page_description = _(
        "Shown after the form of the offer page it sits under: the download, "
        "further content and share links."
    )
    # The end of a visitor's journey: nothing goes under it.
    subpage_types: list[str] = []

    message = RichTextField(
        _("message"), blank=True, features=["bold", "italic", "link"]
    )
    suggestions = StreamField(
        [("page", blocks.PageChooserBlock(label=_("Page")))],
        blank=True,
        verbose_name=_("further content"),
    )
    show_share_links = models.BooleanField(_("show share links"), default=True)

    content_hint_fields = ["message"]
    content_panels = [
        *BasePage.content_panels,
        FieldPanel("message"),
        ContentHintsPanel(),
        FieldPanel("suggestions"),
        MultiFieldPanel([FieldPanel("show_share_links")], heading=_("Sharing")),
    ]
    api_fields = [APIField("message"), APIField("suggestions")]
    template = "wagtail_leadgen/pages/thank_you_page.html"

    class Meta:
        verbose_name = _("thank-you page")
        verbose_name_plural = _("thank-you pages")

    def share_target(self):
        """The page to share: the offer this thank-you page belongs to, if it is its parent."""
        parent = self.get_parent()
        return (
            parent.specific
            if parent and isinstance(parent.specific, LeadCaptureMixin)
            else None
        )
