"""Which documents are gated: offered by a lead-capture page in exchange for a form."""

from __future__ import annotations

from typing import Any

from wagtail.models import get_page_models

from .models.gated import GatedDocumentMixin


def gated_page_models() -> list[type[Any]]:
    return [
        model for model in get_page_models() if issubclass(model, GatedDocumentMixin)
    ]


def is_gated_document(document: Any) -> bool:
    """True when any lead-capture page offers this document in exchange for a form."""
    return any(
        model.objects.filter(document=document).exists()
        for model in gated_page_models()
    )
