"""Double opt-in (R12): a confirmation email per submission that left a
consent pending, a link whose page confirms, and expiry.

- ``request_confirmation`` is called by ``capture_lead``: one
  ``ConfirmationRequest`` in the capture transaction, its email enqueued with
  the submission's deliveries, in one task row (the task carries ids only;
  the email and its token are made by ``wagtail_leadgen.mailer``).
- The link's page shows what it confirms on GET and HEAD, and confirms only on
  POST (mail scanners follow links). A link is single use and expires
  (``CONFIRMATION_MAX_AGE``).
- ``expire_confirmations`` (``manage.py leadgen_expire_confirmations``)
  records the pending consents that no link can confirm any more.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from .. import mailer
from ..conf import leadgen_settings
from ..models.consent import ConsentDecision, ConsentPurpose, ConsentRecord
from ..models.leads import Lead, Submission
from ..models.privacy import ConfirmationRequest
from ..tasks import enqueue_confirmation, enqueue_with_transaction
from .consent import confirm_pending, current_records, expire_pending
from .preferences import after_change

CHANNEL = "confirmation"


class LinkProblem(Exception):
    """A confirmation link that cannot confirm anything."""

    def __init__(self, request: ConfirmationRequest | None = None) -> None:
        super().__init__()
        self.request = request


class UnknownLink(LinkProblem):
    """Not a link we sent (tampered, cut, another kind of link, or erased)."""


class UsedLink(LinkProblem):
    """Already used: a confirmation link works once."""


class ExpiredLink(LinkProblem):
    """Genuine, never used, but too old."""


# -- At capture -------------------------------------------------------------------
def request_confirmation(
    lead: Lead,
    submission: Submission,
    records: Sequence[ConsentRecord],
    *,
    enqueue: bool = True,
) -> ConfirmationRequest | None:
    """One confirmation request when the submission left consents pending.

    Its ``expires_at`` is, until the email goes out, the latest time to send
    it; the email is enqueued with the transaction
    (``tasks.enqueue_with_transaction``), unless ``enqueue`` is False: the
    capture enqueues it with the submission's deliveries, in one task row
    (``tasks.enqueue_after_capture``)."""
    if not any(record.decision == ConsentDecision.PENDING for record in records):
        return None
    confirmation = ConfirmationRequest.objects.create(
        lead=lead,
        submission=submission,
        expires_at=timezone.now()
        + timedelta(seconds=leadgen_settings.CONFIRMATION_MAX_AGE),
    )
    if enqueue:
        enqueue_with_transaction(lambda: enqueue_confirmation(confirmation.pk))
    return confirmation


# -- The link ---------------------------------------------------------------------
def confirmation_for_token(token: str) -> ConfirmationRequest:
    """The request a link points at, still usable; raise a ``LinkProblem``."""
    if not mailer.is_confirmation_token(token):
        raise UnknownLink
    request = (
        ConfirmationRequest.objects.select_related("lead", "submission__page")
        .filter(token_hash=mailer.token_hash(token))
        .first()
    )
    if request is None:
        raise UnknownLink
    if request.confirmed_at is not None:
        raise UsedLink(request)
    if request.expires_at is not None and request.expires_at <= timezone.now():
        raise ExpiredLink(request)
    return request


def purposes_to_confirm(request: ConfirmationRequest) -> list[ConsentRecord]:
    """The pending consents the link would confirm, with the wording shown."""
    return mailer.pending_records(request)


@transaction.atomic
def confirm(request: ConfirmationRequest, *, language: str) -> list[ConsentRecord]:
    """Confirm what the link's submission left pending: a granted record per
    purpose still pending, handed to the CRMs; the link is used up. Counts as
    a contact from the person. Raises ``UsedLink`` or ``ExpiredLink`` when
    another request used the link, or time ran out, meanwhile."""
    now = timezone.now()
    taken = ConfirmationRequest.objects.filter(
        pk=request.pk, confirmed_at__isnull=True, expires_at__gt=now
    ).update(confirmed_at=now)
    if not taken:
        request.refresh_from_db()
        raise UsedLink(request) if request.confirmed_at else ExpiredLink(request)
    request.confirmed_at = now
    purposes = [record.purpose for record in mailer.pending_records(request)]
    records = confirm_pending(
        request.lead, purposes, language=language, channel=CHANNEL
    )
    after_change(request.lead, records)
    return records


# -- Expiry -----------------------------------------------------------------------
@dataclass
class ExpiryReport:
    """What ``expire_confirmations`` did (or would do, in a dry run)."""

    leads: int = 0
    consents: int = 0


def expire_confirmations(
    *, now: datetime | None = None, dry_run: bool = False
) -> ExpiryReport:
    """Record as expired each pending consent that no link can confirm any
    more: pending for longer than ``CONFIRMATION_MAX_AGE`` and not covered by
    an unused, unexpired confirmation request. Running it twice changes
    nothing; a dry run only counts."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=leadgen_settings.CONFIRMATION_MAX_AGE)
    pending: dict[int, list[ConsentPurpose]] = defaultdict(list)
    leads: dict[int, Lead] = {}
    for record in current_records(
        decision=ConsentDecision.PENDING, created_at__lte=cutoff
    ).select_related("lead", "purpose"):
        pending[record.lead_id].append(record.purpose)
        leads[record.lead_id] = record.lead
    live = set(
        ConsentRecord.objects.filter(
            decision=ConsentDecision.PENDING,
            lead_id__in=list(pending),
            submission__confirmation_requests__confirmed_at__isnull=True,
            submission__confirmation_requests__expires_at__gt=now,
        ).values_list("lead_id", "purpose_id")
    )
    report = ExpiryReport()
    for lead_id, purposes in pending.items():
        due = [purpose for purpose in purposes if (lead_id, purpose.pk) not in live]
        if not due:
            continue
        report.leads += 1
        if dry_run:
            report.consents += len(due)
        else:
            report.consents += len(expire_pending(leads[lead_id], due))
    return report
