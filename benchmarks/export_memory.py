"""The staff CSV export streams with flat memory (issue 10).

    .venv/bin/python benchmarks/export_memory.py [--sizes 10000 100000]
        [--database-url postgres://postgres@127.0.0.1:5432/postgres]

For each size, in a fresh Python process of its own (peak RSS only grows
within a process), it builds a throwaway database with the test suite's
settings (a temporary SQLite file by default; with ``--database-url``, a
database of its own on that server, dropped at the end), bulk-creates that
many leads, each with a submission (name, company, phone answers) and a
granted consent, then writes the export exactly as the admin's CSV button
streams it (``services.leads.export_table`` then ``services.exports.iter_csv``),
counting the bytes and throwing them away.

It prints, per size: the file's size, the time taken, the Python heap's
peak during the export (``tracemalloc``) and the process's peak RSS before
and after the export (``resource.getrusage``). Flat memory means the peaks
do not grow with the number of leads.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc

from throwaway_db import bulk_grant, setup_django, teardown_django


def populate(n: int) -> None:
    from django.db import transaction

    from tests.factories import make_landing_page, make_purpose
    from wagtail_leadgen.models import Lead, Submission

    purpose = make_purpose()
    page = make_landing_page(purposes=[purpose])
    with transaction.atomic():
        leads = Lead.objects.bulk_create(
            [Lead(email=f"lead{i}@example.com") for i in range(n)], batch_size=5000
        )
        submissions = Submission.objects.bulk_create(
            [
                Submission(
                    lead=lead,
                    page=page,
                    answers={
                        "first_name": f"First{lead.pk}",
                        "last_name": f"Last{lead.pk}",
                        "company": f"Company {lead.pk % 997}",
                        "phone": "+33 1 23 45 67 89",
                    },
                )
                for lead in leads
            ],
            batch_size=5000,
        )
        bulk_grant(submissions, purpose)


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(n: int, database_url: str | None) -> dict[str, float]:
    """One size, in this process: populate, then stream the export."""
    with tempfile.TemporaryDirectory() as folder:
        setup_django(database_url, folder)
        try:
            populate(n)
            from wagtail_leadgen.models import Lead
            from wagtail_leadgen.services.exports import iter_csv
            from wagtail_leadgen.services.leads import export_table

            rss_before = peak_rss_mb()
            tracemalloc.start()
            started = time.perf_counter()
            headings, rows = export_table(Lead.objects.all())
            size = sum(len(chunk) for chunk in iter_csv(headings, rows))
            seconds = time.perf_counter() - started
            _current, heap_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            return {
                "leads": n,
                "csv_mb": size / 2**20,
                "seconds": seconds,
                "heap_peak_mb": heap_peak / 2**20,
                "rss_before_mb": rss_before,
                "rss_after_mb": peak_rss_mb(),
            }
        finally:
            teardown_django()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.database_url)))
        return
    print(
        f"{'leads':>8} {'CSV MB':>8} {'seconds':>8} {'heap peak MB':>13} "
        f"{'RSS before MB':>14} {'RSS after MB':>13}"
    )
    for n in args.sizes:
        command = [sys.executable, __file__, "--child", str(n)]
        if args.database_url:
            command += ["--database-url", args.database_url]
        # This very script, with arguments from this file.
        output = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603
        figures = json.loads(output.stdout.strip().splitlines()[-1])
        print(
            f"{figures['leads']:>8} {figures['csv_mb']:>8.1f} {figures['seconds']:>8.1f} "
            f"{figures['heap_peak_mb']:>13.1f} {figures['rss_before_mb']:>14.0f} "
            f"{figures['rss_after_mb']:>13.0f}"
        )


if __name__ == "__main__":
    main()
