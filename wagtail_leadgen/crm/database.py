"""``database``: the lead stays in this site's database only (the default)."""

from .base import BaseCRMBackend, DeliveryResult, LeadPayload


class DatabaseBackend(BaseCRMBackend):
    """Keeps the lead where it already is; nothing leaves the site.

    Erasure is handled by the site's own privacy services, so there is
    nothing to propagate.
    """

    def deliver(self, lead: LeadPayload) -> DeliveryResult:
        return DeliveryResult(detail="kept in the site database")
