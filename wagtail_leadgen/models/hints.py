"""What the content hints report sorts on, stored once per page revision (R6)."""

from __future__ import annotations

import swapper
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ContentHintsSummary(models.Model):
    """A page's figures and hint counts, as the content hints report lists them.

    Computed from the page's latest draft by
    ``services.hints.summaries.refresh_summaries``, and fresh while the page's
    latest revision is ``revision`` and ``fingerprint`` matches the settings
    and rules in force; see that module for what makes a summary stale.
    """

    page = models.OneToOneField(
        swapper.get_model_name("wagtailcore", "Page"),
        on_delete=models.CASCADE,
        related_name="leadgen_hints_summary",
        verbose_name=_("page"),
    )
    revision = models.ForeignKey(
        "wagtailcore.Revision",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revision"),
    )
    # Empty: stale, whatever the revision (set so by the signal receivers).
    fingerprint = models.CharField(_("fingerprint"), max_length=64, blank=True)
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)
    words = models.PositiveIntegerField(_("words"))
    reading_time_minutes = models.PositiveIntegerField(_("reading time (minutes)"))
    readability = models.FloatField(_("readability"), null=True, blank=True)
    readability_formula = models.CharField(
        _("readability formula"), max_length=50, blank=True
    )
    poor = models.PositiveIntegerField(_("poor hints"))
    warnings = models.PositiveIntegerField(_("warnings"))
    form_fields = models.PositiveIntegerField(_("form fields"), null=True, blank=True)
    # The messages of the poor and warning hints, in ``issues_language``.
    issues = models.JSONField(_("issues"), default=list, blank=True)
    issues_language = models.CharField(
        _("language of the issues"), max_length=35, blank=True
    )
    # The thank-you page and CTA targets the hints read: saving or deleting
    # one of them makes this summary stale.
    referenced_pages = models.ManyToManyField(
        swapper.get_model_name("wagtailcore", "Page"),
        related_name="+",
        blank=True,
        verbose_name=_("referenced pages"),
    )

    class Meta:
        verbose_name = _("content hints summary")
        verbose_name_plural = _("content hints summaries")

    def __str__(self) -> str:
        return f"{self.page_id}: {self.poor} poor, {self.warnings} warnings"
