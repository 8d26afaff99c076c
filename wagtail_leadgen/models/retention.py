"""Re-permission before the retention period ends (R16)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RenewalRequest(models.Model):
    """One re-permission email: "keep my data?", sent once per retention cycle.

    A cycle starts at the person's last contact: a request created after it
    belongs to the current cycle, so the email is never sent twice. As for the
    double opt-in, the link's token is made when the email is sent and only
    its SHA-256 is stored. Renewing sets ``renewed_at`` and is a contact from
    the person, which starts a new cycle.
    """

    lead = models.ForeignKey(
        "wagtail_leadgen.Lead",
        on_delete=models.CASCADE,
        related_name="renewal_requests",
        verbose_name=_("lead"),
    )
    token_hash = models.CharField(
        _("token hash"), max_length=64, unique=True, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    expires_at = models.DateTimeField(
        _("expires at"),
        help_text=_("When the data goes without renewal; the link works until then."),
    )
    renewed_at = models.DateTimeField(_("renewed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("renewal request")
        verbose_name_plural = _("renewal requests")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"#{self.pk}"
