"""The person's record (``services.subject.subject_data``) made readable on
their page: dates as dates, stored codes as their labels, answers labelled."""

from __future__ import annotations

from typing import Any

from django.utils.dateparse import parse_datetime

from ..models.callbacks import CallbackOutcome
from ..models.consent import ConsentDecision
from ..models.delivery import DeliveryKind, DeliveryStatus
from ..models.privacy import SuppressionSource
from ..services.leads import answer_items

_DATE_KEYS = {
    "date",
    "first_contact",
    "last_contact",
    "sent",
    "expires",
    "confirmed",
    "delivered",
    "revoked",
    "used",
    "requested_at",
    "preferred_from",
    "preferred_until",
    "called_at",
}

_LABELS = {
    "decision": dict(ConsentDecision.choices),
    "status": dict(DeliveryStatus.choices),
    "kind": dict(DeliveryKind.choices),
    "source": dict(SuppressionSource.choices),
    "outcome": dict(CallbackOutcome.choices),
}


def _item(item: dict[str, Any]) -> dict[str, Any]:
    shown = dict(item)
    for key, value in item.items():
        if key in _DATE_KEYS and isinstance(value, str):
            shown[key] = parse_datetime(value)
        elif key in _LABELS:
            shown[f"{key}_label"] = _LABELS[key].get(value, value)
    if "answers" in item:
        shown["answers"] = answer_items(item["answers"])
    return shown


def for_display(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with each item's dates parsed, codes labelled, answers in form order."""
    shown: dict[str, Any] = {"person": _item(data["person"])}
    for section, items in data.items():
        if isinstance(items, list):
            shown[section] = [_item(item) for item in items]
    return shown
