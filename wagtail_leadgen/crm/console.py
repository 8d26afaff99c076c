"""``console``: prints each lead (without answers) for development."""

from __future__ import annotations

import sys

from .base import BaseCRMBackend, DeliveryResult, LeadPayload, UpdateSteps


class ConsoleBackend(BaseCRMBackend[str, None]):
    """Development only: prints what would be sent. Personal data is masked
    unless ``SHOW_PERSONAL_DATA`` is set, so a copied log leaks nothing.
    Consent changes and corrections are printed too (``supports_update``,
    ``supports_correction``), naming the corrected answers, not their values."""

    OPTIONS = {"SHOW_PERSONAL_DATA": False}
    sends_remotely = False
    supports_update = True
    supports_correction = True

    def _email(self, lead: LeadPayload) -> str:
        return lead.email if self.options["SHOW_PERSONAL_DATA"] else "***"

    def build_delivery(self, lead: LeadPayload) -> str:
        granted = ", ".join(c.purpose_name for c in lead.granted_purposes()) or "none"
        return (
            f"[leadgen:{self.alias}] delivery {lead.delivery_id} "
            f"({lead.idempotency_key}) email={self._email(lead)} "
            f"page={lead.page_title!r} consents granted: {granted}\n"
        )

    def build_update(self, lead: LeadPayload) -> UpdateSteps[str, None]:
        change = lead.change
        assert change is not None  # ``update`` checks it
        yield (
            f"[leadgen:{self.alias}] consent change {lead.delivery_id} "
            f"({lead.idempotency_key}) email={self._email(lead)} "
            f"purpose={change.purpose_name!r} {change.decision} "
            f"at {change.decided_at:%Y-%m-%d %H:%M:%S %Z}\n"
        )
        return DeliveryResult(detail="printed")

    def build_correction(self, lead: LeadPayload) -> UpdateSteps[str, None]:
        correction = lead.correction
        assert correction is not None  # ``correct`` checks it
        yield (
            f"[leadgen:{self.alias}] correction {lead.delivery_id} "
            f"({lead.idempotency_key}) email={self._email(lead)} "
            f"corrected: {', '.join(sorted(correction.values))}\n"
        )
        return DeliveryResult(detail="printed")

    def send(self, request: str) -> None:
        sys.stdout.write(request)

    def parse_delivery(self, response: None, lead: LeadPayload) -> DeliveryResult:
        return DeliveryResult(detail="printed")
