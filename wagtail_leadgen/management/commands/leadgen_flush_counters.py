"""Write the page views (and A/B test variant views) counted in the cache to the database; run it from cron
every few minutes where the task queue cannot defer (the view counter also
enqueues a flush at most once a minute).

    manage.py leadgen_flush_counters

Running it twice, or while a flush task runs, never counts a view twice.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from ...services.experiment_counts import flush_variant_views
from ...services.tracking import flush_page_views


class Command(BaseCommand):
    help = "Write the page views counted in the cache to the database."

    def handle(self, *args, **options):
        flushed = flush_page_views()
        self.stdout.write(f"Page views written: {flushed}.")
        variants = flush_variant_views()
        self.stdout.write(f"A/B test variant views written: {variants}.")
