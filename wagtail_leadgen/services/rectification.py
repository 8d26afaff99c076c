"""Correcting a person's details (R15), for the person and for staff alike.

``rectify`` is the one way in: the "my data" page, the lead's admin page and
scripts call it. It validates the corrections as the lead form validates
answers (``forms.CorrectionForm``), records them as a ``Rectification``
beside the submissions (which stay the proof of what was sent), and hands
them to every CRM that has the person, through the outbox.

Only the answers in ``field_kinds.CORRECTABLE_KINDS`` that the person gave can be
corrected. The email cannot: another address is another person's lead (they
submit a form with it, and may have this one erased).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from ..cleaning import has_unsafe_characters, normalise
from ..forms import CorrectionForm
from ..models.leads import Lead
from ..models.rectification import Rectification, RectificationSource
from .outbox import propagate_rectification
from .preferences import note_contact

#: Lengths of ``Rectification.requested_by`` and of a reason.
REQUESTED_BY_MAX_LENGTH = 255
NOTE_MAX_LENGTH = 2000


class InvalidCorrection(ValueError):
    """Corrections ``rectify`` refuses; ``errors`` gives each field's messages."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{f}: {' '.join(m)}" for f, m in errors.items()))


def current_answers(lead: Lead) -> dict[str, str]:
    """The person's value now for each answer they gave (spam never counts):
    their latest answer, unless a later correction changed it."""
    events: list[tuple[datetime, int, int, dict[str, str]]] = [
        (submission.created_at, 1, submission.pk, submission.answers)
        for submission in lead.submissions.filter(is_spam=False).only(
            "answers", "created_at"
        )
    ]
    # At the same instant the submission wins (``leads.latest_answer`` agrees).
    events += [
        (rectification.created_at, 0, rectification.pk, rectification.values)
        for rectification in lead.rectifications.all()
    ]
    current: dict[str, str] = {}
    for _when, _order, _pk, values in sorted(events, key=lambda e: e[:3]):
        current.update(values)
    return current


def correction_form(
    lead: Lead,
    data: Mapping[str, str] | None = None,
    *,
    form_class: type[CorrectionForm] = CorrectionForm,
) -> CorrectionForm:
    """The form of the person's correctable answers, prefilled with their
    current values: a ``forms.CorrectionForm``, or a subclass adding fields
    (the admin's asks for the reason)."""
    return form_class(current_answers(lead), data)


def _checked_text(
    field: str, value: str, max_length: int, errors: dict[str, list[str]]
) -> str:
    value = normalise(value.strip())
    if has_unsafe_characters(value, multiline=field == "note"):
        errors[field] = [_("Remove the invisible control characters from this field.")]
    elif len(value) > max_length:
        errors[field] = [_("Enter at most %(max)s characters.") % {"max": max_length}]
    return value


def rectify(
    lead: Lead,
    changes: Mapping[str, str],
    *,
    source: str,
    requested_by: str = "",
    note: str = "",
) -> Rectification | None:
    """Correct the person's answers (keyed by field kind, e.g. ``first_name``).

    Records the correction, queues it for every CRM that has the person, and,
    when the person made it themselves, counts it as a contact (retention
    runs from there). Returns None when no value changes. Raises
    ``InvalidCorrection`` (nothing recorded) for an answer that cannot be
    corrected, an empty, overlong or unsafe value, or an unsafe note.
    """
    if source not in RectificationSource.values:
        raise ValueError(
            f"Unknown rectification source {source!r}; valid sources: "
            f"{', '.join(RectificationSource.values)}."
        )
    errors: dict[str, list[str]] = {}
    requested_by = _checked_text(
        "requested_by", requested_by, REQUESTED_BY_MAX_LENGTH, errors
    )
    note = _checked_text("note", note, NOTE_MAX_LENGTH, errors)
    form = correction_form(lead)
    for kind in changes:
        if kind == "email":
            errors[kind] = [
                _(
                    "The email address cannot be corrected: another address is "
                    "another person's lead. Submit a form with the new address, "
                    "and ask for this one to be erased."
                )
            ]
        elif kind not in form.current:
            errors[kind] = [
                _(
                    "This answer cannot be corrected: it was never given, or is "
                    "not a detail about the person."
                )
            ]
    if errors:
        raise InvalidCorrection(errors)
    form = correction_form(lead, {**form.current, **changes})
    if not form.is_valid():
        raise InvalidCorrection(
            {
                field: [str(m) for m in messages]
                for field, messages in form.errors.items()
            }
        )
    values = form.changes()
    if not values:
        return None
    with transaction.atomic():
        rectification = Rectification.objects.create(
            lead=lead,
            source=source,
            values=values,
            requested_by=requested_by,
            note=note,
        )
        propagate_rectification(rectification)
        if source == RectificationSource.PERSON:
            note_contact(lead)
    return rectification
