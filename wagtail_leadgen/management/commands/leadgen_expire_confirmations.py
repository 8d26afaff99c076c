"""Record as expired the pending consents that no confirmation link can confirm
any more; run it daily (the rights issue folds it into ``leadgen_purge``).

    manage.py leadgen_expire_confirmations             write the records
    manage.py leadgen_expire_confirmations --dry-run   only count them

A pending consent expires once it is older than ``CONFIRMATION_MAX_AGE`` and
no unused, unexpired confirmation link covers it. Running it twice changes
nothing. Prints counts only, never an address.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from ...services.optin import expire_confirmations


class Command(BaseCommand):
    help = (
        "Record unconfirmed double opt-in consents past their link's expiry as expired."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count what would expire; write nothing.",
        )

    def handle(self, *args, **options):
        report = expire_confirmations(dry_run=options["dry_run"])
        verb = "would expire" if options["dry_run"] else "expired"
        self.stdout.write(
            f"Pending consents {verb}: {report.consents} (of {report.leads} leads)."
        )
