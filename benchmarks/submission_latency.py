"""Submission latency with and without a slow CRM: the page never waits on it.

    .venv/bin/python benchmarks/submission_latency.py [-n 200] [--with-worker]

Runs the demo's settings on a throwaway SQLite database (migrated and seeded
in a temporary folder) and posts the demo's "free audit" form through Django's
test client, timing each POST (the GET that fetches the form is not timed).
Two configurations, interleaved submission by submission so that both see
the same machine and the same database size:

1. ``database`` destination only (the demo's default);
2. the same plus a ``webhook`` destination pointing at a local HTTP server
   that sleeps 2 s before answering each request.

Both use the demo's task queue (django-tasks-db) with no worker running, so
the webhook is never called during the timed part: a submission writes its
rows and enqueues the deliveries, nothing more. The script prints p50/p95 for
each configuration, their ratio (target: about 1.0), SQL queries per
submission, and how many requests the slow server received (0 expected).

``--with-worker`` adds a phase: the same submissions with a real
``db_worker`` process running beside them against the same SQLite file,
busy delivering the webhooks of the first two phases to the slow server.

``--immediate N`` (default 3) times N more submissions with the webhook and
django-tasks' ``ImmediateBackend``, which is what a site gets when it leaves
``TASKS`` unset: the task then runs inside the request, after the commit, and
the visitor waits for the CRM. It shows what the queue saves.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_SITE = REPO / "example_site"
PAGE_URL = "/free-audit/"
HOST = "127.0.0.1"
CRM_DELAY = 2.0


# -- The slow CRM ------------------------------------------------------------
class SlowCRM:
    """A webhook receiver on 127.0.0.1 that sleeps before each answer."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.received = 0
        lock = threading.Lock()
        crm = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # noqa: A002
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    crm.received += 1
                time.sleep(crm.delay)
                body = json.dumps({"id": self.headers.get("webhook-id", "")}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{HOST}:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- Django -------------------------------------------------------------------
def setup_django(db_path: Path) -> None:
    os.environ["DEMO_DB_PATH"] = str(db_path)
    os.environ["DJANGO_SETTINGS_MODULE"] = "example_site.settings"
    # The two configurations are set below, not from the environment.
    os.environ.pop("LEADGEN_WEBHOOK_URL", None)
    sys.path[:0] = [str(EXAMPLE_SITE), str(REPO)]
    import django

    django.setup()
    from django.core.management import call_command

    with open(os.devnull, "w") as devnull:
        call_command("migrate", verbosity=0, stdout=devnull)
        call_command("seed_demo", stdout=devnull)


def leadgen_settings(crm_backends: dict) -> dict:
    from django.conf import settings

    return {
        **settings.WAGTAIL_LEADGEN,
        "CRM_BACKENDS": crm_backends,
        # Timing is not what is measured here; nor is the per-IP rate limit.
        "FORM_MIN_FILL_SECONDS": 0,
        "RATE_LIMIT_SUBMISSIONS": 10**9,
    }


def webhook_backend(url: str, secret: str) -> dict:
    return {
        "BACKEND": "wagtail_leadgen.crm.webhook.WebhookBackend",
        "OPTIONS": {
            "URL": url,
            "SECRET": secret,
            "ALLOW_HTTP": True,
            "ALLOW_PRIVATE_ADDRESSES": True,
        },
    }


class Submitter:
    """Posts the form as a browser would; times the POST and counts its queries."""

    def __init__(self) -> None:
        from django.test import Client

        self.client = Client(HTTP_HOST=f"{HOST}:8000")
        self.count = 0

    def submit(self) -> tuple[float, int]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        page = self.client.get(PAGE_URL)
        if page.status_code != 200:
            raise SystemExit(f"GET {PAGE_URL} answered {page.status_code}")
        token = re.search(
            r'name="leadgen_token" value="([^"]+)"', page.content.decode()
        ).group(1)
        self.count += 1
        data = {
            "leadgen_token": token,
            "leadgen_hp": "",
            "email": f"bench-{self.count}@example.com",
            "first_name": "Ann",
            "company": "Acme",
            "consent_2": "on",
        }
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = self.client.post(PAGE_URL, data)
            elapsed = time.perf_counter() - started
        if response.status_code != 303:
            raise SystemExit(
                f"POST {PAGE_URL} answered {response.status_code}, not 303: "
                "the form did not accept the submission"
            )
        return elapsed, len(queries)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary(times: list[float]) -> tuple[float, float, float]:
    return (
        percentile(times, 0.50) * 1000,
        percentile(times, 0.95) * 1000,
        statistics.fmean(times) * 1000,
    )


def run_interleaved(submitter, configurations, rounds: int, tasks=None):
    """Time ``rounds`` submissions per configuration, alternating between them."""
    from django.conf import settings
    from django.test import override_settings

    times = {label: [] for label, _ in configurations}
    queries = {label: [] for label, _ in configurations}
    for _ in range(rounds):
        for label, crm_backends in configurations:
            with override_settings(
                WAGTAIL_LEADGEN=leadgen_settings(crm_backends),
                TASKS=tasks or settings.TASKS,
            ):
                elapsed, count = submitter.submit()
            times[label].append(elapsed)
            queries[label].append(count)
    return times, queries


def start_worker(db_path: Path, crm: SlowCRM, secret: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DEMO_DB_PATH": str(db_path),
        "LEADGEN_WEBHOOK_URL": crm.url,
        "LEADGEN_WEBHOOK_SECRET": secret,
    }
    return subprocess.Popen(  # noqa: S603 -- this interpreter, fixed arguments
        [
            sys.executable,
            str(EXAMPLE_SITE / "manage.py"),
            "db_worker",
            "--no-reload",
            "--no-startup-delay",
            "--interval=0.1",
            "-v0",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "-n",
        "--submissions",
        type=int,
        default=200,
        help="submissions per configuration (200)",
    )
    parser.add_argument(
        "--warmup", type=int, default=20, help="untimed submissions first (20)"
    )
    parser.add_argument(
        "--with-worker",
        action="store_true",
        help="also time submissions while a db_worker delivers to the slow CRM",
    )
    parser.add_argument(
        "--immediate",
        type=int,
        default=3,
        metavar="N",
        help="also time N submissions with no task queue (ImmediateBackend) (3)",
    )
    args = parser.parse_args()

    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    crm = SlowCRM(CRM_DELAY)
    with tempfile.TemporaryDirectory(prefix="leadgen-bench-") as folder:
        db_path = Path(folder) / "db.sqlite3"
        print(f"Setting up a throwaway demo database in {folder} ...", flush=True)
        setup_django(db_path)
        from django.conf import settings

        database = {"database": settings.WAGTAIL_LEADGEN["CRM_BACKENDS"]["database"]}
        with_webhook = {**database, "webhook": webhook_backend(crm.url, secret)}
        configurations = [
            ("database only", database),
            (f"database + webhook (CRM sleeps {CRM_DELAY:g} s)", with_webhook),
        ]
        submitter = Submitter()
        run_interleaved(submitter, configurations[:1], args.warmup)

        print(
            f"Timing {args.submissions} submissions per configuration, interleaved; "
            f"task queue: {settings.TASKS['default']['BACKEND']}, no worker running.",
            flush=True,
        )
        started = time.perf_counter()
        times, queries = run_interleaved(submitter, configurations, args.submissions)
        wall = time.perf_counter() - started
        received_during_run = crm.received

        from wagtail_leadgen.models import Delivery

        pending_webhooks = Delivery.objects.filter(
            backend_alias="webhook", status="pending"
        ).count()

        rows = [
            (label, *summary(times[label]), statistics.fmean(queries[label]))
            for label, _ in configurations
        ]
        if args.with_worker:
            worker = start_worker(db_path, crm, secret)
            time.sleep(1.0)  # let it start and take its first tasks
            label = "  ... with a db_worker delivering to it"
            worker_times, worker_queries = run_interleaved(
                submitter, [(label, with_webhook)], args.submissions
            )
            delivered_by_worker = crm.received - received_during_run
            worker.terminate()
            _, worker_errors = worker.communicate(timeout=30)
            rows.append(
                (
                    label,
                    *summary(worker_times[label]),
                    statistics.fmean(worker_queries[label]),
                )
            )
        if args.immediate:
            label = "  ... with no queue (TASKS unset: ImmediateBackend)"
            immediate = {
                "default": {
                    "BACKEND": "django_tasks.backends.immediate.ImmediateBackend"
                }
            }
            immediate_times, immediate_queries = run_interleaved(
                submitter, [(label, with_webhook)], args.immediate, tasks=immediate
            )
            rows.append(
                (
                    label,
                    *summary(immediate_times[label]),
                    statistics.fmean(immediate_queries[label]),
                )
            )
        crm.close()

    width = max(len(row[0]) for row in rows)

    def line(label, p50, p95, mean, query_count):
        print(
            f"{label:<{width}}  {p50:8.1f}  {p95:8.1f}  {mean:8.1f}  {query_count:8.1f}"
        )

    print()
    print(
        f"{'configuration':<{width}}  {'p50 ms':>8}  {'p95 ms':>8}  {'mean ms':>8}  {'queries':>8}"
    )
    line(*rows[0])
    line(*rows[1])
    (_, p50_a, p95_a, mean_a, _), (_, p50_b, p95_b, mean_b, _) = rows[:2]
    print(
        f"{'ratio (webhook / database only)':<{width}}  {p50_b / p50_a:8.2f}  "
        f"{p95_b / p95_a:8.2f}  {mean_b / mean_a:8.2f}"
    )
    if rows[2:]:
        print("for comparison:")
        for row in rows[2:]:
            line(*row)
    print()
    print(
        f"{2 * args.submissions} timed submissions in {wall:.1f} s; the slow CRM "
        f"received {received_during_run} requests during them; {pending_webhooks} "
        "webhook deliveries were left pending for a worker."
    )
    if args.with_worker:
        print(
            f"With the worker: it delivered {delivered_by_worker} webhooks "
            f"({CRM_DELAY:g} s each) while the submissions above were timed."
        )
        if worker_errors.strip():
            print("The worker's stderr:\n" + worker_errors.strip()[-2000:])
    print()
    print(
        "Rerun: .venv/bin/python benchmarks/submission_latency.py "
        "[-n 200] [--with-worker] [--immediate 3]"
    )


if __name__ == "__main__":
    main()
