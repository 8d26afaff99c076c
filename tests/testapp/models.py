"""A site's own page type built from the plugin's mixins, as a site developer would.

On the configured base page (``WAGTAIL_PAGE_MODEL``), so that it works in
both runs of the suite: a reusable app looks the base page up through
``swapper``, as Wagtail does; a site simply imports its own base page.
"""

import swapper
from django.db import models

from wagtail_leadgen.models import LeadCaptureMixin

BasePage = swapper.load_model("wagtailcore", "Page", require_ready=False)


class NewsletterPage(LeadCaptureMixin, BasePage):
    tagline = models.CharField(max_length=100, blank=True)

    content_panels = [*BasePage.content_panels, *LeadCaptureMixin.form_panels]
    template = "wagtail_leadgen/pages/landing_page.html"
