"""Reusable calls to action (R3), placed in any StreamField through ``CTABlock``."""

from __future__ import annotations

import re

import swapper
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel

PHONE_RE = re.compile(r"^\+?[0-9][0-9 .()-]{4,30}$")


class CTAStyle(models.TextChoices):
    PRIMARY = "primary", _("Primary button")
    SECONDARY = "secondary", _("Secondary button")
    LINK = "link", _("Text link")


class CallToAction(models.Model):
    """A visible button or link to an offer, or a click-to-call number on mobile."""

    label = models.CharField(_("label"), max_length=80)
    description = models.CharField(
        _("description"),
        max_length=200,
        blank=True,
        help_text=_("Optional line shown under the button."),
    )
    target_page = models.ForeignKey(
        swapper.get_model_name("wagtailcore", "Page"),
        verbose_name=_("target page"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    target_url = models.URLField(_("target URL"), blank=True)
    phone_number = models.CharField(
        _("phone number (click to call)"),
        max_length=32,
        blank=True,
        help_text=_("International format, e.g. +33 1 23 45 67 89."),
    )
    style = models.CharField(
        _("style"), max_length=16, choices=CTAStyle.choices, default=CTAStyle.PRIMARY
    )

    panels = [
        FieldPanel("label"),
        FieldPanel("description"),
        MultiFieldPanel(
            [
                FieldPanel("target_page"),
                FieldPanel("target_url"),
                FieldPanel("phone_number"),
            ],
            heading=_("Target (exactly one)"),
        ),
        FieldPanel("style"),
    ]

    class Meta:
        verbose_name = _("call to action")
        verbose_name_plural = _("calls to action")
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        super().clean()
        targets = [self.target_page_id, self.target_url, self.phone_number]
        if sum(bool(target) for target in targets) != 1:
            raise ValidationError(
                _("Choose exactly one target: a page, a URL or a phone number.")
            )
        if self.phone_number and not PHONE_RE.match(self.phone_number):
            raise ValidationError(
                {"phone_number": _("Enter a phone number such as +33 1 23 45 67 89.")}
            )

    @property
    def is_click_to_call(self) -> bool:
        return bool(self.phone_number)

    @property
    def href(self) -> str:
        """Where the CTA leads; empty when its target page is gone or unpublished."""
        if self.phone_number:
            return "tel:" + re.sub(r"[^0-9+]", "", self.phone_number)
        if self.target_url:
            return self.target_url
        page = self.target_page
        if page is None or not page.live:
            return ""
        return page.url or ""
