"""A site's own base page (``WAGTAIL_PAGE_MODEL``), for the custom base page run.

Like Wagtail's own test base page (``wagtail.test.basepage``): ``AbstractPage``
alone, so without the default ``Page``'s SEO fields (``seo_title``,
``search_description``) or ``show_in_menus``, plus one field of the site's own.
Installed by ``tests.settings_custom_page`` only.
"""

from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.models import AbstractPage


class BasePage(AbstractPage):
    audience = models.CharField(
        max_length=100,
        blank=True,
        help_text="Who the page is written for.",
    )

    content_panels = [*AbstractPage.content_panels, FieldPanel("audience")]
