"""Consent purposes (one per processing, R9) and the append-only proof of consent (R11)."""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import RichTextField
from wagtail.models import DraftStateMixin, RevisionMixin
from wagtail.rich_text import expand_db_html

from ..conf import leadgen_settings
from ..sanitize import clean_purpose_html, clean_stored_purpose_html


class LegalBasis(models.TextChoices):
    CONSENT = "consent", _("Consent")
    CONTRACT = "contract", _("Contract, or a request you made")
    LEGITIMATE_INTEREST = "legitimate_interest", _("Legitimate interest")
    LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation")


def default_retention_months() -> int:
    return leadgen_settings.DEFAULT_RETENTION_MONTHS


#: Whose data a processing holds when its editor says nothing more precise:
#: what most lead forms collect. Read in each reader's language.
DEFAULT_CATEGORIES_OF_PERSONS = _("Prospects and customers who fill in a form")


def categories_of_persons_field() -> models.CharField:
    """The records of processing's "categories of persons", on purposes and
    request processings alike; empty means ``DEFAULT_CATEGORIES_OF_PERSONS``."""
    return models.CharField(
        _("categories of persons"),
        max_length=255,
        blank=True,
        help_text=_(
            "Whose data this is, for the records of processing, e.g. 'Prospects "
            "who download a guide'. Leave empty for: prospects and customers who "
            "fill in a form."
        ),
    )


class ConsentPurpose(DraftStateMixin, RevisionMixin, models.Model):
    """One processing a visitor can agree to, with the wording shown to them.

    Each *published* revision is a consent version: a ``ConsentRecord`` points
    at the revision the visitor saw and keeps a copy and hash of its wording, so
    editing the text later never rewrites what was agreed to.
    """

    name = models.CharField(
        _("name"),
        max_length=100,
        help_text=_("For editors only, e.g. 'Monthly newsletter'."),
    )
    checkbox_label = models.CharField(
        _("checkbox label"),
        max_length=200,
        help_text=_("What the visitor ticks, e.g. 'Send me the monthly newsletter'."),
    )
    purpose_text = RichTextField(
        _("purpose text"),
        features=["bold", "italic", "link"],
        help_text=_("What the data is used for, in plain words."),
    )
    legal_basis = models.CharField(
        _("legal basis"),
        max_length=32,
        choices=LegalBasis.choices,
        default=LegalBasis.CONSENT,
    )
    recipients = models.CharField(
        _("recipients"),
        max_length=255,
        help_text=_(
            "Who receives the data, e.g. 'Our sales team and our CRM provider'."
        ),
    )
    retention_months = models.PositiveSmallIntegerField(
        _("retention (months)"),
        default=default_retention_months,
        help_text=_(
            "How long the data is kept after the last contact from the person."
        ),
    )
    requires_confirmation = models.BooleanField(
        _("double opt-in"),
        default=False,
        help_text=_(
            "Send a confirmation email: the consent counts only once the person "
            "confirms it from that email."
        ),
    )
    categories_of_persons = categories_of_persons_field()
    remembers_device = models.BooleanField(
        _("remember me on this device"),
        default=False,
        help_text=_(
            "Ticking this purpose's box lets the site recognise the person on "
            "this device (a first-party cookie) and skip what they already told "
            "you. Withdrawing it makes the cookie useless at once."
        ),
    )

    panels = [
        FieldPanel("name"),
        FieldPanel("checkbox_label"),
        FieldPanel("purpose_text"),
        MultiFieldPanel(
            [
                FieldPanel("recipients"),
                FieldPanel("retention_months"),
                FieldPanel("requires_confirmation"),
                FieldPanel("remembers_device"),
            ],
            heading=_("Information notice"),
        ),
        MultiFieldPanel(
            [FieldPanel("categories_of_persons")],
            heading=_("Records of processing"),
        ),
    ]

    class Meta:
        verbose_name = _("consent purpose")
        verbose_name_plural = _("consent purposes")
        ordering = ["name"]
        # The records of processing list every purpose and request processing;
        # reading them needs this, separate from editing purposes (R18, R19).
        permissions = [("view_register", _("Can view the records of processing"))]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        self.purpose_text = clean_stored_purpose_html(self.purpose_text)
        errors = {}
        if not strip_tags(self.purpose_text).strip():
            errors["purpose_text"] = _("Enter the purpose text shown to visitors.")
        if self.legal_basis != LegalBasis.CONSENT:
            # A checkbox asks for consent; what the visitor asks for rests on
            # the request itself and belongs to the page's request processing.
            errors["legal_basis"] = _(
                "A purpose with a checkbox rests on consent. For what is needed "
                "to answer the request, use the page's request processing."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def purpose_html(self) -> str:
        """The purpose text as shown to visitors: links expanded, HTML sanitised."""
        return clean_purpose_html(expand_db_html(self.purpose_text))

    @property
    def wording(self) -> str:
        """The exact wording shown next to the checkbox, as kept in the proof."""
        return purpose_wording(self.checkbox_label, self.purpose_text)


def purpose_wording(checkbox_label: str, purpose_text: str) -> str:
    """The wording a purpose shows, from its fields (or a revision's content)."""
    return f"{checkbox_label}\n\n{clean_purpose_html(expand_db_html(purpose_text))}"


def wording_sha256(wording: str) -> str:
    return hashlib.sha256(wording.encode("utf-8")).hexdigest()


class ConsentDecision(models.TextChoices):
    GRANTED = "granted", _("Granted")
    # The box was shown and left unticked: no new consent. It never overrides
    # an earlier grant (withdrawal is an explicit act).
    REFUSED = "refused", _("Not given")
    # Ticked, for a purpose with double opt-in: awaiting the email confirmation.
    PENDING = "pending", _("Awaiting confirmation")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    # Never confirmed within the confirmation link's lifetime.
    EXPIRED = "expired", _("Confirmation expired")


# The decisions that change the state of a consent; a refusal does not.
STATE_DECISIONS = (
    ConsentDecision.GRANTED,
    ConsentDecision.PENDING,
    ConsentDecision.WITHDRAWN,
    ConsentDecision.EXPIRED,
)


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change a consent record after it was written."""


class ConsentRecordQuerySet(models.QuerySet):
    """Refuses bulk rewrites: a proof that can be edited in place proves nothing."""

    def update(self, **kwargs):
        raise AppendOnlyError("Consent records are append-only: write a new one.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("Consent records are append-only: write a new one.")


class ConsentRecord(models.Model):
    """Proof of one answer to one purpose: append-only, never updated.

    A withdrawal is a new record with decision ``withdrawn``; the current state
    of a purpose for a lead is its latest record.
    """

    lead = models.ForeignKey(
        "wagtail_leadgen.Lead",
        on_delete=models.CASCADE,
        related_name="consent_records",
        verbose_name=_("lead"),
    )
    purpose = models.ForeignKey(
        ConsentPurpose,
        on_delete=models.PROTECT,
        related_name="records",
        verbose_name=_("purpose"),
    )
    purpose_revision = models.ForeignKey(
        "wagtailcore.Revision",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The published version of the purpose the visitor saw."),
        verbose_name=_("purpose version"),
    )
    submission = models.ForeignKey(
        "wagtail_leadgen.Submission",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="consent_records",
        verbose_name=_("submission"),
    )
    decision = models.CharField(
        _("decision"), max_length=16, choices=ConsentDecision.choices
    )
    wording = models.TextField(
        _("wording shown"), help_text=_("Copy of the exact wording shown.")
    )
    wording_sha256 = models.CharField(_("SHA-256 of the wording"), max_length=64)
    language = models.CharField(_("language"), max_length=16)
    channel = models.CharField(_("channel"), max_length=16)
    created_at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)

    objects = ConsentRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["lead", "purpose", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.purpose} — {self.get_decision_display()}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Consent records are append-only: write a new one.")
        super().save(*args, **kwargs)

    @property
    def granted(self) -> bool:
        return self.decision == ConsentDecision.GRANTED
