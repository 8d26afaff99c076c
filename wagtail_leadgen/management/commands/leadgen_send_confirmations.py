"""Send the double opt-in emails still due: the fallback for a queue that was
down or cannot defer a retry (run it from cron, e.g. every 10 minutes).

    manage.py leadgen_send_confirmations

A request is due when its email was never sent (the mail backend failed, or
no task ran) and its deadline has not passed. Each email goes out once, even
with several instances running. Prints counts only, never an address.
"""

from __future__ import annotations

from collections import Counter

from django.core.management.base import BaseCommand

from ...mailer import due_confirmations, send_confirmation


class Command(BaseCommand):
    help = "Send the double opt-in confirmation emails that are still due."

    def handle(self, *args, **options):
        outcomes: Counter = Counter()
        for request_id in list(due_confirmations().values_list("pk", flat=True)):
            outcomes[send_confirmation(request_id)] += 1
        if not outcomes:
            self.stdout.write("No confirmation email due.")
            return
        for outcome, count in sorted(outcomes.items()):
            self.stdout.write(f"{outcome}: {count}")
