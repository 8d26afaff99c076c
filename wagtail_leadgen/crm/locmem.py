"""``locmem``: an outbox in memory, for tests (our own suite uses it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .base import BaseCRMBackend, DeliveryResult, LeadPayload, Steps, UpdateSteps

# Every lead delivered through any locmem backend, in order.
outbox: list[tuple[str, LeadPayload]] = []
# Every lead updated through any locmem backend, in order.
updated: list[tuple[str, LeadPayload]] = []
# Every correction applied through any locmem backend, in order.
corrected: list[tuple[str, LeadPayload]] = []
# Emails erased through any locmem backend.
erased: list[tuple[str, str]] = []


@dataclass(frozen=True)
class Record:
    """What the locmem transport does: append ``(alias, item)`` to ``box``."""

    box: list[tuple[str, Any]]
    item: LeadPayload | str


class LocmemBackend(BaseCRMBackend[Record, int]):
    """Collects deliveries in ``wagtail_leadgen.crm.locmem.outbox``, updates in
    ``updated``, corrections in ``corrected`` and erasures in ``erased``.

    ``FAIL_WITH`` may hold a callable returning an exception to raise for a
    lead (tests script outages with it); it applies to deliveries, updates and
    corrections, which are recorded only when they succeed.
    """

    OPTIONS = {"FAIL_WITH": None}
    supports_erasure = True
    supports_update = True
    supports_correction = True
    sends_remotely = False

    def build_delivery(self, lead: LeadPayload) -> Record:
        return Record(outbox, lead)

    def build_update(self, lead: LeadPayload) -> UpdateSteps[Record, int]:
        position = yield Record(updated, lead)
        return DeliveryResult(detail=f"update {position} recorded")

    def build_correction(self, lead: LeadPayload) -> UpdateSteps[Record, int]:
        position = yield Record(corrected, lead)
        return DeliveryResult(detail=f"correction {position} recorded")

    def build_erasure(self, email: str, *, idempotency_key: str) -> Steps[Record, int]:
        yield Record(erased, email)

    def send(self, request: Record) -> int:
        """Append the record; return its position (1-based) in its list."""
        fail_with: Callable[[LeadPayload], Exception | None] | None = self.options[
            "FAIL_WITH"
        ]
        if fail_with and isinstance(request.item, LeadPayload):
            error = fail_with(request.item)
            if error is not None:
                raise error
        request.box.append((self.alias, request.item))
        return len(request.box)

    def parse_delivery(self, response: int, lead: LeadPayload) -> DeliveryResult:
        return DeliveryResult(remote_id=f"locmem-{response}")
