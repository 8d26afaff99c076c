"""A person's export (JSON and CSV) over a lead with 1,000 submissions: target <= 1 s.

    .venv/bin/python benchmarks/subject_export.py [--submissions 1000] [--runs 5]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python benchmarks/subject_export.py

Uses the test settings on a database created for this run only (a SQLite
file in a temporary folder, or a throwaway database beside DATABASE_URL's),
then builds one lead with N submissions on two pages, each with answers, UTM
tags, a consent record with its wording, a delivery and a download grant
(not timed). Printed: the best and median time of ``subject_data`` followed
by ``json.dumps``, and of the CSV file written whole through ``iter_csv``,
with the number of SQL queries of one export.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from throwaway_db import setup_django, teardown_django

TARGET_SECONDS = 1.0


def populate(submissions: int):
    """One lead with ``submissions`` forms sent, in bulk; returns the lead."""
    from django.db import transaction

    from tests.factories import make_document, make_ebook_page, make_purpose
    from wagtail_leadgen.models import (
        ConsentRecord,
        Delivery,
        DeliveryStatus,
        DownloadGrant,
        Lead,
        Submission,
    )
    from wagtail_leadgen.models.consent import wording_sha256

    with transaction.atomic():
        purpose = make_purpose(name="Newsletter")
        document = make_document()
        pages = [make_ebook_page(document=document) for _n in range(2)]
        lead = Lead.objects.create(email="ann@example.com")
        rows = Submission.objects.bulk_create(
            Submission(
                lead=lead,
                page=pages[n % 2],
                answers={"first_name": "Ann", "company": f"Acme {n}"},
                language="fr",
                utm_source="newsletter",
                utm_campaign=f"campaign-{n % 12}",
                referrer="https://search.example/",
            )
            for n in range(submissions)
        )
        wording = purpose.wording
        ConsentRecord.objects.bulk_create(
            ConsentRecord(
                lead=lead,
                purpose=purpose,
                purpose_revision_id=purpose.live_revision_id,
                submission=row,
                decision="granted",
                wording=wording,
                wording_sha256=wording_sha256(wording),
                language="fr",
                channel="web",
            )
            for row in rows
        )
        Delivery.objects.bulk_create(
            Delivery(
                submission=row, backend_alias="locmem", status=DeliveryStatus.DELIVERED
            )
            for row in rows
        )
        DownloadGrant.objects.bulk_create(
            DownloadGrant(submission=row, document=document, max_uses=5) for row in rows
        )
    return lead


def timed(function, runs: int) -> list[float]:
    times = []
    for _run in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        setup_django(
            os.environ.get("DATABASE_URL"), folder, name="leadgen_bench_subject"
        )
        try:
            run(options.submissions, options.runs)
        finally:
            teardown_django()


def run(submissions: int, runs: int) -> None:
    import json

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from wagtail_leadgen.services.exports import iter_csv
    from wagtail_leadgen.services.subject import subject_csv_rows, subject_data

    lead = populate(submissions)

    def as_json() -> bytes:
        return json.dumps(subject_data(lead), ensure_ascii=False, indent=2).encode()

    def as_csv() -> bytes:
        return b"".join(iter_csv(*subject_csv_rows(lead)))

    with CaptureQueriesContext(connection) as queries:
        size = len(as_json())
    print(f"{connection.vendor}: one lead, {submissions} submissions")
    print(f"  queries per export: {len(queries.captured_queries)}")
    for name, function in (("JSON", as_json), ("CSV", as_csv)):
        times = timed(function, runs)
        print(
            f"  {name}: best {min(times):.3f} s, median {statistics.median(times):.3f} s"
            f" (target <= {TARGET_SECONDS:.1f} s)"
        )
    print(f"  JSON size: {size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
