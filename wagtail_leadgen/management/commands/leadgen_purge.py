"""End what the retention periods say is over (R16); run it daily from cron.

    manage.py leadgen_purge             do it
    manage.py leadgen_purge --dry-run   only count what it would do

Expires unconfirmed double opt-in consents, erases leads with nothing left
to keep, lapses consents past their purpose's period (the CRMs are told),
sends the re-permission emails due, and deletes old quarantined spam; see
docs/retention.md. Idempotent and resumable: it works in batches, each in a
transaction, so a run that is interrupted is finished by the next one.
Prints counts only, never an address.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from ...services.purge import purge

LINES = (
    ("confirmations_expired", "Unconfirmed consents expired"),
    ("leads_erased", "Leads erased (every period over)"),
    ("consents_lapsed", "Consents lapsed (purpose's period over)"),
    ("renewal_emails", "Renewal emails sent"),
    ("renewal_emails_failed", "Renewal emails that failed (tried again next run)"),
    ("spam_deleted", "Quarantined spam deleted"),
    ("idempotency_keys_deleted", "API idempotency keys deleted"),
)


class Command(BaseCommand):
    help = (
        "Apply the retention periods: erase, lapse, ask for renewal, delete old spam."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count what would be done; change nothing and send nothing.",
        )

    def handle(self, *args, **options):
        dry_run = options["dry_run"]
        counts = purge(dry_run=dry_run).as_dict()
        if dry_run:
            self.stdout.write("Dry run: nothing was changed or sent.")
        for key, label in LINES:
            self.stdout.write(f"{label}: {counts[key]}")
