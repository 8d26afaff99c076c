"""A visitor's request to be called back, and the SLA clock on it.

One row per request, written in the capture transaction with its submission.
It hangs off the lead and the submission (both CASCADE), so an erasure or a
retention purge removes it with the rest of the person's data, and the
person's data export lists it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CallbackOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    VOICEMAIL = "voicemail", _("Voicemail")
    WRONG_NUMBER = "wrong_number", _("Wrong number")


class CallbackRequestQuerySet(models.QuerySet):
    def waiting(self) -> CallbackRequestQuerySet:
        return self.filter(first_called_at__isnull=True)


class CallbackRequest(models.Model):
    """Who asked to be called, on which number, when, and when sales called."""

    submission = models.OneToOneField(
        "wagtail_leadgen.Submission",
        on_delete=models.CASCADE,
        related_name="callback",
        verbose_name=_("submission"),
    )
    lead = models.ForeignKey(
        "wagtail_leadgen.Lead",
        on_delete=models.CASCADE,
        related_name="callbacks",
        verbose_name=_("lead"),
    )
    phone = models.CharField(_("phone (E.164)"), max_length=20)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    # None: as soon as possible; else the window the visitor chose.
    slot_start = models.DateTimeField(_("preferred from"), null=True, blank=True)
    slot_end = models.DateTimeField(_("preferred until"), null=True, blank=True)
    sla_starts_at = models.DateTimeField(
        _("clock starts"),
        help_text=_(
            "The request, or the next opening time when it came outside hours."
        ),
    )
    due_at = models.DateTimeField(_("call due by"), db_index=True)
    first_called_at = models.DateTimeField(_("first called at"), null=True, blank=True)
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("called by"),
    )
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=CallbackOutcome.choices, blank=True
    )
    notes = models.TextField(_("notes"), blank=True, max_length=2000)
    alerted_at = models.DateTimeField(_("sales alerted at"), null=True, blank=True)

    objects = CallbackRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("call-back request")
        verbose_name_plural = _("call-back requests")
        ordering = ["due_at", "pk"]

    def __str__(self) -> str:
        # A reference, never the number.
        return f"call-back #{self.pk}"

    @property
    def is_asap(self) -> bool:
        return self.slot_start is None

    def time_to_first_call(self) -> timedelta | None:
        """From the clock's start to the first call (never negative: a call
        made before opening time counts as at once)."""
        if self.first_called_at is None:
            return None
        return max(self.first_called_at - self.sla_starts_at, timedelta(0))

    def sla_delta(self, now: datetime | None = None) -> timedelta:
        """Positive: time left before it is due; negative: how late it is
        (or was, when it was called)."""
        moment = self.first_called_at or now or timezone.now()
        return self.due_at - moment
