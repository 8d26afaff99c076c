"""The view counter's cost: queries added to a page render, and time per counted view.

    .venv/bin/python benchmarks/view_counter.py [-n 1000]
        [--database-url postgres://postgres@127.0.0.1:5432/postgres]

Uses the same throwaway database as ``benchmarks/dashboard.py`` (a temporary
SQLite file by default, in autocommit mode as a site runs), with one landing
page, and measures:

1. the SQL queries of an anonymous visitor's GET of the landing page with the
   counter off (``WAGTAIL_LEADGEN["COUNT_PAGE_VIEWS"] = False``), on, and for
   a bot (target: the counter adds at most one query);
2. the time of ``count_page_view`` alone (one upsert), median over ``-n`` calls;
3. the median time of the page GET with and without the counter, interleaved.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from dashboard import QueryLog, setup_django, teardown_django

BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--views", type=int, default=1000)
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
    from django.conf import settings
    from django.db import connection
    from django.test import Client, RequestFactory, override_settings

    from tests.factories import make_landing_page
    from wagtail_leadgen.models import PageViewDay
    from wagtail_leadgen.services.tracking import count_page_view

    page = make_landing_page()
    url = page.url
    counting_off = override_settings(
        WAGTAIL_LEADGEN={**settings.WAGTAIL_LEADGEN, "COUNT_PAGE_VIEWS": False}
    )

    def get(user_agent: str = BROWSER) -> tuple[float, list]:
        client = Client(HTTP_USER_AGENT=user_agent)  # a new visitor: no cookie
        log = QueryLog()
        with connection.execute_wrapper(log):
            started = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.status_code
        return elapsed * 1000, log.statements

    get()  # warm up: URL resolution, site root paths, templates
    with counting_off:
        _ms, without = get()
    _ms, counted = get()
    _ms, bot = get("Mozilla/5.0 (compatible; Googlebot/2.1)")
    extra = [sql for _ms, sql in counted if "pageviewday" in sql]

    request = RequestFactory().get("/", HTTP_USER_AGENT=BROWSER)
    upserts = []
    for _ in range(args.views):
        started = time.perf_counter()
        count_page_view(request, page)
        upserts.append((time.perf_counter() - started) * 1000)

    with_counter, without_counter = [], []
    for _ in range(max(50, args.views // 10)):
        with counting_off:
            without_counter.append(get()[0])
        with_counter.append(get()[0])
    views = PageViewDay.objects.get(page=page).views

    if connection.vendor == "sqlite":
        vendor = f"SQLite {connection.Database.sqlite_version} (file, autocommit)"
    else:
        version = ".".join(map(str, connection.get_database_version()))
        vendor = f"{connection.display_name} {version}"
    print(f"\nLanding page GET by an anonymous visitor; {vendor}")
    print(f"  queries with the counter off: {len(without)}")
    print(
        f"  queries with the counter on:  {len(counted)} "
        f"(+{len(counted) - len(without)}; target: at most +1)"
    )
    print(f"  queries for a bot (not counted): {len(bot)}")
    print(f"  the added query: {extra[0] if extra else '(none)'}")
    print(
        f"\ncount_page_view alone, {args.views} calls: median "
        f"{statistics.median(upserts):.3f} ms, p95 "
        f"{sorted(upserts)[int(0.95 * (len(upserts) - 1))]:.3f} ms"
    )
    print(
        f"page GET, {len(with_counter)} each, interleaved: median "
        f"{statistics.median(without_counter):.2f} ms without the counter, "
        f"{statistics.median(with_counter):.2f} ms with it"
    )
    print(f"(views counted in all: {views})")
    print(
        "\nRerun: .venv/bin/python benchmarks/view_counter.py [-n 1000] "
        "[--database-url postgres://postgres@127.0.0.1:5432/postgres]"
    )


if __name__ == "__main__":
    main()
