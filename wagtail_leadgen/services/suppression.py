"""The objection list (R13): who objected, kept as a keyed hash of the address.

It outlives the erasure of a person's data, so an objection is honoured for
good: code that sends marketing asks ``may_contact(email, purpose)``, which
needs a consent in force *and* no objection. Only a later explicit consent
(a ticked box, a grant on the preferences page) lifts an objection, and only
for that purpose.

The hash is an HMAC-SHA256 of the normalised address keyed from
``SECRET_KEY`` (one salt for this use). Rotating the key with Django's
``SECRET_KEY_FALLBACKS`` keeps old entries working: every key is tried.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.crypto import salted_hmac

from ..models.consent import ConsentDecision, ConsentPurpose
from ..models.leads import Lead
from ..models.privacy import Suppression
from ..validators import normalise_email

_SALT = "wagtail_leadgen.suppression"


def address_hash(email: str, *, secret: str | None = None) -> str:
    return salted_hmac(
        _SALT, normalise_email(email), secret=secret, algorithm="sha256"
    ).hexdigest()


def address_hashes(email: str) -> list[str]:
    """The hash with the current key, then with each fallback key."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [address_hash(email, secret=secret) for secret in secrets]


@transaction.atomic
def suppress(email: str, purpose: ConsentPurpose | None, *, source: str) -> None:
    """Record an objection: to one purpose, or (``None``) to all marketing."""
    entry, created = Suppression.objects.get_or_create(
        address_hash=address_hash(email), purpose=purpose, defaults={"source": source}
    )
    if not created and purpose is None:
        entry.lifted_purposes.clear()  # a new objection to all covers all again


def lift(email: str, purposes: Sequence[ConsentPurpose]) -> None:
    """An explicit consent to ``purposes`` lifts an objection for them only.

    One query when the address never objected, whatever the number of
    purposes: the capture path calls it on every submission with a tick.
    """
    lift_objections(objections_to(email, purposes), purposes)


def objections_to(email: str, purposes: Sequence[ConsentPurpose]) -> list[Suppression]:
    """The objections a consent to ``purposes`` would lift (one query; none
    without a purpose). The capture reads them before its transaction and
    lifts them inside it (``lift_objections``)."""
    if not purposes:
        return []
    wanted = {purpose.pk for purpose in purposes}
    return list(
        Suppression.objects.filter(address_hash__in=address_hashes(email)).filter(
            Q(purpose__isnull=True) | Q(purpose__in=wanted)
        )
    )


def lift_objections(
    entries: Sequence[Suppression], purposes: Sequence[ConsentPurpose]
) -> None:
    """Lift ``entries`` (from ``objections_to``) for ``purposes``: no query
    when there are none."""
    wanted = {purpose.pk for purpose in purposes}
    lifted = [entry.pk for entry in entries if entry.purpose_id in wanted]
    if lifted:
        Suppression.objects.filter(pk__in=lifted).delete()
    for entry in entries:
        if entry.purpose_id is None:
            entry.lifted_purposes.add(*purposes)


def is_suppressed(email: str, purpose: ConsentPurpose) -> bool:
    """Whether the person objected to ``purpose`` (or to all marketing) and
    has not consented to it again since."""
    hashes = address_hashes(email)
    entries = Suppression.objects.filter(address_hash__in=hashes)
    if entries.filter(purpose=purpose).exists():
        return True
    return (
        entries.filter(purpose__isnull=True).exclude(lifted_purposes=purpose).exists()
    )


def may_contact(email: str, purpose: ConsentPurpose) -> bool:
    """Whether marketing for ``purpose`` may go to this address now: a consent
    in force (confirmed, not withdrawn) and no objection. Use it in any code
    that sends marketing, e.g. a site's own newsletter."""
    lead = Lead.objects.filter(email=normalise_email(email)).first()
    if lead is None or is_suppressed(email, purpose):
        return False
    latest = (
        lead.consent_records.filter(purpose=purpose)
        .exclude(decision=ConsentDecision.REFUSED)
        .order_by("-created_at", "-pk")
        .first()
    )
    return latest is not None and latest.decision == ConsentDecision.GRANTED
