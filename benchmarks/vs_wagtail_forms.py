"""Our landing page against Wagtail's own form page, served side by side.

    .venv/bin/python benchmarks/vs_wagtail_forms.py [--rounds 3] [--seconds 10]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python benchmarks/vs_wagtail_forms.py
    .venv/bin/python benchmarks/vs_wagtail_forms.py --rounds 0 --lighthouse

In one run:

1. a throwaway database (a SQLite file in a temporary folder, or a database
   of its own beside ``DATABASE_URL``'s, dropped at the end) gets the demo's
   migrations and content (``seed_demo``: the "free audit" landing page, the
   e-book page) and a Wagtail ``AbstractEmailForm`` page (``bench_peer``)
   with the landing page's title, intro, body and fields, the consent box as
   a checkbox;
2. the SQL queries of one GET and one POST of each page, in this process
   (Django's test client, ``CaptureQueriesContext``), in a warm process;
3. one gunicorn (2 sync workers, DEBUG off, ``benchmarks/bench_settings.py``)
   serves all pages on 127.0.0.1; after a warm-up, interleaved rounds
   (A B, then B A...) of ``--seconds`` each measure GET and POST requests/s,
   p50/p99 latency and the workers' CPU time per request (``/proc``), with
   wrk (``apt-get install wrk``) or, without it, a Python load generator;
4. each POST is a valid submission: the form is fetched and filled in from
   its HTML (hidden inputs and cookies sent back, every box ticked, a new
   address each time), ours with the demo's outbox and database task queue,
   the peer's with its email to the site owner (to Django's in-memory mail
   backend); the submissions stored are counted against the answers;
5. prints a table, the headers that decide whether a shared cache may keep
   the page, and one line of ratios (ours / Wagtail's).

``--lighthouse`` then runs Lighthouse (mobile) on both pages when
``lighthouse`` is on PATH (``benchmarks/lighthouse.sh``).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(REPO / "example_site"), str(REPO)]

from form_driver import BROWSER, PreparedPost, Session, prepare_post  # noqa: E402
from lighthouse import run_lighthouse  # noqa: E402
from load import (  # noqa: E402
    Gunicorn,
    Result,
    have_wrk,
    run_python,
    run_wrk,
    wrk_post_script,
)

BUDGET_SECONDS = 15 * 60
PAGES = ("landing", "ebook", "peer")  # GET rounds
POSTED = ("landing", "peer")  # POST rounds
TITLES = {"landing": "ours: landing", "ebook": "ours: e-book", "peer": "Wagtail form"}


def throwaway_database(folder: str) -> tuple[str, str | None]:
    """The run's database URL, and the PostgreSQL database to drop after."""
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith("postgres"):
        return f"sqlite:///{folder}/bench.sqlite3", None
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(server)
    name = f"leadgen_bench_forms_{os.getpid()}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    user = config["USER"] or "postgres"
    password = f":{config['PASSWORD']}" if config["PASSWORD"] else ""
    host = f"{config['HOST'] or '127.0.0.1'}:{config['PORT'] or 5432}"
    return f"postgres://{user}{password}@{host}/{name}", name


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def seed() -> dict[str, object]:
    """Migrate, seed the demo and the peer; the pages by role."""
    from io import StringIO

    from bench_peer.seed import seed_peer
    from django.core.management import call_command
    from django.test import Client
    from form_driver import find_post_form

    from wagtail_leadgen.models import (
        EbookPage,
        Experiment,
        ExperimentStatus,
        LandingPage,
    )
    from wagtail_leadgen.services.experiments import stop_test

    call_command("migrate", verbosity=0, interactive=False)
    call_command("seed_demo", stdout=StringIO())
    call_command("collectstatic", verbosity=0, interactive=False)
    landing = LandingPage.objects.get(slug="free-audit")
    # The demo runs an A/B test on this page; the peer has none. A drawn
    # variant is a private page rendered per request (docs/ab-testing.md):
    # the comparison is of the page itself, so the test is stopped.
    for test in Experiment.objects.filter(
        page=landing, status=ExperimentStatus.RUNNING
    ):
        stop_test(test, None)
    response = Client(HTTP_HOST="127.0.0.1").get(landing.url, HTTP_USER_AGENT=BROWSER)
    if response.status_code != 200:
        raise RuntimeError(f"GET {landing.url} answered {response.status_code}")
    html = response.content.decode()
    fields = {
        item.name: (
            item.label or item.name,
            {"email": "email", "checkbox": "checkbox"}.get(item.type, "singleline"),
            item.required,
        )
        for item in find_post_form(html).visible()
    }
    peer = seed_peer(landing, fields)
    return {
        "landing": landing,
        "ebook": EbookPage.objects.get(slug="lead-generation-guide"),
        "peer": peer,
    }


def stored_submissions(role: str, page) -> int:
    if role == "peer":
        from wagtail.contrib.forms.models import FormSubmission

        return FormSubmission.objects.filter(page=page).count()
    from wagtail_leadgen.models import Submission

    return Submission.objects.filter(page=page).count()


def count_queries(path: str, post: bool, tries: int = 5) -> int:
    """SQL queries of one anonymous GET (or one valid POST) of ``path`` in this
    process, median of ``tries`` after a warm-up."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    counts = []
    for attempt in range(tries + 1):
        client = Client(
            enforce_csrf_checks=True, HTTP_USER_AGENT=BROWSER, HTTP_HOST="127.0.0.1"
        )

        def fetch(method, url, body, client=client):
            response = client.generic(
                method,
                url,
                body or b"",
                content_type="application/x-www-form-urlencoded",
            )
            return response.status_code, list(response.items()), response.content

        prepared = prepare_post(fetch, path) if post else None
        with CaptureQueriesContext(connection) as queries:
            if prepared is None:
                status, _headers, _body = fetch("GET", path, None)
            else:
                body = prepared.body(f"inproc-{secrets.token_hex(6)}@example.com")
                status, _headers, _body = fetch("POST", prepared.action, body.encode())
        if status >= 400:
            raise RuntimeError(f"{'POST' if post else 'GET'} {path} answered {status}")
        if attempt:
            counts.append(len(queries.captured_queries))
    return round(statistics.median(counts))


def cacheability(session: Session, path: str) -> tuple[dict[str, str], int, bool]:
    """The headers that decide whether a shared cache may keep the page, its
    size, and the verdict."""
    status, headers, body = session.fetch("GET", path)
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}")
    found: dict[str, str] = {}
    for name, value in headers:
        key = name.title()
        if key == "Set-Cookie":
            value = value.split("=")[0]
        if key in ("Set-Cookie", "Vary", "Cache-Control"):
            found[key] = f"{found[key]}, {value}" if key in found else value
    control = found.get("Cache-Control", "").lower().replace(" ", "")
    directives = dict(
        (part.split("=", 1) + [""])[:2] for part in control.split(",") if part
    )
    fresh = any(
        directives.get(key, "0").isdigit() and int(directives.get(key, "0")) > 0
        for key in ("s-maxage", "max-age")
    )
    cacheable = (
        "Set-Cookie" not in found
        and "cookie" not in found.get("Vary", "").lower()
        and fresh
        and not {"private", "no-store", "no-cache"} & directives.keys()
    )
    return found, len(body), cacheable


def prepare_pool(port: int, path: str, size: int) -> list[tuple[PreparedPost, str]]:
    """``size`` visitors' filled-in forms, each with its own cookies."""
    pool = []
    for _ in range(size):
        session = Session(port)
        prepared = prepare_post(session.fetch, path)
        pool.append((prepared, session.cookie_header()))
    return pool


def measure(server: Gunicorn, path: str, post: bool, args, folder: str) -> Result:
    """One round of GETs or POSTs on ``path``, with the workers' CPU time."""
    url = f"http://127.0.0.1:{server.port}{path}"
    pool = prepare_pool(server.port, path, args.connections) if post else []
    run = secrets.token_hex(4)
    cpu_before = server.cpu_seconds()
    if have_wrk() and not args.python_load:
        script = None
        if post:
            script = wrk_post_script(pool, run, f"http://127.0.0.1:{server.port}")
        result = run_wrk(
            url, args.seconds, args.connections, script=script, folder=folder
        )
    else:

        def make(thread: int, count: int):
            headers = {"User-Agent": BROWSER, "Accept": "text/html"}
            if not post:
                return "GET", path, None, headers
            prepared, cookie = pool[(thread + count) % len(pool)]
            headers |= {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": cookie,
                "Origin": f"http://127.0.0.1:{server.port}",
            }
            email = f"bench-{run}-{thread}-{count}@example.com"
            return "POST", prepared.action, prepared.body(email), headers

        result = run_python(server.port, args.seconds, args.connections, make)
    result.cpu_seconds = server.cpu_seconds() - cpu_before
    return result


def warm_up(server: Gunicorn, paths: dict[str, str], args, folder: str) -> None:
    for role, path in paths.items():
        quick = argparse.Namespace(**{**vars(args), "seconds": 2})
        measure(server, path, False, quick, folder)
        if role in POSTED:
            measure(server, path, True, quick, folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="0: no load rounds")
    parser.add_argument("--seconds", type=float, default=10, help="per page per round")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument(
        "--python-load", action="store_true", help="the Python load generator, not wrk"
    )
    parser.add_argument("--lighthouse", action="store_true", help="then Lighthouse")
    parser.add_argument(
        "--lighthouse-reports",
        metavar="DIR",
        help="keep Lighthouse's JSON reports here",
    )
    parser.add_argument(
        "--lighthouse-runs",
        type=int,
        default=5,
        metavar="N",
        help="interleaved Lighthouse runs per page, medians printed (default 5)",
    )
    args = parser.parse_args()
    planned = args.rounds * (len(PAGES) + len(POSTED)) * args.seconds
    if planned + 60 > BUDGET_SECONDS:
        sys.exit(
            f"{planned:.0f} s of load is over the {BUDGET_SECONDS // 60} min budget"
        )
    if not have_wrk() or args.python_load:
        print(
            "wrk is not installed (apt-get install wrk) or --python-load: using the "
            "Python load generator, which saturates sooner; compare ratios only.",
            flush=True,
        )
    with tempfile.TemporaryDirectory(prefix="leadgen-vs-wagtail-") as folder:
        database_url, to_drop = throwaway_database(folder)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench_settings",
            "BENCH_DATABASE_URL": database_url,
            "BENCH_STATIC_ROOT": f"{folder}/static",
            "BENCH_MEDIA_ROOT": f"{folder}/media",
            "DJANGO_DEBUG": "0",
            "PYTHONPATH": os.pathsep.join(sys.path[:3]),
        }
        os.environ.update({k: env[k] for k in env if k.startswith(("BENCH", "DJANGO"))})
        try:
            run(args, env, folder, database_url)
        finally:
            from django.db import connections

            connections.close_all()
            if to_drop:
                drop_database(to_drop)


def run(args, env: dict[str, str], folder: str, database_url: str) -> None:
    import django

    django.setup()
    engine = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    print(f"Seeding the demo and the peer page ({engine})...", flush=True)
    pages = seed()
    paths = {role: page.url for role, page in pages.items()}
    queries = {
        role: (
            count_queries(path, False),
            count_queries(path, True) if role in POSTED else None,
        )
        for role, path in paths.items()
    }
    from django.db import connections

    connections.close_all()
    server = Gunicorn(env, args.workers).start()
    results: dict[tuple[str, str], list[Result]] = {}
    stored: dict[str, list[int]] = {role: [] for role in POSTED}
    try:
        headers = {
            role: cacheability(Session(server.port), path)
            for role, path in paths.items()
        }
        if args.rounds:
            print("Warming up...", flush=True)
            warm_up(server, paths, args, folder)
        started = time.time()
        for number in range(args.rounds):
            order = list(PAGES) if number % 2 == 0 else list(reversed(PAGES))
            for kind in ("GET", "POST"):
                for role in order:
                    if kind == "POST" and role not in POSTED:
                        continue
                    before = (
                        stored_submissions(role, pages[role]) if kind == "POST" else 0
                    )
                    result = measure(server, paths[role], kind == "POST", args, folder)
                    results.setdefault((role, kind), []).append(result)
                    if kind == "POST":
                        stored[role].append(
                            stored_submissions(role, pages[role]) - before
                        )
            print(f"round {number + 1}/{args.rounds} done", flush=True)
        elapsed = time.time() - started
        rss = server.peak_rss_mib()
        if args.lighthouse:
            run_lighthouse(
                server.port,
                {TITLES[role]: paths[role] for role in ("landing", "peer")},
                folder,
                args.lighthouse_reports,
                args.lighthouse_runs,
            )
    finally:
        server.stop()
    if args.rounds:
        report(args, engine, results, queries, headers, stored, rss, elapsed)
    else:
        report_static(queries, headers)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report_static(queries, headers) -> None:
    for role in PAGES:
        found, size, cacheable = headers[role]
        get, post = queries[role]
        print(
            f"{TITLES[role]:<15} queries GET {get} POST {post if post is not None else '-'}"
            f"  HTML {size} B  cacheable={'yes' if cacheable else 'no'}  {found}"
        )


def report(args, engine, results, queries, headers, stored, rss, elapsed) -> None:
    def cell(role: str, kind: str, attribute: str) -> str:
        values = [
            getattr(result, attribute) for result in results.get((role, kind), [])
        ]
        return f"{_median(values):.1f}" if values else "-"

    rows = [
        ("GET requests/s", lambda role: cell(role, "GET", "rate")),
        ("GET p50 ms", lambda role: cell(role, "GET", "p50_ms")),
        ("GET p99 ms", lambda role: cell(role, "GET", "p99_ms")),
        ("GET server CPU ms/request", lambda role: cell(role, "GET", "cpu_ms")),
        ("POST requests/s", lambda role: cell(role, "POST", "rate")),
        ("POST p50 ms", lambda role: cell(role, "POST", "p50_ms")),
        ("POST p99 ms", lambda role: cell(role, "POST", "p99_ms")),
        ("POST server CPU ms/request", lambda role: cell(role, "POST", "cpu_ms")),
        ("SQL queries per GET", lambda role: str(queries[role][0])),
        (
            "SQL queries per POST",
            lambda role: str(queries[role][1]) if queries[role][1] is not None else "-",
        ),
        ("HTML bytes", lambda role: str(headers[role][1])),
        (
            "cacheable by a shared cache",
            lambda role: "yes" if headers[role][2] else "no",
        ),
        (
            "errors (non-2xx/3xx, socket)",
            lambda role: str(
                sum(
                    r.errors
                    for kind in ("GET", "POST")
                    for r in results.get((role, kind), [])
                )
            ),
        ),
        (
            "POSTs answered / stored",
            lambda role: (
                f"{sum(r.requests for r in results[(role, 'POST')])} / {sum(stored[role])}"
                if role in stored
                else "-"
            ),
        ),
    ]
    tool = "wrk" if have_wrk() and not args.python_load else "Python load generator"
    print()
    print(
        f"{engine}, gunicorn {args.workers} sync workers, {tool} -c{args.connections}, "
        f"{args.rounds} interleaved rounds x {args.seconds:.0f} s (medians), {elapsed:.0f} s"
    )
    print(f"{'':<30}" + "".join(f"{TITLES[role]:>16}" for role in PAGES))
    for title, value in rows:
        print(f"{title:<30}" + "".join(f"{value(role):>16}" for role in PAGES))
    print(f"{'worker peak RSS (one server)':<30}{rss:>16.1f} MiB")
    print()
    for role in PAGES:
        print(f"{TITLES[role]:<15} {headers[role][0] or '{}'}")

    def ratio(kind: str) -> float:
        ours = _median([r.rate for r in results[("landing", kind)]])
        peer = _median([r.rate for r in results[("peer", kind)]])
        return ours / peer if peer else float("nan")

    print()
    print(
        f"GET {ratio('GET'):.2f}× POST {ratio('POST'):.2f}× "
        f"queries GET {queries['landing'][0]}/{queries['peer'][0]} "
        f"POST {queries['landing'][1]}/{queries['peer'][1]} "
        f"cacheable={'yes' if headers['landing'][2] else 'no'}"
    )


if __name__ == "__main__":
    try:
        main()
    except subprocess.CalledProcessError as error:
        sys.exit(f"{error.cmd[0]} failed: {error.stderr or error}")
