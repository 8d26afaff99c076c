"""Offer pages whose form unlocks a document (an e-book, R2), and the rule
that keeps that document out of anonymous reach."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.documents import get_document_model_string

from .mixins import LeadCaptureMixin
from .processing import RequestProcessing


def is_document_restricted(document: Any) -> bool:
    """True when Wagtail's own document URL refuses anonymous visitors."""
    return document.collection.get_view_restrictions().exists()


class GatedDocumentMixin(LeadCaptureMixin):
    """A lead-capture page whose submission unlocks a document (an e-book, R2).

    The document must sit in a collection with a view restriction, so that
    Wagtail's own document URL refuses anonymous visitors; only our token view
    serves it.
    """

    document = models.ForeignKey(
        get_document_model_string(),
        verbose_name=_("gated document"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Must be in a collection with privacy set (e.g. 'Gated content')."),
    )

    class Meta:
        abstract = True

    def get_request_processing(self) -> RequestProcessing | None:
        """The processing the request itself rests on, stated next to the button."""
        if self.request_processing_id is None:
            return None
        return self.request_processing

    def get_gated_document(self):
        return self.document

    def clean(self) -> None:
        super().clean()
        if not self.document_id:
            raise ValidationError(
                {
                    "document": _(
                        "Choose the document this page gives in exchange for the form."
                    )
                }
            )
        if not is_document_restricted(self.document):
            raise ValidationError(
                {
                    "document": _(
                        "This document is publicly reachable. Move it to a collection "
                        "with privacy restrictions (e.g. 'Gated content') first."
                    )
                }
            )
