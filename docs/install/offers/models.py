# offers/models.py: a page type of your own, built on the plugin's mixins.
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page

from wagtail_leadgen.models import GatedDocumentMixin, LeadCaptureMixin


class WhitePaperPage(GatedDocumentMixin, Page):
    """A white paper handed out in exchange for the lead form."""

    teaser = RichTextField(blank=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("teaser"),
        FieldPanel("document"),
        *LeadCaptureMixin.form_panels,
    ]
    page_description = "A white paper from a private collection, behind a lead form."
    template = "offers/white_paper_page.html"
