"""The transactional outbox: one Delivery row per destination and submission (R20).

Written in the capture transaction, so the database is the single source of
truth; retry state lives here because the task framework never retries.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    # The destination cannot apply this change itself (e.g. a consent
    # withdrawal on a backend without an update API): staff must.
    MANUAL = "manual", _("Manual action needed")


class DeliveryKind(models.TextChoices):
    LEAD = "lead", _("New lead")
    CONSENT_CHANGE = "consent_change", _("Consent change")
    ERASURE = "erasure", _("Erasure")
    RECTIFICATION = "rectification", _("Correction")
    CALLBACK = "callback", _("Call-back alert")


class DeliveryPriority(models.IntegerChoices):
    """Workers claim higher priorities first; a call-back alert never waits
    behind a backlog of ordinary deliveries."""

    NORMAL = 0, _("Normal")
    HIGH = 100, _("High")


#: Deliveries that hand the person to a destination (a new lead, or a
#: call-back alert with their address and number): an erasure asks each
#: destination one of them reached.
PERSON_KINDS = (DeliveryKind.LEAD, DeliveryKind.CALLBACK)

#: Changes for a person a destination already has: each waits until nothing
#: older for that person and destination is pending, so it never overtakes
#: the lead or an earlier change.
FOLLOW_UP_KINDS = (DeliveryKind.CONSENT_CHANGE, DeliveryKind.RECTIFICATION)


class Delivery(models.Model):
    """Handing one submission to one CRM destination, with its retry state."""

    kind = models.CharField(
        _("kind"),
        max_length=32,
        choices=DeliveryKind.choices,
        default=DeliveryKind.LEAD,
    )
    submission = models.ForeignKey(
        "wagtail_leadgen.Submission",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("submission"),
    )
    lead = models.ForeignKey(
        "wagtail_leadgen.Lead",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("lead"),
    )
    consent_record = models.ForeignKey(
        "wagtail_leadgen.ConsentRecord",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("consent change"),
        help_text=_("For a consent change: the record (grant or withdrawal) sent."),
    )
    rectification = models.ForeignKey(
        "wagtail_leadgen.Rectification",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("correction"),
        help_text=_("For a correction: the corrected answers sent."),
    )
    erasure = models.ForeignKey(
        "wagtail_leadgen.Erasure",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("erasure"),
        help_text=_("For an erasure: the tombstone it asks this destination for."),
    )
    sealed_address = models.TextField(
        _("sealed address"),
        blank=True,
        editable=False,
        help_text=_(
            "For an erasure: the address the destination must erase, encrypted, "
            "and cleared as soon as the delivery ends."
        ),
    )
    backend_alias = models.CharField(_("destination"), max_length=64, db_index=True)
    idempotency_key = models.UUIDField(
        _("idempotency key"), default=uuid.uuid4, unique=True, editable=False
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
    )
    callback = models.ForeignKey(
        "wagtail_leadgen.CallbackRequest",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("call-back request"),
        help_text=_("For a call-back alert: the request announced."),
    )
    priority = models.SmallIntegerField(
        _("priority"), choices=DeliveryPriority.choices, default=DeliveryPriority.NORMAL
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    lease_expires_at = models.DateTimeField(_("claimed until"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    last_status_code = models.PositiveSmallIntegerField(
        _("last HTTP status"), null=True, blank=True
    )
    remote_id = models.CharField(_("CRM id"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(
                fields=["-priority", "next_attempt_at"],
                name="leadgen_delivery_priority",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        # A reference, never the person's address: the deliveries list is
        # readable by staff who may not see leads.
        return f"{self.backend_alias} #{self.pk} ({self.get_status_display()})"


class PausedDestination(models.Model):
    """A destination that answered 410 Gone: nothing is sent until an admin resumes it.

    Its pending deliveries wait (nothing is lost) instead of being dead-lettered.
    """

    backend_alias = models.CharField(_("destination"), max_length=64, unique=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    paused_at = models.DateTimeField(_("paused at"), auto_now_add=True)

    class Meta:
        verbose_name = _("paused destination")
        verbose_name_plural = _("paused destinations")

    def __str__(self) -> str:
        return self.backend_alias
