"""What a CRM destination may receive, and who it is (R9, R10, R17, R20).

Beside ``BACKEND`` and ``OPTIONS``, a destination declares:

- ``RECEIVES``: ``"request"`` (the default: every lead, for the request's own
  processing, e.g. the sales team that sends the e-book or calls back), or a
  list of consent purposes (ids or names) that must all be granted, e.g. a
  partner webhook: ``["Partner offers"]``. A lead that may not go somewhere
  gets no delivery there (purpose limitation: sharing with a partner is a
  processing of its own, which needs its own consent).
- ``RECIPIENT``: ``{"NAME": "HubSpot Inc.", "COUNTRY": "USA", "SAFEGUARD":
  "EU-US Data Privacy Framework"}``: the processor as the information notice
  names it, with the transfer safeguard when the country is outside the EEA.
A leaf of the ``crm`` package: the backends' base imports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

REQUEST = "request"


class DestinationConfigError(ValueError):
    """A ``RECEIVES`` or ``RECIPIENT`` value is wrong; the message names the setting.

    (``crm.build_backend`` turns it into a ``CRMConfigurationError``: this
    module sits below the backends' base and does not import it.)"""


_RECIPIENT_KEYS = {"NAME", "COUNTRY", "SAFEGUARD"}


@dataclass(frozen=True)
class Recipient:
    name: str
    country: str
    safeguard: str = ""


@dataclass(frozen=True)
class Receives:
    """``purposes`` empty: the request itself (every lead)."""

    purposes: tuple[int | str, ...] = ()

    @property
    def request(self) -> bool:
        return not self.purposes

    def allows(self, granted: Iterable[Any]) -> bool:
        """Whether a lead whose granted purposes are ``granted`` may go here."""
        if self.request:
            return True
        names: set[int | str] = set()
        for purpose in granted:
            names.update((purpose.pk, purpose.name))
        return all(reference in names for reference in self.purposes)

    def concerns(self, purpose_id: int, purpose_name: str) -> bool:
        """Whether this destination hears about a purpose's consent: all of
        them for the request's destinations; only the purposes it requires
        for the others (a partner needs no word of the newsletter)."""
        return self.request or any(
            reference in (purpose_id, purpose_name) for reference in self.purposes
        )


def parse_receives(value: Any, path: str) -> Receives:
    setting = f'{path}["RECEIVES"]'
    if value is None or value == REQUEST:
        return Receives()
    if (
        isinstance(value, str)
        or not isinstance(value, list | tuple)
        or not value
        or not all(
            (isinstance(ref, int) and not isinstance(ref, bool))
            or (isinstance(ref, str) and ref.strip())
            for ref in value
        )
    ):
        raise DestinationConfigError(
            f'{setting} must be "request" or a non-empty list of consent purposes '
            '(ids or names), e.g. ["Partner offers"].'
        )
    return Receives(tuple(value))


def parse_recipient(value: Any, path: str) -> Recipient | None:
    setting = f'{path}["RECIPIENT"]'
    if value is None:
        return None
    if not isinstance(value, dict):
        raise DestinationConfigError(
            f'{setting} must be a dict: {{"NAME": ..., "COUNTRY": ..., "SAFEGUARD": ...}}.'
        )
    unknown = sorted(set(value) - _RECIPIENT_KEYS)
    if unknown:
        raise DestinationConfigError(
            f'Unknown key {setting}["{unknown[0]}"]; valid keys: COUNTRY, NAME, SAFEGUARD.'
        )
    for key in ("NAME", "COUNTRY"):
        if not isinstance(value.get(key), str) or not value[key].strip():
            raise DestinationConfigError(f'{setting}["{key}"] is required (text).')
    safeguard = value.get("SAFEGUARD", "")
    if not isinstance(safeguard, str):
        raise DestinationConfigError(f'{setting}["SAFEGUARD"] must be text.')
    return Recipient(value["NAME"].strip(), value["COUNTRY"].strip(), safeguard.strip())
