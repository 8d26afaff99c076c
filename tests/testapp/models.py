"""A site's own page type built from the plugin's mixins, as a site developer would."""

from django.db import models
from wagtail.models import Page

from wagtail_leadgen.models import LeadCaptureMixin


class NewsletterPage(LeadCaptureMixin, Page):
    tagline = models.CharField(max_length=100, blank=True)

    content_panels = [*Page.content_panels, *LeadCaptureMixin.form_panels]
    template = "wagtail_leadgen/pages/landing_page.html"
