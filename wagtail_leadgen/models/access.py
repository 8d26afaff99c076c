"""A request from the person to see their data, by email (R14)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessRequest(models.Model):
    """One "my data" link sent to the person's address.

    Only the SHA-256 of the link's token is stored, so neither the database
    nor the task queue holds a usable link; the token is made when the email
    is sent. Single use: verifying sets ``used_at``. Through the API, the
    verified link's bearer token works until ``ended_at`` (the person left)
    or ``MY_DATA_SESSION_AGE`` has passed. Erasing the lead deletes its
    requests.
    """

    lead = models.ForeignKey(
        "wagtail_leadgen.Lead",
        on_delete=models.CASCADE,
        related_name="access_requests",
        verbose_name=_("lead"),
    )
    token_hash = models.CharField(
        _("token hash"), max_length=64, unique=True, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    # The API's bearer token, issued on verification, works until then.
    ended_at = models.DateTimeField(_("access ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("data access request")
        verbose_name_plural = _("data access requests")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"#{self.pk}"
