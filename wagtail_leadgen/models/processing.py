"""What happens with the data to deliver what the visitor asked for (R8, R10).

The e-book, the call back, the audit: delivering them rests on the request
itself, not on consent, so it has no checkbox. It is stated in the notice
next to the button, and pressing the button is the request. One
``RequestProcessing`` is reusable across pages and versioned like consent
purposes: the register lists it once, and each submission keeps the wording
of the version that was shown.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import RichTextField
from wagtail.models import DraftStateMixin, RevisionMixin

from ..conf import leadgen_settings
from ..sanitize import clean_stored_purpose_html
from .consent import LegalBasis, categories_of_persons_field, purpose_wording

# A request is never consent: these are the bases a request can rest on.
REQUEST_BASES = [
    (LegalBasis.CONTRACT, LegalBasis.CONTRACT.label),
    (LegalBasis.LEGITIMATE_INTEREST, LegalBasis.LEGITIMATE_INTEREST.label),
    (LegalBasis.LEGAL_OBLIGATION, LegalBasis.LEGAL_OBLIGATION.label),
]


def default_request_retention_months() -> int:
    return leadgen_settings.DEFAULT_REQUEST_RETENTION_MONTHS


class RequestProcessing(DraftStateMixin, RevisionMixin, models.Model):
    """The processing needed to answer a request, stated next to the button."""

    name = models.CharField(
        _("name"),
        max_length=100,
        help_text=_("For editors only, e.g. 'Sending the e-book'."),
    )
    summary = models.CharField(
        _("summary"),
        max_length=200,
        help_text=_(
            "One line shown next to the button, e.g. 'We use your email address "
            "to send you the guide.'"
        ),
    )
    purpose_text = RichTextField(
        _("purpose text"),
        features=["bold", "italic", "link"],
        help_text=_("What the data is used for to answer the request, in plain words."),
    )
    legal_basis = models.CharField(
        _("legal basis"),
        max_length=32,
        choices=REQUEST_BASES,
        default=LegalBasis.CONTRACT,
        help_text=_(
            "Usually the request itself (steps taken at the person's request "
            "before a contract)."
        ),
    )
    legitimate_interest = models.CharField(
        _("legitimate interest pursued"),
        max_length=300,
        blank=True,
        help_text=_("Required when the legal basis is legitimate interest."),
    )
    recipients = models.CharField(
        _("recipients"),
        max_length=255,
        help_text=_("Who receives the data, e.g. 'Our sales team'."),
    )
    retention_months = models.PositiveSmallIntegerField(
        _("retention (months)"),
        default=default_request_retention_months,
        help_text=_(
            "How long the data is kept after the last contact from the person."
        ),
    )
    categories_of_persons = categories_of_persons_field()

    panels = [
        FieldPanel("name"),
        FieldPanel("summary"),
        FieldPanel("purpose_text"),
        MultiFieldPanel(
            [
                FieldPanel("legal_basis"),
                FieldPanel("legitimate_interest"),
                FieldPanel("recipients"),
                FieldPanel("retention_months"),
            ],
            heading=_("Information notice"),
        ),
        MultiFieldPanel(
            [FieldPanel("categories_of_persons")],
            heading=_("Records of processing"),
        ),
    ]

    class Meta:
        verbose_name = _("request processing")
        verbose_name_plural = _("request processings")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        self.purpose_text = clean_stored_purpose_html(self.purpose_text)
        errors = {}
        if not strip_tags(self.purpose_text).strip():
            errors["purpose_text"] = _("Enter the purpose text shown to visitors.")
        if (
            self.legal_basis == LegalBasis.LEGITIMATE_INTEREST
            and not self.legitimate_interest.strip()
        ):
            errors["legitimate_interest"] = _(
                "Say which legitimate interest the processing pursues."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def wording(self) -> str:
        """The exact wording shown, as kept with each submission."""
        return purpose_wording(self.summary, self.purpose_text)
