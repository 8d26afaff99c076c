"""KPI report over 100k submissions: target ≤ 200 ms (issue 4).

    .venv/bin/python benchmarks/dashboard.py [-n 100000] [--pages 50] [--runs 9]
        [--database-url postgres://postgres@127.0.0.1:5432/postgres]

Builds a throwaway database with the test suite's settings (a temporary
SQLite file by default; with ``--database-url``, a database of its own on that
server, ``leadgen_bench_<pid>``, dropped at the end), fills it with
``bulk_create``:

- ``--pages`` lead pages (four in five landing pages, the rest e-book pages);
- ``-n`` submissions spread over the last 365 days, 5 % of them spam, from
  about 0.6 × n leads; a consent record for 80 % of them (three in four
  granted), one CRM delivery each (90 % delivered), a download grant for each
  e-book submission;
- a daily view counter per page (about 30 views per submission) and two CTAs
  per page with daily click counters;

then times, median of ``--runs`` runs after one warm-up:

1. ``build_report`` over the whole year (every submission, the worst case);
2. ``build_report`` over the default 30 days;
3. ``top_pages`` (the admin home panel);
4. the whole report page, as an admin GET through Django's test client
   (form, queries, two SVG charts, template), over the whole year.

It prints the timings and the number of SQL queries of each.
"""

from __future__ import annotations

import argparse
import datetime
import random
import statistics
import tempfile
import time
from contextlib import contextmanager

from throwaway_db import setup_django, teardown_django

TARGET_MS = 200


@contextmanager
def explicit_created_at():
    """``Submission.created_at`` is ``auto_now_add``: let bulk_create keep our dates."""
    from wagtail_leadgen.models import Submission

    field = Submission._meta.get_field("created_at")
    field.auto_now_add = False
    try:
        yield
    finally:
        field.auto_now_add = True


def populate(n: int, page_count: int, rng: random.Random) -> dict[str, int]:
    from django.db import transaction
    from django.utils import timezone
    from wagtail.models import Site

    from tests.factories import make_document, make_purpose
    from wagtail_leadgen.models import (
        CallToAction,
        ConsentRecord,
        CTAClickDay,
        Delivery,
        DownloadGrant,
        EbookPage,
        LandingPage,
        Lead,
        PageViewDay,
        Submission,
    )

    root = Site.objects.get(is_default_site=True).root_page
    document = make_document()
    purpose = make_purpose()
    pages = []
    for i in range(page_count):
        if i % 5 == 4:
            page = EbookPage(title=f"E-book {i}", slug=f"ebook-{i}", document=document)
        else:
            page = LandingPage(title=f"Landing {i}", slug=f"landing-{i}")
        pages.append(root.add_child(instance=page))
    ebooks = {page.pk for page in pages if isinstance(page, EbookPage)}
    # Some pages are far more popular than others.
    weights = [1 / (rank + 1) ** 0.7 for rank in range(page_count)]

    today = timezone.localdate()
    now = timezone.now()
    year = 365

    with transaction.atomic():
        leads = Lead.objects.bulk_create(
            [Lead(email=f"lead{i}@example.com") for i in range(int(n * 0.6))],
            batch_size=5000,
        )
        chosen_pages = rng.choices(pages, weights=weights, k=n)
        submissions = []
        for page in chosen_pages:
            spam = rng.random() < 0.05
            submissions.append(
                Submission(
                    page=page,
                    lead=None if spam else rng.choice(leads),
                    is_spam=spam,
                    created_at=now
                    - datetime.timedelta(seconds=rng.randrange(year * 86400)),
                )
            )
        # In the order they would have arrived, as in a real table.
        submissions.sort(key=lambda submission: submission.created_at)
        with explicit_created_at():
            submissions = Submission.objects.bulk_create(submissions, batch_size=5000)

        records, deliveries, grants = [], [], []
        for submission in submissions:
            if submission.is_spam:
                continue
            if rng.random() < 0.8:
                granted = rng.random() < 0.75
                records.append(
                    ConsentRecord(
                        lead_id=submission.lead_id,
                        purpose=purpose,
                        submission=submission,
                        decision="granted" if granted else "refused",
                        wording="w",
                        wording_sha256="0" * 64,
                        language="en",
                        channel="web",
                    )
                )
            roll = rng.random()
            status = (
                "delivered" if roll < 0.9 else "failed" if roll < 0.97 else "pending"
            )
            deliveries.append(
                Delivery(submission=submission, backend_alias="crm", status=status)
            )
            if submission.page_id in ebooks:
                grants.append(
                    DownloadGrant(
                        submission=submission,
                        document=document,
                        uses=rng.randrange(4),
                        max_uses=5,
                    )
                )
        ConsentRecord.objects.bulk_create(records, batch_size=5000)
        Delivery.objects.bulk_create(deliveries, batch_size=5000)
        DownloadGrant.objects.bulk_create(grants, batch_size=5000)

        per_page_day = n / year / page_count
        PageViewDay.objects.bulk_create(
            [
                PageViewDay(
                    page=page,
                    day=today - datetime.timedelta(days=d),
                    views=max(1, int(rng.gauss(30, 5) * per_page_day * weight * 4)),
                )
                for page, weight in zip(pages, weights, strict=True)
                for d in range(year)
            ],
            batch_size=5000,
        )
        ctas = CallToAction.objects.bulk_create(
            [
                CallToAction(label=f"CTA {page.pk}.{k}", target_page=page)
                for page in pages
                for k in range(2)
            ]
        )
        CTAClickDay.objects.bulk_create(
            [
                CTAClickDay(
                    cta=cta,
                    day=today - datetime.timedelta(days=d),
                    clicks=rng.randrange(20),
                )
                for cta in ctas
                for d in range(year)
            ],
            batch_size=5000,
        )
    return {
        "pages": page_count,
        "submissions": len(submissions),
        "leads": len(leads),
        "consent records": len(records),
        "deliveries": len(deliveries),
        "download grants": len(grants),
        "view counter rows": PageViewDay.objects.count(),
        "CTA click rows": CTAClickDay.objects.count(),
    }


class QueryLog:
    """Counts (and times) the SQL statements run while it is active."""

    def __init__(self) -> None:
        self.statements: list[tuple[float, str]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append(((time.perf_counter() - started) * 1000, sql))


def timed(function, runs: int) -> tuple[float, float, int]:
    """Median and max in ms over ``runs`` runs after a warm-up, and the query count."""
    from django.db import connection

    log = QueryLog()
    with connection.execute_wrapper(log):
        function()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times), len(log.statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--submissions", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument(
        "--queries",
        action="store_true",
        help="also print each query of the year's report with its time",
    )
    parser.add_argument(
        "--database-url",
        help="run on this server's test database instead of a temporary SQLite file",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="leadgen-bench-") as folder:
        setup_django(args.database_url, folder)
        try:
            run(args)
        finally:
            teardown_django()


def run(args) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from wagtail_leadgen.services.kpis import build_report, default_range, top_pages

    if connection.vendor == "sqlite":
        vendor = f"SQLite {connection.Database.sqlite_version}"
    else:
        version = ".".join(map(str, connection.get_database_version()))
        vendor = f"{connection.display_name} {version}"
    print(f"Populating a throwaway {connection.vendor} database ...", flush=True)
    started = time.perf_counter()
    counts = populate(args.submissions, args.pages, random.Random(args.seed))
    print(
        f"  done in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{value:,} {name}" for name, value in counts.items())
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    today = timezone.localdate()
    year = (today - datetime.timedelta(days=364), today)
    last_30 = default_range(30)
    report = build_report(*year)

    admin = get_user_model().objects.create_superuser("bench", "b@example.com", "pw")
    client = Client()
    client.force_login(admin)
    url = reverse("wagtail_leadgen_kpis:report") + f"?start={year[0]}&end={year[1]}"

    def get_report_page():
        response = client.get(url)
        assert response.status_code == 200, response.status_code

    cases = [
        ("build_report, 365 days (all submissions)", lambda: build_report(*year)),
        ("build_report, last 30 days", lambda: build_report(*last_30)),
        ("top_pages (home panel, 30 days)", lambda: top_pages(5, 30)),
        ("report page GET, 365 days (HTTP + template)", get_report_page),
    ]
    print()
    print(
        f"{args.submissions:,} submissions ({report.totals.submissions:,} non-spam) "
        f"on {args.pages} pages; {vendor}; median of {args.runs} runs after a warm-up"
    )
    width = max(len(label) for label, _ in cases)
    print(f"{'':<{width}}  {'median ms':>9}  {'max ms':>7}  {'queries':>7}")
    for label, function in cases:
        median, worst, queries = timed(function, args.runs)
        print(f"{label:<{width}}  {median:9.1f}  {worst:7.1f}  {queries:7d}")
    if args.queries:
        log = QueryLog()
        with connection.execute_wrapper(log):
            build_report(*year)
        print("\nQueries of build_report over 365 days:")
        for elapsed, sql in log.statements:
            print(f"{elapsed:8.1f} ms  {sql[:300]}")
    print(f"\nTarget: the report over 100k submissions ≤ {TARGET_MS} ms.")
    print(
        "Rerun: .venv/bin/python benchmarks/dashboard.py [-n 100000] [--pages 50] "
        "[--runs 9] [--database-url postgres://postgres@127.0.0.1:5432/postgres]"
    )


if __name__ == "__main__":
    main()
