#!/bin/sh
# Lighthouse (mobile) on the demo's landing page and on Wagtail's form page,
# served by the benchmark's gunicorn on a throwaway database (SQLite, or
# PostgreSQL when DATABASE_URL is set): the four category scores, LCP, and
# the audits that cost points. Needs `lighthouse` on PATH (npm) and Debian's
# chromium; see benchmarks/README.md.
#   benchmarks/lighthouse.sh            # or: make bench-lighthouse
set -eu
here=$(dirname "$0")
python=${PYTHON:-"$here/../.venv/bin/python"}
exec "$python" "$here/vs_wagtail_forms.py" --rounds 0 --lighthouse "$@"
