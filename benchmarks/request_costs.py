"""What one request costs in process: SQL queries and milliseconds per landing
GET, e-book GET and submission POST.

    .venv/bin/python benchmarks/request_costs.py [-n 200] [--profile]
        [--database-url postgres://postgres@127.0.0.1:5432/postgres]

Runs the test suite's settings on a throwaway database (``throwaway_db.py``)
with what a real site has on: the outbox (two CRM destinations), the
database task queue (django-tasks-db) with no worker, and lead scoring.
It builds a landing page and an e-book page, each with a request processing,
two consent purposes, a thank-you page and a complete controller, then, with
Django's test client (no HTTP server, no network):

- GET of each page by a new anonymous visitor, counted as a view, and of the
  landing page by a crawler (not counted: the cost with view counting off);
- POST of the landing page's form (both boxes ticked, a new address each time),
  to the page itself and to the form endpoint ``/leadgen/forms/<id>/`` with
  the site's own ``Origin``, where shared (cacheable) pages post.

It prints the SQL queries of one warm request of each kind (and, with
``--verbose``, the statements themselves), then the median and p95 in ms over
``-n`` requests, interleaved. ``--profile`` prints a cProfile top 25
(cumulative) for one warm request of each kind. Figures are for comparing
before and after a change on the same machine, not targets: the query
counts are pinned by tests (``tests/test_request_costs.py``).
"""

from __future__ import annotations

import argparse
import cProfile
import html
import io
import pstats
import re
import statistics
import tempfile
import time

from throwaway_db import setup_django, teardown_django

# Not counted (``EXCLUDED_USER_AGENTS``): the view-counting-off figure without
# switching the setting between requests (which would drop cached forms).
CRAWLER = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
TOKEN = re.compile(r'name="leadgen_token" value="([^"]+)"')
TOKEN_URL = re.compile(r'data-leadgen-token-url="([^"]+)"')


def configure() -> None:
    """The database task queue and two destinations, for the whole run
    (through ``override_settings``, so that cached backends are reset)."""
    from django.conf import settings
    from django.test import override_settings

    override_settings(
        TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}},
        WAGTAIL_LEADGEN={
            **settings.WAGTAIL_LEADGEN,
            "CRM_BACKENDS": {
                "locmem": {"BACKEND": "wagtail_leadgen.crm.locmem.LocmemBackend"},
                "database": {"BACKEND": "wagtail_leadgen.crm.database.DatabaseBackend"},
            },
            "FORM_MIN_FILL_SECONDS": 0,
            "RATE_LIMIT_SUBMISSIONS": 10**9,
        },
    ).enable()


def build_pages():
    from tests.factories import (
        make_ebook_page,
        make_landing_page,
        make_purpose,
        set_controller,
    )

    set_controller(
        controller_name="Example SAS",
        controller_address="1 rue de la Paix, Paris",
        contact_email="privacy@example.com",
        dpo_email="dpo@example.com",
    )
    purposes = [
        make_purpose(name="Newsletter"),
        make_purpose(name="Partner offers"),
    ]
    landing = make_landing_page(purposes=purposes)
    ebook = make_ebook_page(purposes=purposes)
    return landing, ebook, purposes


class Requests:
    """The three requests measured, each a new anonymous visitor."""

    def __init__(self, landing, ebook, purposes) -> None:
        from django.urls import reverse

        self.landing_url = landing.url
        self.endpoint_url = reverse("wagtail_leadgen:form_submit", args=[landing.pk])
        self.ebook_url = ebook.url
        self.purposes = purposes
        self.sent = 0
        self.next_token = ""

    def client(self, user_agent: str = BROWSER):
        from django.test import Client

        return Client(HTTP_USER_AGENT=user_agent)

    def get(self, url: str, user_agent: str = BROWSER) -> None:
        response = self.client(user_agent).get(url)
        assert response.status_code == 200, response.status_code
        markup = response.content.decode()
        self.next_token = html.unescape(TOKEN.search(markup).group(1))
        token_url = TOKEN_URL.search(markup)
        self.next_token_url = html.unescape(token_url.group(1)) if token_url else None

    def landing_get(self) -> None:
        self.get(self.landing_url)

    def landing_get_uncounted(self) -> None:
        self.get(self.landing_url, CRAWLER)

    def ebook_get(self) -> None:
        self.get(self.ebook_url)

    def prepare_post(self) -> None:
        """The GET a visitor makes first (not measured): a fresh form token."""
        self.landing_get()

    def prepare_endpoint_post(self) -> None:
        """The GET and the token swap the form's script makes (not measured)."""
        self.landing_get()
        if self.next_token_url:
            response = self.client().get(self.next_token_url, {"t": self.next_token})
            assert response.status_code == 200, response.content
            self.next_token = response.json()["token"]

    def post(self) -> None:
        self._post(self.landing_url)

    def endpoint_post(self) -> None:
        self._post(self.endpoint_url, HTTP_ORIGIN="http://testserver")

    def _post(self, url: str, **headers: str) -> None:
        self.sent += 1
        data = {
            "leadgen_token": self.next_token,
            "leadgen_hp": "",
            "email": f"visitor-{self.sent}@example.com",
            **{f"consent_{purpose.pk}": "yes" for purpose in self.purposes},
        }
        response = self.client().post(url, data, **headers)
        assert response.status_code == 303, (response.status_code, response.content)


def queries_of(function, prepare=None) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if prepare:
        prepare()
    with CaptureQueriesContext(connection) as captured:
        function()
    return [query["sql"] for query in captured.captured_queries]


def profile(label: str, function, prepare=None) -> None:
    if prepare:
        prepare()
    profiler = cProfile.Profile()
    profiler.enable()
    function()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
    print(f"\n--- cProfile, one {label} (top 25, cumulative) ---")
    print(out.getvalue())


def run(args) -> None:
    from django.db import connection

    requests = Requests(*build_pages())
    kinds = [
        ("landing GET, counted", requests.landing_get, None),
        ("landing GET, not counted", requests.landing_get_uncounted, None),
        ("e-book GET, counted", requests.ebook_get, None),
        ("submission POST", requests.post, requests.prepare_post),
        (
            "POST to /leadgen/forms/",
            requests.endpoint_post,
            requests.prepare_endpoint_post,
        ),
    ]
    for _label, function, prepare in kinds * 3:  # warm up
        if prepare:
            prepare()
        function()

    if connection.vendor == "sqlite":
        vendor = f"SQLite {connection.Database.sqlite_version}"
    else:
        version = ".".join(map(str, connection.get_database_version()))
        vendor = f"{connection.display_name} {version}"
    print(
        f"\n{vendor}; outbox: 2 destinations; task queue: django-tasks-db "
        "(no worker); 2 purposes ticked"
    )
    print(f"{'request':<28}{'queries':>8}{'median ms':>11}{'p95 ms':>9}")
    times: dict[str, list[float]] = {label: [] for label, *_ in kinds}
    for _ in range(args.requests):
        for label, function, prepare in kinds:
            if prepare:
                prepare()
            started = time.perf_counter()
            function()
            times[label].append((time.perf_counter() - started) * 1000)
    for label, function, prepare in kinds:
        statements = queries_of(function, prepare)
        ordered = sorted(times[label])
        p95 = ordered[int(0.95 * (len(ordered) - 1))]
        print(
            f"{label:<28}{len(statements):>8}"
            f"{statistics.median(ordered):>11.2f}{p95:>9.2f}"
        )
        if args.verbose:
            for sql in statements:
                print(f"    {sql[:160]}")
    if args.profile:
        for label, function, prepare in kinds:
            profile(label, function, prepare)
    print(
        "\nRerun: .venv/bin/python benchmarks/request_costs.py [-n 200] "
        "[--verbose] [--profile] [--database-url postgres://...]"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--requests", type=int, default=200)
    parser.add_argument("--verbose", action="store_true", help="print each query")
    parser.add_argument("--profile", action="store_true", help="cProfile top 25")
    parser.add_argument(
        "--database-url",
        help="run on this server's database instead of a temporary SQLite file",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="leadgen-bench-") as folder:
        setup_django(
            args.database_url, folder, name="leadgen_request_costs", configure=configure
        )
        try:
            run(args)
        finally:
            teardown_django()


if __name__ == "__main__":
    main()
