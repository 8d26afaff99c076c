"""Wagtail's form page as the Wagtail docs build it, the yardstick of
``benchmarks/vs_wagtail_forms.py``: an intro, a body and a thank-you text
around the form builder's fields, an email to the site owner per submission.
"""

from django.db import models
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, InlinePanel
from wagtail.contrib.forms.models import AbstractEmailForm, AbstractFormField
from wagtail.fields import RichTextField


class WagtailFormField(AbstractFormField):
    page = ParentalKey(
        "WagtailFormPage", on_delete=models.CASCADE, related_name="form_fields"
    )


class WagtailFormPage(AbstractEmailForm):
    intro = models.TextField(blank=True)
    body = RichTextField(blank=True)
    thank_you_text = RichTextField(blank=True)

    content_panels = [
        *AbstractEmailForm.content_panels,
        FieldPanel("intro"),
        FieldPanel("body"),
        InlinePanel("form_fields", label="Form fields"),
        FieldPanel("thank_you_text"),
    ]
    # Only the benchmark creates it, once, under the demo's home page.
    parent_page_types = ["demo.HomePage"]
    subpage_types: list[str] = []
    max_count = 1

    class Meta:
        verbose_name = "Wagtail form page (benchmark peer)"
