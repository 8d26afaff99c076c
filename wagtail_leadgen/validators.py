"""Validation shared by every intake path (HTML form today, JSON API later).

Django's own validators leave gaps that matter for leads: ``validate_email``
accepts ``a@[127.0.0.1]`` and ``a@localhost``, and ``CharField`` rejects NUL but
no other control character (which later breaks email headers and exports).
"""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

EMAIL_MAX_LENGTH = 254
_ALLOWED_CONTROL_IN_MULTILINE = {"\n", "\r", "\t"}
# Zero-width (non-)joiners are format characters that Persian and Indic names
# and emoji sequences need; every other control or format character is refused.
_ALLOWED_FORMAT = {"\u200c", "\u200d"}


def normalise_email(value: str) -> str:
    """Return the address in the form used to recognise a returning person.

    The whole address is lower-cased: providers treat local parts
    case-insensitively in practice, and two leads for ``Ann@x.fr`` and
    ``ann@x.fr`` would split one person's consent history in two.
    """
    return value.strip().lower()


def validate_lead_email(value: str) -> None:
    """Accept one ordinary internet address; refuse what Django lets through."""
    if len(value) > EMAIL_MAX_LENGTH:
        raise ValidationError(
            _("Enter an email address of at most %(max)s characters."),
            code="max_length",
            params={"max": EMAIL_MAX_LENGTH},
        )
    validate_no_control_characters(value)
    validate_email(value)
    domain = value.rsplit("@", 1)[-1]
    if domain.startswith("[") or "." not in domain.strip("."):
        raise ValidationError(
            _("Enter an email address with a full domain name, like name@example.com."),
            code="invalid_domain",
        )


def _has_control_character(value: str, allowed: set[str]) -> bool:
    return any(
        unicodedata.category(char) in {"Cc", "Cf"}
        and char not in allowed
        and char not in _ALLOWED_FORMAT
        for char in value
    )


def validate_no_control_characters(value: str) -> None:
    """Refuse control and invisible format characters in single-line answers."""
    if _has_control_character(value, set()):
        raise ValidationError(
            _("Remove the invisible control characters from this field."),
            code="control_characters",
        )


def validate_no_control_characters_multiline(value: str) -> None:
    """Like ``validate_no_control_characters`` but line breaks and tabs are fine."""
    if _has_control_character(value, _ALLOWED_CONTROL_IN_MULTILINE):
        raise ValidationError(
            _("Remove the invisible control characters from this field."),
            code="control_characters",
        )
