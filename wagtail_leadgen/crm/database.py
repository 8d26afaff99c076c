"""``database``: the lead stays in this site's database only (the default)."""

from __future__ import annotations

from collections.abc import Collection

from .base import BaseCRMBackend, ConsentItem, DeliveryResult, LeadPayload


class DatabaseBackend(BaseCRMBackend[None, None]):
    """Keeps the lead where it already is; nothing leaves the site.

    Erasure is handled by the site's own privacy services, so there is
    nothing to propagate (``supports_erasure`` is False). A consent change is
    already in the site's database when it is planned, and so is a
    correction: ``needs_update`` and ``needs_correction`` are False, so the
    delivery is done without a request and never needs staff.
    """

    sends_remotely = False

    def build_delivery(self, lead: LeadPayload) -> None:
        return None  # nothing to send

    def send(self, request: None) -> None:
        return None

    def parse_delivery(self, response: None, lead: LeadPayload) -> DeliveryResult:
        return DeliveryResult(detail="kept in the site database")

    def needs_update(self, change: ConsentItem) -> bool:
        return False  # the consent records are this database's own

    def needs_correction(self, kinds: Collection[str]) -> bool:
        return False  # so are the corrections
