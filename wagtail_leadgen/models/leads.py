"""The person (Lead), what they sent (Submission) and what they may download (DownloadGrant)."""

from __future__ import annotations

import secrets
import uuid

import swapper
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.documents import get_document_model_string


def new_nonce() -> str:
    return secrets.token_hex(16)


class Maturity(models.TextChoices):
    HOT = "hot", _("Hot")
    WARM = "warm", _("Warm")
    COLD = "cold", _("Cold")


class Lead(models.Model):
    """A person, recognised by their normalised email address."""

    email = models.EmailField(_("email"), max_length=254, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_contact_at = models.DateTimeField(
        _("last contact"),
        default=timezone.now,
        help_text=_("Last contact coming from the person; retention runs from here."),
    )
    preferences_nonce = models.CharField(
        _("preferences link key"),
        max_length=32,
        default=new_nonce,
        editable=False,
        help_text=_(
            "Part of every preferences and unsubscribe link sent to the person; "
            "changing it revokes them all."
        ),
    )
    maturity = models.CharField(
        _("maturity"),
        max_length=8,
        choices=Maturity.choices,
        default=Maturity.COLD,
        db_index=True,
        help_text=_(
            "Computed from documented signals; see the lead classification docs."
        ),
    )

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-last_contact_at"]
        # Viewing leads needs ``view_lead``; taking them out of the site and
        # erasing them need their own. All are separate from page editing (R19).
        permissions = [
            ("export_lead", _("Can export leads")),
            ("erase_lead", _("Can erase leads")),
        ]

    def __str__(self) -> str:
        return self.email


class Submission(models.Model):
    """One form sent by a visitor: answers, origin and context, never a raw IP.

    Spam (honeypot or time-trap hits) is kept too, quarantined with
    ``is_spam`` and no lead, so a false positive can be found and released.
    """

    lead = models.ForeignKey(
        Lead,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="submissions",
        verbose_name=_("lead"),
    )
    page = models.ForeignKey(
        swapper.get_model_name("wagtailcore", "Page"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("page"),
    )
    page_revision = models.ForeignKey(
        "wagtailcore.Revision",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("page version"),
    )
    request_processing = models.ForeignKey(
        "wagtail_leadgen.RequestProcessing",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="submissions",
        verbose_name=_("request processing"),
    )
    request_revision = models.ForeignKey(
        "wagtailcore.Revision",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("request processing version"),
        help_text=_("The published version of the request processing shown."),
    )
    request_wording = models.TextField(
        _("request wording shown"),
        blank=True,
        help_text=_(
            "Copy of the request processing's wording shown next to the button."
        ),
    )
    request_wording_sha256 = models.CharField(
        _("SHA-256 of the request wording"), max_length=64, blank=True
    )
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=16, blank=True)
    channel = models.CharField(_("channel"), max_length=16, default="web")
    referrer = models.CharField(_("referrer"), max_length=500, blank=True)
    utm_source = models.CharField(_("UTM source"), max_length=100, blank=True)
    utm_medium = models.CharField(_("UTM medium"), max_length=100, blank=True)
    utm_campaign = models.CharField(_("UTM campaign"), max_length=100, blank=True)
    utm_term = models.CharField(_("UTM term"), max_length=100, blank=True)
    utm_content = models.CharField(_("UTM content"), max_length=100, blank=True)
    is_spam = models.BooleanField(_("spam"), default=False, db_index=True)
    spam_reason = models.CharField(_("spam reason"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        who = str(self.lead) if self.lead else gettext("spam")
        return f"{who} — {self.created_at:%Y-%m-%d %H:%M}"


class DownloadGrant(models.Model):
    """The right, bound to one submission, to download one gated document.

    The download token only carries ``key``; uses are counted here atomically,
    and erasing the submission deletes the grant, which revokes every link.
    """

    key = models.UUIDField(_("key"), default=uuid.uuid4, unique=True, editable=False)
    submission = models.ForeignKey(
        Submission,
        on_delete=models.CASCADE,
        related_name="download_grants",
        verbose_name=_("submission"),
    )
    document = models.ForeignKey(
        get_document_model_string(),
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("document"),
    )
    uses = models.PositiveIntegerField(_("uses"), default=0)
    max_uses = models.PositiveIntegerField(_("maximum uses"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("download grant")
        verbose_name_plural = _("download grants")

    def __str__(self) -> str:
        return f"{self.document} ({self.uses}/{self.max_uses})"
