"""Consent after capture: double opt-in confirmations and the objection list (R12, R13)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ConfirmationRequest(models.Model):
    """One double opt-in email: the purposes a submission left pending.

    The link's token is made when the email is sent and only its SHA-256 is
    stored, so neither the database nor the task queue holds a usable link.
    Single use: confirming sets ``confirmed_at``; a resend replaces the hash.
    """

    lead = models.ForeignKey(
        "wagtail_leadgen.Lead",
        on_delete=models.CASCADE,
        related_name="confirmation_requests",
        verbose_name=_("lead"),
    )
    submission = models.ForeignKey(
        "wagtail_leadgen.Submission",
        on_delete=models.CASCADE,
        related_name="confirmation_requests",
        verbose_name=_("submission"),
    )
    token_hash = models.CharField(
        _("token hash"), max_length=64, unique=True, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("confirmation request")
        verbose_name_plural = _("confirmation requests")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"#{self.pk}"


class SuppressionSource(models.TextChoices):
    UNSUBSCRIBE = "unsubscribe", _("One-click unsubscribe")
    PREFERENCES = "preferences", _("Preferences page")
    STAFF = "staff", _("Staff, on the person's request")


class Suppression(models.Model):
    """A person who objected: kept as a keyed hash of their address, so it
    outlives the erasure of their data (CNIL: an objection is honoured for good).

    ``purpose`` empty means every marketing purpose, present and future. A
    later, explicit consent lifts the objection for that purpose only
    (``lifted_purposes``); nothing else re-subscribes the address.
    """

    address_hash = models.CharField(_("address hash"), max_length=64, db_index=True)
    purpose = models.ForeignKey(
        "wagtail_leadgen.ConsentPurpose",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("purpose"),
        help_text=_("Empty: every marketing purpose."),
    )
    lifted_purposes = models.ManyToManyField(
        "wagtail_leadgen.ConsentPurpose",
        blank=True,
        related_name="+",
        verbose_name=_("consented to again"),
    )
    source = models.CharField(
        _("source"), max_length=16, choices=SuppressionSource.choices
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        constraints = [
            models.UniqueConstraint(
                fields=["address_hash", "purpose"],
                name="leadgen_suppression_unique_purpose",
            ),
            models.UniqueConstraint(
                fields=["address_hash"],
                condition=models.Q(purpose__isnull=True),
                name="leadgen_suppression_unique_all",
            ),
        ]

    def __str__(self) -> str:
        scope = str(self.purpose) if self.purpose else str(_("all marketing"))
        return f"{self.address_hash[:12]}… ({scope})"
