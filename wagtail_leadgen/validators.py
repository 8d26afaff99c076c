"""Validation shared by every intake path (the HTML form and the JSON API).

Django's own validators leave gaps that matter for leads: ``validate_email``
accepts ``a@[127.0.0.1]`` and ``a@localhost``, and ``CharField`` rejects NUL but
no other control character (which later breaks email headers and exports).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from .cleaning import has_unsafe_characters, normalise

EMAIL_MAX_LENGTH = 254
# RFC 5321: at most 64 octets before the @.
LOCAL_PART_MAX_OCTETS = 64


def canonical_domain(domain: str) -> str:
    """One spelling per domain: IDNA's mapping (NFKC, case folding), shown in
    Unicode. "exämple.fr" typed composed or decomposed, or in capitals, gives
    one domain; a domain IDNA cannot encode is only lower-cased (the
    validator refuses it anyway)."""
    try:
        ascii_domain = domain.lower().encode("idna").decode("ascii")
        return ascii_domain.encode("ascii").decode("idna").lower()
    except UnicodeError:
        return domain.lower()


def normalise_email(value: str) -> str:
    """Return the address in the form used to recognise a returning person.

    NFC, then the local part lower-cased (providers treat it
    case-insensitively in practice: two leads for ``Ann@x.fr`` and
    ``ann@x.fr`` would split one person's consent history in two) and the
    domain in its canonical IDNA spelling. Idempotent.
    """
    local, _at, domain = normalise(value.strip()).rpartition("@")
    return f"{local.lower()}@{canonical_domain(domain)}"


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
    local, _at, domain = value.rpartition("@")
    if len(local.encode("utf-8")) > LOCAL_PART_MAX_OCTETS:
        raise ValidationError(
            _("Enter an email address with at most %(max)s characters before the @."),
            code="local_part_length",
            params={"max": LOCAL_PART_MAX_OCTETS},
        )
    if domain.startswith("[") or "." not in domain.strip("."):
        raise ValidationError(
            _("Enter an email address with a full domain name, like name@example.com."),
            code="invalid_domain",
        )


def validate_no_control_characters(value: str) -> None:
    """Refuse control and invisible format characters in single-line answers."""
    if has_unsafe_characters(value):
        raise ValidationError(
            _("Remove the invisible control characters from this field."),
            code="control_characters",
        )


def validate_no_control_characters_multiline(value: str) -> None:
    """Like ``validate_no_control_characters`` but line breaks and tabs are fine."""
    if has_unsafe_characters(value, multiline=True):
        raise ValidationError(
            _("Remove the invisible control characters from this field."),
            code="control_characters",
        )
