"""The tombstone of an erasure (R15): what was done, never to whom."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Erasure(models.Model):
    """One person's data erased: when, why, what went, which CRMs were asked.

    It holds no personal data, so it outlives the person's data as the proof
    that the request was honoured. The CRM outcomes are its deliveries
    (``Delivery.erasure``).
    """

    class Reason(models.TextChoices):
        PERSON = "person", _("The person, on their data page")
        STAFF = "staff", _("Staff, on the person's request")
        RETENTION = "retention", _("End of the retention period")
        SPAM = "spam", _("Quarantined spam deleted")

    created_at = models.DateTimeField(_("erased at"), auto_now_add=True, db_index=True)
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    note = models.TextField(
        _("note"),
        blank=True,
        help_text=_(
            "How the request came in, e.g. a letter from the person's heirs. "
            "Never type the person's address or name here: this record is kept."
        ),
    )
    requested_by = models.CharField(
        _("requested by"),
        max_length=150,
        blank=True,
        help_text=_('A staff username, or "self-service" or "retention".'),
    )
    removed = models.JSONField(
        _("removed"),
        default=dict,
        blank=True,
        help_text=_("How many rows of each kind were deleted."),
    )
    destinations = models.JSONField(
        _("CRMs asked"),
        default=list,
        blank=True,
        help_text=_("The destinations that had the person and were asked to erase."),
    )
    completed_at = models.DateTimeField(
        _("completed at"),
        null=True,
        blank=True,
        help_text=_("When every CRM erasure had ended (done, failed or manual)."),
    )

    class Meta:
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"#{self.pk} ({self.get_reason_display()})"
