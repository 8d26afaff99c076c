"""Recompute every lead's maturity (hot / warm / cold); run it nightly.

    manage.py leadgen_classify                  all leads, 1,000 per batch
    manage.py leadgen_classify --batch-size 200

Capture already classifies a lead when it writes to us; this command is needed
because recency decays with time: a lead nobody heard from in a month cools
down without any event. Running it twice in a row changes nothing.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from ...models import Maturity
from ...services.classification import reclassify_all, scoring_enabled


class Command(BaseCommand):
    help = "Recompute the maturity (hot, warm, cold) of every lead."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="Leads read and updated per batch (default: 1000).",
        )

    def handle(self, *args, **options):
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        if not scoring_enabled():
            self.stdout.write(
                'Lead scoring is off (WAGTAIL_LEADGEN["LEAD_SCORING"] = False): '
                "nothing to compute."
            )
            return
        try:
            report = reclassify_all(batch_size=options["batch_size"])
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        counts = ", ".join(
            f"{report.levels[level]} {level}" for level in Maturity.values
        )
        self.stdout.write(
            f"Classified {report.total} leads: {counts}; {report.changed} changed."
        )
