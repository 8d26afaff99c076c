"""``console``: prints each lead (without answers) for development."""

from __future__ import annotations

import sys

from .base import BaseCRMBackend, DeliveryResult, LeadPayload


class ConsoleBackend(BaseCRMBackend[str, None]):
    """Development only: prints what would be sent. Personal data is masked
    unless ``SHOW_PERSONAL_DATA`` is set, so a copied log leaks nothing."""

    OPTIONS = {"SHOW_PERSONAL_DATA": False}
    sends_remotely = False

    def build_delivery(self, lead: LeadPayload) -> str:
        email = lead.email if self.options["SHOW_PERSONAL_DATA"] else "***"
        granted = ", ".join(c.purpose_name for c in lead.granted_purposes()) or "none"
        return (
            f"[leadgen:{self.alias}] delivery {lead.delivery_id} "
            f"({lead.idempotency_key}) email={email} page={lead.page_title!r} "
            f"consents granted: {granted}\n"
        )

    def send(self, request: str) -> None:
        sys.stdout.write(request)

    def parse_delivery(self, response: None, lead: LeadPayload) -> DeliveryResult:
        return DeliveryResult(detail="printed")
