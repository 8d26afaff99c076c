"""Deliver due leads to their CRMs: a cron fallback and a worker for queues that cannot wait.

    manage.py leadgen_deliver --once          deliver what is due now, then exit
    manage.py leadgen_deliver --loop          keep delivering (a simple worker)
    manage.py leadgen_deliver --once --all    deliver every pending lead now,
                                              ignoring backoff (after an outage)
Several instances may run at once: each delivery is claimed with a lease.
Each round starts with the call-back alerts: deliveries of high priority are
claimed first, and a sales email the queue did not send (an outage) is sent
here, a minute after the request, for a day.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ...callback_worker import send_callback_email
from ...conf import leadgen_settings
from ...models.callbacks import CallbackRequest
from ...worker import attempt, claim_due

#: A sales email still unsent this long after the request is sent here (the
#: queue had its chance); one older than a day is no longer worth sending.
EMAIL_GRACE = timedelta(minutes=1)
EMAIL_GIVE_UP = timedelta(days=1)


class Command(BaseCommand):
    help = "Deliver pending leads to the configured CRM destinations."

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--once",
            action="store_true",
            help="Deliver what is due, then exit (default).",
        )
        mode.add_argument(
            "--loop", action="store_true", help="Keep delivering until stopped."
        )
        parser.add_argument(
            "--all",
            action="store_true",
            help="Ignore backoff: deliver every pending lead now.",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=5.0,
            help="Seconds between rounds with --loop.",
        )
        parser.add_argument(
            "--batch", type=int, default=100, help="Deliveries claimed per round."
        )

    def handle(self, *args, **options):
        if options["all"] and options["loop"]:
            raise CommandError("--all goes with --once: it is a one-off catch-up.")
        if options["batch"] < 1:
            raise CommandError("--batch must be at least 1.")
        while True:
            outcomes = self.deliver_round(options)
            if not options["loop"]:
                self.report(outcomes)
                return
            if outcomes:
                self.report(outcomes)
            else:
                time.sleep(options["interval"])

    def deliver_round(self, options) -> Counter:
        """Claim and attempt batches until nothing is due; each delivery once per round."""
        outcomes: Counter = self.email_round()
        attempted: set[int] = set()
        while True:
            batch = claim_due(
                limit=options["batch"], ignore_backoff=options["all"], exclude=attempted
            )
            for delivery in batch:
                attempted.add(delivery.pk)
                delivery = attempt(delivery)
                outcomes[(delivery.backend_alias, delivery.status)] += 1
                if options["verbosity"] >= 2:
                    self.stdout.write(
                        f"delivery {delivery.pk} -> {delivery.backend_alias}: {delivery.status}"
                    )
            # Not only when a batch comes back short: a delivery done in this
            # batch may have freed a consent change that waited for it.
            if not batch:
                return outcomes

    def email_round(self) -> Counter:
        """Send the call-back alert emails the queue left unsent."""
        outcomes: Counter = Counter()
        if not leadgen_settings.callback["SALES_EMAIL"]:
            return outcomes
        now = timezone.now()
        due = CallbackRequest.objects.filter(
            alerted_at__isnull=True,
            first_called_at__isnull=True,
            requested_at__lte=now - EMAIL_GRACE,
            requested_at__gte=now - EMAIL_GIVE_UP,
        ).values_list("pk", flat=True)
        for pk in list(due):
            outcomes[("sales email", send_callback_email(pk))] += 1
        return outcomes

    def report(self, outcomes: Counter) -> None:
        if not outcomes:
            self.stdout.write("Nothing to deliver.")
            return
        for (alias, status), count in sorted(outcomes.items()):
            self.stdout.write(f"{alias}: {count} {status}")
