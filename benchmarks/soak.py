"""Soak test: concurrent submitters against gunicorn while the CRM misbehaves.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python benchmarks/soak.py [--seconds 60] [--clients 10]

Needs PostgreSQL (DATABASE_URL names a server; the script creates and drops
its own database, ``leadgen_soak``), the test dependencies and gunicorn
(``pip install -e ".[bench]"``). Everything listens on 127.0.0.1.

What it does:

1. migrates and seeds the demo into the fresh database;
2. starts a fake CRM (tests/fake_crm.py, a real HTTP server) that answers
   30 % of the webhook calls with a 503 and lets 5 % hang past the client's
   read timeout before storing the lead (a CRM that answers too late);
3. starts the demo under gunicorn and two ``db_worker`` task workers;
4. for ``--seconds``, ``--clients`` threads each fetch the demo's "free
   audit" form and post it with a new address, timing each POST;
5. then the CRM recovers (always 200) and the script waits until every
   delivery is delivered;
6. prints submissions/s, p50/p99 latency, server errors, leads lost (posts
   answered 303 whose lead is not in the database) and whether every lead
   reached the CRM exactly once (de-duplicated by ``webhook-id``, as the
   Standard Webhooks receiver is expected to), with the raw duplicate count
   that at-least-once delivery produced.

Targets: 0 server errors, 0 leads lost, every lead delivered exactly once.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import dj_database_url
import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fake_crm import FakeCRM  # noqa: E402

DATABASE = "leadgen_soak"
PAGE = "/free-audit/"
TOKEN_RE = re.compile(r'name="leadgen_token" value="([^"]+)"')
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recreate_database(server_url: str) -> str:
    config = dj_database_url.parse(server_url)
    admin = psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"] or "postgres",
        password=config["PASSWORD"] or None,
        dbname=config["NAME"] or "postgres",
        autocommit=True,
    )
    with admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    user = config["USER"] or "postgres"
    password = f":{config['PASSWORD']}" if config["PASSWORD"] else ""
    host = config["HOST"] or "127.0.0.1"
    return f"postgres://{user}{password}@{host}:{config['PORT'] or 5432}/{DATABASE}"


def misbehaving(rng: random.Random, state: dict):
    """The fake CRM's answer: 30 % 503, 5 % too late, the rest 200."""

    def respond(request):
        if not state["recovered"]:
            roll = rng.random()
            if roll < 0.30:
                return 503, {"Content-Type": "application/json"}, b'{"down":true}'
            if roll < 0.35:
                time.sleep(2.5)  # longer than the client's 1 s read timeout
        body = json.dumps({"id": request.webhook_id}).encode()
        return 200, {"Content-Type": "application/json"}, body

    return respond


class Submitter(threading.Thread):
    """Fetches the form and posts it with a fresh address, again and again."""

    def __init__(self, port: int, deadline: float, number: int) -> None:
        super().__init__(daemon=True)
        self.port, self.deadline, self.number = port, deadline, number
        self.latencies: list[float] = []
        self.statuses: list[int] = []
        self.accepted: list[str] = []  # addresses answered with a 303

    def run(self) -> None:
        count = 0
        while time.time() < self.deadline:
            count += 1
            email = f"soak-{self.number}-{count}@example.com"
            try:
                status, elapsed = self.submit(email)
            except OSError:
                status, elapsed = 599, 0.0
            self.statuses.append(status)
            if status == 303:
                self.latencies.append(elapsed)
                self.accepted.append(email)

    def submit(self, email: str) -> tuple[int, float]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request("GET", PAGE)
        response = connection.getresponse()
        html = response.read().decode()
        cookie = response.getheader("Set-Cookie", "").split(";")[0]
        token, csrf = TOKEN_RE.search(html), CSRF_RE.search(html)
        if not token:
            return response.status, 0.0
        # The demo's free-audit form asks for a first name too.
        fields = {"email": email, "first_name": "Soak", "leadgen_token": token.group(1)}
        if csrf:
            fields["csrfmiddlewaretoken"] = csrf.group(1)
        body = urlencode(fields)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie,
            "Referer": f"http://127.0.0.1:{self.port}{PAGE}",
        }
        started = time.perf_counter()
        connection.request("POST", PAGE, body=body, headers=headers)
        answer = connection.getresponse()
        answer.read()
        elapsed = time.perf_counter() - started
        connection.close()
        return answer.status, elapsed


def manage(env: dict, *args: str) -> None:
    subprocess.run(  # noqa: S603 -- our own manage.py, arguments from this file
        [sys.executable, str(REPO / "example_site" / "manage.py"), *args],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--recovery-timeout", type=float, default=300)
    options = parser.parse_args()
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL server (postgres://...).")

    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    state = {"recovered": False}
    crm = FakeCRM((misbehaving(random.Random(7), state),)).start()
    env = {
        **os.environ,
        "DATABASE_URL": recreate_database(server_url),
        "DJANGO_SETTINGS_MODULE": "soak_settings",
        "PYTHONPATH": os.pathsep.join(
            [str(REPO / "benchmarks"), str(REPO / "example_site"), str(REPO)]
        ),
        "SOAK_CRM_URL": crm.url,
        "SOAK_CRM_SECRET": secret,
        "DJANGO_DEBUG": "0",
    }
    print("Migrating and seeding the demo into a fresh database...", flush=True)
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo")

    port = free_port()
    bin_dir = Path(sys.executable).parent
    # Our own gunicorn and manage.py, with arguments from this file.
    processes = [
        subprocess.Popen(  # noqa: S603
            [
                str(bin_dir / "gunicorn"),
                "example_site.wsgi",
                f"--bind=127.0.0.1:{port}",
                f"--workers={options.workers}",
                "--log-level=warning",
            ],
            env=env,
        ),
        *(
            subprocess.Popen(  # noqa: S603
                [
                    sys.executable,
                    str(REPO / "example_site" / "manage.py"),
                    "db_worker",
                    "--no-reload",
                    "--interval=0.2",
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(2)
        ),
    ]
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        print(
            f"{options.clients} submitters for {options.seconds:.0f} s "
            f"(CRM: 30 % 503, 5 % hang)...",
            flush=True,
        )
        started = time.time()
        clients = [
            Submitter(port, started + options.seconds, n)
            for n in range(options.clients)
        ]
        for client in clients:
            client.start()
        for client in clients:
            client.join()
        duration = time.time() - started
        state["recovered"] = True
        print("CRM recovered; waiting for every delivery...", flush=True)
        os.environ["DATABASE_URL"] = env["DATABASE_URL"]
        pending = wait_for_deliveries(env["DATABASE_URL"], options.recovery_timeout)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)
        crm.stop()

    report(clients, duration, crm, env["DATABASE_URL"], pending)


def wait_for_deliveries(database_url: str, timeout: float) -> int:
    deadline = time.time() + timeout
    pending = -1
    with psycopg.connect(database_url, autocommit=True) as connection:
        while time.time() < deadline:
            pending = connection.execute(
                "SELECT count(*) FROM wagtail_leadgen_delivery WHERE status <> 'delivered'"
            ).fetchone()[0]
            if pending == 0:
                break
            time.sleep(1)
    return pending


def report(clients, duration, crm, database_url, pending) -> None:
    statuses = [status for client in clients for status in client.statuses]
    latencies = [value for client in clients for value in client.latencies]
    accepted = {email for client in clients for email in client.accepted}
    with psycopg.connect(database_url) as connection:
        stored = {
            row[0]
            for row in connection.execute(
                "SELECT email FROM wagtail_leadgen_lead WHERE email LIKE 'soak-%%'"
            )
        }
        submissions = dict(
            connection.execute(
                "SELECT s.id, l.email FROM wagtail_leadgen_submission s "
                "JOIN wagtail_leadgen_lead l ON l.id = s.lead_id "
                "WHERE l.email LIKE 'soak-%%'"
            ).fetchall()
        )
        deliveries = connection.execute(
            "SELECT count(*), sum(attempts) FROM wagtail_leadgen_delivery"
        ).fetchone()
    received: dict[int, set[str]] = {}
    for request in list(crm.accepted):
        submission = request.json()["data"]["submission_id"]
        received.setdefault(submission, set()).add(request.webhook_id)
    # Each soak lead's submission reached the CRM under exactly one webhook-id
    # (the demo's seeded leads are delivered too, and left out here).
    once = all(len(received.get(pk, ())) == 1 for pk in submissions)
    server_errors = sum(1 for status in statuses if status >= 500)
    print()
    print(f"submissions answered 303      {len(latencies)}")
    print(f"submissions per second        {len(latencies) / duration:.1f}")
    print(
        f"POST latency p50 / p99        {percentile(latencies, 0.5) * 1000:.0f} ms"
        f" / {percentile(latencies, 0.99) * 1000:.0f} ms"
    )
    print(f"server errors (5xx)           {server_errors}  (target 0)")
    print(f"other answers                 {sorted(set(statuses) - {303})}")
    print(f"leads lost                    {len(accepted - stored)}  (target 0)")
    print(f"deliveries / attempts         {deliveries[0]} / {deliveries[1]}")
    print(f"deliveries not delivered      {pending}  (target 0)")
    print(
        f"CRM calls accepted            {len(crm.accepted)} "
        f"({crm.duplicates} repeats of an id, de-duplicated by webhook-id)"
    )
    print(f"every lead at the CRM once    {'yes' if once else 'NO'}")
    print(
        f"mean CRM calls per delivery   {len(crm.requests) / max(1, deliveries[0]):.2f}"
    )
    if len(latencies) > 1:
        print(
            f"stddev of POST latency        {statistics.pstdev(latencies) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
