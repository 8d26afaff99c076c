"""``locmem``: an outbox in memory, for tests (our own suite uses it)."""

from __future__ import annotations

from collections.abc import Callable

from .base import BaseCRMBackend, DeliveryResult, LeadPayload

# Every lead delivered through any locmem backend, in order.
outbox: list[tuple[str, LeadPayload]] = []
# Emails erased through any locmem backend.
erased: list[tuple[str, str]] = []


class LocmemBackend(BaseCRMBackend):
    """Collects deliveries in ``wagtail_leadgen.crm.locmem.outbox``.

    ``FAIL_WITH`` may hold a callable returning an exception to raise (tests
    script outages with it); deliveries are recorded only when they succeed.
    """

    OPTIONS: dict[str, object] = {"FAIL_WITH": None}
    supports_erasure = True

    def deliver(self, lead: LeadPayload) -> DeliveryResult:
        fail_with: Callable[[LeadPayload], Exception | None] | None = self.options[
            "FAIL_WITH"
        ]
        error = fail_with(lead) if fail_with else None
        if error is not None:
            raise error
        outbox.append((self.alias, lead))
        return DeliveryResult(remote_id=f"locmem-{len(outbox)}")

    def erase(self, email: str) -> None:
        erased.append((self.alias, email))
