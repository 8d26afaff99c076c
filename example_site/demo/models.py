"""The demo's home page: an ordinary content page that places CTAs in its body."""

from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page

from wagtail_leadgen.blocks import BodyBlock


class HomePage(Page):
    intro = models.TextField(blank=True)
    body = StreamField(BodyBlock(), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    template = "demo/home_page.html"
