"""``leadgen_purge``'s work (R16): end what retention says is over.

In order, each step in batches of ``PURGE_BATCH_SIZE``, each batch its own
transaction, so an interrupted run leaves whole batches done and the rest
untouched, and running it again finishes the job:

1. pending double opt-in consents no link can confirm any more expire
   (``optin.expire_confirmations``);
2. leads whose every period is over are erased, each as ``erase_lead``
   would (``bulk_erasure``, reason "retention"): each CRM that received
   the lead is asked to erase it;
3. consents whose purpose's period is over lapse: a withdrawal on the
   "retention" channel, handed to the CRMs like any withdrawal so that
   they unsubscribe the person (no objection is recorded: the person did
   not object, and may consent again);
4. people with a consent lapsing within ``RENEWAL_NOTICE_DAYS`` get the
   re-permission email, once per cycle (``services.renewal``);
5. quarantined spam older than ``SPAM_RETENTION_DAYS`` is deleted, a
   tombstone per batch;
6. the API's answered ``Idempotency-Key`` rows older than
   ``API["IDEMPOTENCY_KEY_MAX_AGE"]`` are deleted (hashes and ids only).

A second run finds nothing more to do. A dry run counts and changes nothing.
The report holds counts only, never an address. Run it from cron or as the
``run_purge`` task, never from a web request.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from ..conf import leadgen_settings
from ..models.consent import ConsentDecision, ConsentRecord
from ..models.erasure import Erasure
from ..models.leads import Submission
from .bulk_erasure import erase_leads
from .idempotency import delete_expired as delete_expired_idempotency_keys
from .optin import expire_confirmations
from .outbox import propagate_consent_change
from .renewal import due_renewals, send_renewal
from .retention import DueBatch, due_batches, spam_cutoff

CHANNEL = "retention"
REQUESTED_BY = "retention"


@dataclass
class PurgeReport:
    """What a run did (or, dry, would do): counts only."""

    confirmations_expired: int = 0
    leads_erased: int = 0
    consents_lapsed: int = 0
    renewal_emails: int = 0
    renewal_emails_failed: int = 0
    spam_deleted: int = 0
    idempotency_keys_deleted: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def lapse(records: list[ConsentRecord]) -> list[ConsentRecord]:
    """Record these consents as ended by retention and tell the CRMs.

    The proof keeps the wording agreed to, as every state change does."""
    lapsed = ConsentRecord.objects.bulk_create(
        [
            ConsentRecord(
                lead=record.lead,
                purpose=record.purpose,
                purpose_revision_id=record.purpose_revision_id,
                decision=ConsentDecision.WITHDRAWN,
                wording=record.wording,
                wording_sha256=record.wording_sha256,
                language="",
                channel=CHANNEL,
            )
            for record in records
        ]
    )
    propagate_consent_change(lapsed, open_destinations=False)
    return lapsed


def _apply(batch: DueBatch, report: PurgeReport) -> None:
    with transaction.atomic():
        erased = erase_leads(
            batch.erase, reason=Erasure.Reason.RETENTION, requested_by=REQUESTED_BY
        )
        lapsed = lapse(batch.lapse)
    report.leads_erased += erased
    report.consents_lapsed += len(lapsed)


def delete_old_spam(now: datetime, *, dry_run: bool, batch_size: int) -> int:
    """Delete quarantined spam past its period; a tombstone per batch."""
    old = Submission.objects.filter(is_spam=True, created_at__lt=spam_cutoff(now))
    if dry_run:
        return old.count()
    deleted = 0
    while ids := list(old.order_by("pk").values_list("pk", flat=True)[:batch_size]):
        with transaction.atomic():
            Submission.objects.filter(pk__in=ids, is_spam=True).delete()
            Erasure.objects.create(
                reason=Erasure.Reason.SPAM,
                requested_by=REQUESTED_BY,
                removed={"submissions": len(ids)},
            )
        deleted += len(ids)
    return deleted


def purge(*, now: datetime | None = None, dry_run: bool = False) -> PurgeReport:
    """Run every retention step once (see the module docstring)."""
    now = now or timezone.now()
    batch_size = leadgen_settings.PURGE_BATCH_SIZE
    report = PurgeReport()
    report.confirmations_expired = expire_confirmations(
        now=now, dry_run=dry_run
    ).consents
    for batch in due_batches(now, batch_size):
        if dry_run:
            report.leads_erased += len(batch.erase)
            report.consents_lapsed += len(batch.lapse)
        else:
            _apply(batch, report)
    for due in due_renewals(now):
        if dry_run or send_renewal(due):
            report.renewal_emails += 1
        else:
            report.renewal_emails_failed += 1
    report.spam_deleted = delete_old_spam(now, dry_run=dry_run, batch_size=batch_size)
    report.idempotency_keys_deleted = delete_expired_idempotency_keys(
        now, dry_run=dry_run
    )
    return report


@task()
def run_purge() -> dict[str, int]:
    """``leadgen_purge`` as a django-tasks task, for a scheduler that enqueues
    it (e.g. nightly). Its result holds counts only."""
    return purge().as_dict()
