"""A correction of a person's details (R15), kept beside what they submitted.

A submission's answers are the proof of what the person sent: they are never
rewritten. A ``Rectification`` records the corrected values on its own, and a
person's current value for an answer is the most recent of their latest
answer and their latest correction of it (a correction, then a new form with
another value: the form wins). The superseded values stay only where they
already were (the submissions, an earlier correction); all of it hangs off
the lead, so erasing the person removes it.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .leads import Lead, Submission


class RectificationSource(models.TextChoices):
    PERSON = "person", _("The person (self-service)")
    STAFF = "staff", _("Staff, on the person's request")


class Rectification(models.Model):
    """One correction: the answers it changed, their new values, who asked."""

    Source = RectificationSource

    lead = models.ForeignKey(
        Lead,
        on_delete=models.CASCADE,
        related_name="rectifications",
        verbose_name=_("lead"),
    )
    created_at = models.DateTimeField(_("date"), default=timezone.now, db_index=True)
    source = models.CharField(
        _("source"), max_length=16, choices=RectificationSource.choices
    )
    values = models.JSONField(
        _("corrected values"),
        help_text=_("The new value of each corrected answer, keyed by field kind."),
    )
    requested_by = models.CharField(
        _("requested by"),
        max_length=255,
        blank=True,
        help_text=_("Who asked, when not the person (e.g. their heirs)."),
    )
    note = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("correction")
        verbose_name_plural = _("corrections")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        # Field names only: the values are personal data.
        return f"{self.created_at:%Y-%m-%d %H:%M} ({', '.join(self.fields)})"

    @property
    def fields(self) -> list[str]:
        """The answer kinds this correction changed."""
        return sorted(self.values)


def answers_as_corrected(submission: Submission) -> dict[str, str]:
    """A submission's answers with the corrections made since overlaid: what a
    CRM receiving this submission now should hold. Only answers the
    submission has are overlaid; the stored answers are left as they were."""
    answers = dict(submission.answers)
    if submission.lead_id is None:
        return answers
    later = Rectification.objects.filter(
        lead_id=submission.lead_id, created_at__gt=submission.created_at
    ).order_by("created_at", "pk")
    for rectification in later:
        for kind, value in rectification.values.items():
            if kind in answers:
                answers[kind] = value
    return answers
