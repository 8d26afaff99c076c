"""``leadgen_purge`` over 100,000 expired leads: target ≤ 10 s on SQLite (issue 10).

    .venv/bin/python benchmarks/purge.py [-n 100000]
        [--database-url postgres://postgres@127.0.0.1:5432/postgres]

Builds a throwaway database with the test suite's settings (a temporary
SQLite file by default; with ``--database-url`` or ``DATABASE_URL``, a
database of its own on that server, dropped at the end) and bulk-creates
``-n`` leads whose last contact was four years ago, each with a submission
(answers), a newsletter consent (36 months, so expired too) and a lead
delivery marked delivered to an in-memory CRM destination that supports
erasure, so that every erased lead gets its CRM erasure planned; and a
tenth as many leads again, still within their period, which must stay.

``--queue dummy`` leaves out the cost of enqueueing one task per CRM
erasure (django-tasks' dummy backend instead of the demo's database queue).

Then it times one real ``purge()`` (what ``manage.py leadgen_purge`` runs)
and a second one (idempotence: nothing left to do), and prints the counts,
the seconds, the SQL statements and what is left in each table.
"""

from __future__ import annotations

import argparse
import datetime
import os
import tempfile
import time

from throwaway_db import bulk_grant, setup_django, teardown_django

TARGET_SECONDS = 10
CRM = {"crm": {"BACKEND": "wagtail_leadgen.crm.locmem.LocmemBackend"}}


QUEUES = {
    "db": "django_tasks_db.DatabaseBackend",
    "dummy": "django_tasks.backends.dummy.DummyBackend",
}


def use_queue(queue: str) -> None:
    """The demo's queue: each erasure delivery is a task row for a worker
    (not sent inline, as the immediate backend of an unset TASKS would)."""
    from django.test import override_settings

    override_settings(
        WAGTAIL_LEADGEN={"CRM_BACKENDS": CRM},
        TASKS={"default": {"BACKEND": QUEUES[queue]}},
    ).enable()


def populate(n: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from tests.factories import make_landing_page, make_purpose
    from wagtail_leadgen.models import Delivery, Lead, Submission

    purpose = make_purpose(retention_months=36)
    page = make_landing_page(purposes=[purpose])
    now = timezone.now()
    long_ago = now - datetime.timedelta(days=4 * 365)
    with transaction.atomic():
        leads = Lead.objects.bulk_create(
            [
                Lead(
                    email=f"lead{i}@example.com",
                    last_contact_at=long_ago if i < n else now,
                )
                for i in range(n + n // 10)
            ],
            batch_size=5000,
        )
        submissions = Submission.objects.bulk_create(
            [
                Submission(
                    lead=lead,
                    page=page,
                    request_processing_id=page.request_processing_id,
                    answers={"first_name": f"First{lead.pk}", "company": "ACME"},
                )
                for lead in leads
            ],
            batch_size=5000,
        )
        bulk_grant(submissions, purpose)
        Delivery.objects.bulk_create(
            [
                Delivery(
                    submission=submission,
                    lead_id=submission.lead_id,
                    backend_alias="crm",
                    status="delivered",
                    delivered_at=now,
                )
                for submission in submissions
            ],
            batch_size=5000,
        )


def counts() -> dict[str, int]:
    from wagtail_leadgen.models import (
        ConsentRecord,
        Delivery,
        Erasure,
        Lead,
        Submission,
    )

    return {
        model.__name__: model.objects.count()
        for model in (Lead, Submission, ConsentRecord, Delivery, Erasure)
    }


class QueryCount:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def timed_purge() -> tuple[dict[str, int], float, int]:
    from django.db import connection

    from wagtail_leadgen.services.purge import purge

    log = QueryCount()
    with connection.execute_wrapper(log):
        started = time.perf_counter()
        report = purge()
        seconds = time.perf_counter() - started
    return report.as_dict(), seconds, log.count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument(
        "--queue",
        choices=sorted(QUEUES),
        default="db",
        help="db: the demo's database queue; dummy: leave out the cost of enqueueing",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        setup_django(args.database_url, folder, configure=lambda: use_queue(args.queue))
        try:
            from django.db import connection

            started = time.perf_counter()
            populate(args.n)
            print(
                f"{connection.vendor}: {args.n} expired leads (and {args.n // 10} "
                "current ones) created in "
                f"{time.perf_counter() - started:.1f} s"
            )
            print("before:", counts())
            for run in ("first run", "second run"):
                report, seconds, queries = timed_purge()
                print(
                    f"{run}: {seconds:.2f} s, {queries} SQL statements, {report}",
                    flush=True,
                )
            print("after: ", counts())
            print(f"target: <= {TARGET_SECONDS} s for the first run")
        finally:
            teardown_django()


if __name__ == "__main__":
    main()
