"""Lighthouse (mobile, simulated throttling) on pages served on 127.0.0.1:
the four category scores, LCP, and the audits that cost points.

Needs ``lighthouse`` on PATH (npm's ``lighthouse`` package, e.g.
``npm install --prefix /tmp/lh lighthouse`` then ``PATH=/tmp/lh/node_modules/.bin:$PATH``)
and Debian's chromium (``CHROME_PATH``, /usr/bin/chromium by default).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
from pathlib import Path

CHROME_FLAGS = " ".join(
    [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
)
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


def run_lighthouse(
    port: int,
    pages: dict[str, str],
    folder: str,
    reports: str | None = None,
    runs: int = 5,
) -> None:
    """Print the scores of each page (title: path), medians of ``runs``
    interleaved runs (A B B A ...: drift hits every page alike; one run's
    simulated LCP swings by a few hundred ms on a shared machine); keep the
    last JSON reports in the folder ``reports`` if given."""
    binary = shutil.which("lighthouse")
    if binary is None:
        print(
            "\nLighthouse: `lighthouse` is not on PATH, skipped "
            "(npm install --prefix /tmp/lh lighthouse; PATH=/tmp/lh/node_modules/.bin:$PATH)."
        )
        return
    env = {
        **os.environ,
        "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium"),
    }
    results: dict[str, list[dict]] = {title: [] for title in pages}
    for run in range(runs):
        order = list(pages.items())
        for title, path in order if run % 2 == 0 else reversed(order):
            slug = "".join(c if c.isalnum() else "-" for c in title.lower())
            output = Path(reports or folder) / f"lighthouse-{slug}.json"
            report = _one_run(binary, env, f"http://127.0.0.1:{port}{path}", output)
            if report is None:
                print(f"{title:<24}lighthouse failed")
            else:
                results[title].append(report)
    print(f"\nLighthouse (mobile), medians of {runs} interleaved runs")
    print(f"{'':<24}  perf  a11y  best   seo  LCP ms (min-max)")
    for title, reports_of_page in results.items():
        if not reports_of_page:
            continue
        scores = [
            statistics.median(report["scores"][index] for report in reports_of_page)
            for index in range(len(CATEGORIES))
        ]
        lcps = [report["lcp"] for report in reports_of_page]
        print(
            f"{title:<24}"
            + "".join(f"{score:>6.0f}" for score in scores)
            + f"  {statistics.median(lcps):>6.0f} ({min(lcps):.0f}-{max(lcps):.0f})"
        )
    for title, reports_of_page in results.items():
        lost = sorted({audit for report in reports_of_page for audit in report["lost"]})
        print(f"{title}: points lost (any run) on " + ("; ".join(lost) or "nothing"))


def _one_run(binary: str, env: dict, url: str, output: Path) -> dict | None:
    """One Lighthouse run: scores, LCP and the audits that lost points."""
    command = [
        binary,
        url,
        "--quiet",
        "--output=json",
        f"--output-path={output}",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={CHROME_FLAGS}",
    ]
    # Headless chromium sometimes loses the trace (NO_NAVSTART): retry.
    for _attempt in range(3):
        done = subprocess.run(  # noqa: S603 -- the lighthouse on PATH, our arguments
            command, env=env, capture_output=True, text=True
        )
        if done.returncode == 0:
            break
    else:
        return None
    report = json.loads(output.read_text())
    return {
        "scores": [
            round(100 * (report["categories"][name]["score"] or 0))
            for name in CATEGORIES
        ],
        "lcp": report["audits"]["largest-contentful-paint"]["numericValue"],
        "lost": {
            f"{name}: {audit['id']} ({audit['title']})"
            for name, category in report["categories"].items()
            for ref in category["auditRefs"]
            if ref["weight"] > 0
            for audit in [report["audits"][ref["id"]]]
            if audit["score"] is not None and audit["score"] < 1
        },
    }
