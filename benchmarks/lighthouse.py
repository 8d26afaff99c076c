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
    port: int, pages: dict[str, str], folder: str, reports: str | None = None
) -> None:
    """Print the scores of each page (title: path); keep the JSON reports in
    the folder ``reports`` if given."""
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
    print("\nLighthouse (mobile)       perf  a11y  best   seo     LCP")
    failures = {}
    for title, path in pages.items():
        slug = "".join(c if c.isalnum() else "-" for c in title.lower())
        output = Path(reports or folder) / f"lighthouse-{slug}.json"
        command = [
            binary,
            f"http://127.0.0.1:{port}{path}",
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
            print(f"{title:<24}lighthouse failed: {done.stderr.strip()[-300:]}")
            continue
        report = json.loads(output.read_text())
        scores = [
            round(100 * (report["categories"][name]["score"] or 0))
            for name in CATEGORIES
        ]
        lcp = report["audits"]["largest-contentful-paint"]["numericValue"]
        print(
            f"{title:<24}"
            + "".join(f"{score:>6}" for score in scores)
            + f"{lcp:>7.0f} ms"
        )
        failures[title] = sorted(
            {
                f"{name}: {audit['id']} ({audit['title']})"
                for name, category in report["categories"].items()
                for ref in category["auditRefs"]
                if ref["weight"] > 0
                for audit in [report["audits"][ref["id"]]]
                if audit["score"] is not None and audit["score"] < 1
            }
        )
    for title, audits in failures.items():
        print(f"{title}: points lost on " + ("; ".join(audits) or "nothing"))
