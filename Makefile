# The two commands of the README:
#   make demo   install, migrate, seed demo content and serve on http://127.0.0.1:8000/
#               (another port: make demo PORT=8010), with a task worker beside it
#               and the decoupled front end (example_site/frontend/) on PORT+1;
#               on PostgreSQL when DATABASE_URL is set
#   make test   install what the tests need (incl. Debian's chromium) and run the whole suite
# The suite runs on SQLite, or on PostgreSQL when DATABASE_URL is set.
# make test-custom-page   the suite on a custom base page model (WAGTAIL_PAGE_MODEL)
# Another Django: make test PYTHON=python3.13 VENV=.venv-django6 DJANGO=">=6.1,<7"

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python example_site/manage.py
CHROMIUM ?= /usr/bin/chromium
DJANGO ?=
# A pip constraints file applied to the install (CI's lowest-dependencies run
# passes the one .ci/lowest_constraints.py writes).
CONSTRAINTS ?=
PORT ?= 8000

.PHONY: demo test test-custom-page lint dist-check chromium openapi bench-forms bench-lighthouse wrk

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[demo]"
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]" $(if $(DJANGO),"django$(DJANGO)") $(if $(CONSTRAINTS),-c $(CONSTRAINTS))
	touch $@

# The web server and, in the background, the task worker that delivers leads
# to the CRM destinations and the decoupled front end (example_site/frontend/,
# static files on the next port: another origin, allowed by the demo's CORS
# settings). Both stop with the server (Ctrl-C, or the server failing to
# start), so running `make demo` again starts afresh.
FRONTEND_PORT = $(shell expr $(PORT) + 1)
demo: export WAGTAILADMIN_BASE_URL ?= http://127.0.0.1:$(PORT)
demo: $(VENV)/.demo-installed
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	@$(MANAGE) db_worker --no-reload --interval 1 & worker=$$!; \
	$(BIN)/python -m http.server $(FRONTEND_PORT) --bind 127.0.0.1 --directory example_site/frontend >/dev/null 2>&1 & frontend=$$!; \
	trap 'kill $$worker $$frontend 2>/dev/null; wait $$worker $$frontend 2>/dev/null' EXIT; \
	trap 'exit 130' INT TERM; \
	echo "Task worker started (pid $$worker); it stops with the server."; \
	echo "Decoupled front end: http://127.0.0.1:$(FRONTEND_PORT)/$(if $(filter-out 8000,$(PORT)),?api=http://127.0.0.1:$(PORT))"; \
	$(MANAGE) runserver 127.0.0.1:$(PORT)

# Debian's chromium for the browser journeys; never a downloaded browser build.
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		if [ "$$(id -u)" = "0" ]; then \
			apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
		elif command -v sudo >/dev/null; then \
			sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; \
		else \
			echo "Install Debian's chromium (apt-get install chromium) to run the browser tests." >&2; exit 1; \
		fi; \
	fi

# Debian's wrk, the load generator of bench-forms (without it the benchmark
# falls back to a slower Python load generator and says so).
wrk:
	@if ! command -v wrk >/dev/null; then \
		if [ "$$(id -u)" = "0" ]; then \
			apt-get update -qq && apt-get install -y -qq wrk >/dev/null; \
		elif command -v sudo >/dev/null; then \
			sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null; \
		else \
			echo "wrk is not installed (apt-get install wrk): using the Python load generator." >&2; \
		fi; \
	fi

$(VENV)/.bench-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[demo,bench]"
	touch $@

# Our landing page against Wagtail's own form page, in one run, on a
# throwaway database: SQLite, or PostgreSQL when DATABASE_URL is set
# (benchmarks/README.md). Options: make bench-forms BENCH_ARGS="--rounds 5".
bench-forms: $(VENV)/.bench-installed wrk
	$(BIN)/python benchmarks/vs_wagtail_forms.py $(BENCH_ARGS)

# Lighthouse (mobile) on both pages; needs `lighthouse` on PATH (npm).
bench-lighthouse: $(VENV)/.bench-installed chromium
	PYTHON=$(BIN)/python benchmarks/lighthouse.sh $(BENCH_ARGS)

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PYTHONPATH=. $(BIN)/lint-imports
	PYTHONPATH=. $(BIN)/mypy
	$(MANAGE) makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=tests.settings PYTHONPATH=. $(BIN)/django-admin makemigrations --check --dry-run
	$(MAKE) --no-print-directory dist-check

# Build the sdist and the wheel as a release would (offline: the setuptools
# installed by the test extra, no isolated build environment), check their
# metadata renders on a package index, and that they carry the whole package
# and its licence (.ci/check_dist.py).
dist-check: $(VENV)/.test-installed
	@dist=$$(mktemp -d); \
	$(BIN)/python -m build --no-isolation --outdir $$dist . >$$dist/build.log 2>&1 \
		|| { cat $$dist/build.log; rm -rf $$dist; exit 1; }; \
	rm $$dist/build.log; \
	$(BIN)/twine check --strict $$dist/* && $(BIN)/python .ci/check_dist.py $$dist; \
	status=$$?; rm -rf $$dist; exit $$status

test: $(VENV)/.test-installed chromium lint
	$(BIN)/pytest

# The same suite on a site's own base page model (Wagtail 8's WAGTAIL_PAGE_MODEL):
# tests/basepage's BasePage replaces Wagtail's Page, and the plugin's pages and
# migrations follow it. Lint does not depend on the settings: `make test` has it.
CUSTOM_PAGE_SETTINGS := DJANGO_SETTINGS_MODULE=tests.settings_custom_page

test-custom-page: $(VENV)/.test-installed chromium
	$(CUSTOM_PAGE_SETTINGS) PYTHONPATH=. $(BIN)/django-admin makemigrations --check --dry-run
	$(CUSTOM_PAGE_SETTINGS) $(BIN)/pytest

# Regenerate tests/openapi.json, the API contract's snapshot, and the endpoint
# table of docs/headless.md generated from it, after a reviewed
# change to the API (tests/test_api_openapi.py compares the live document to it).
openapi: $(VENV)/.test-installed
	PYTHONPATH=. $(BIN)/python -m tests.openapi_snapshot
