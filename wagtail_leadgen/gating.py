"""Which documents are gated, and whether Wagtail would serve them to anyone."""

from __future__ import annotations

from wagtail.models import get_page_models


def is_document_restricted(document) -> bool:
    """True when Wagtail's own document URL refuses anonymous visitors."""
    return document.collection.get_view_restrictions().exists()


def gated_page_models() -> list[type]:
    from .models.mixins import GatedDocumentMixin

    return [
        model for model in get_page_models() if issubclass(model, GatedDocumentMixin)
    ]


def is_gated_document(document) -> bool:
    """True when any lead-capture page offers this document in exchange for a form."""
    return any(
        model.objects.filter(document=document).exists()
        for model in gated_page_models()
    )
