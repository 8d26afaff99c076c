"""Privacy-friendly counters for the KPI dashboard (R7): per day, no cookie, no IP."""

from __future__ import annotations

import swapper
from django.db import models
from django.utils.translation import gettext_lazy as _


class PageViewDay(models.Model):
    """How many times a page was viewed on one day (obvious bots excluded)."""

    page = models.ForeignKey(
        swapper.get_model_name("wagtailcore", "Page"),
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("page"),
    )
    day = models.DateField(_("day"))
    views = models.PositiveIntegerField(_("views"), default=0)

    class Meta:
        verbose_name = _("page views (day)")
        verbose_name_plural = _("page views (days)")
        constraints = [
            models.UniqueConstraint(
                fields=["page", "day"], name="leadgen_pageview_unique_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.page_id} {self.day}: {self.views}"


class CTAClickDay(models.Model):
    """How many times a call to action was followed on one day."""

    cta = models.ForeignKey(
        "wagtail_leadgen.CallToAction",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("call to action"),
    )
    day = models.DateField(_("day"))
    clicks = models.PositiveIntegerField(_("clicks"), default=0)

    class Meta:
        verbose_name = _("CTA clicks (day)")
        verbose_name_plural = _("CTA clicks (days)")
        constraints = [
            models.UniqueConstraint(
                fields=["cta", "day"], name="leadgen_ctaclick_unique_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.cta_id} {self.day}: {self.clicks}"
