"""The demo's settings as ``vs_wagtail_forms.py`` serves them: DEBUG off, the
throwaway database, Wagtail's form builder and the peer page installed.

Environment: ``BENCH_DATABASE_URL`` (``sqlite:///path`` or ``postgres://…``),
``BENCH_STATIC_ROOT`` and ``BENCH_MEDIA_ROOT`` (folders of the run).
"""

import os

import dj_database_url
import django
from example_site.settings import *  # noqa: F403
from example_site.settings import DATABASES, INSTALLED_APPS, WAGTAIL_LEADGEN

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench_urls"
INSTALLED_APPS = [*INSTALLED_APPS, "wagtail.contrib.forms", "bench_peer"]

_url = os.environ["BENCH_DATABASE_URL"]
if _url.startswith("sqlite:"):
    # The demo's SQLite options (IMMEDIATE transactions, a 20 s lock wait) on
    # the run's file.
    DATABASES = {
        "default": {**DATABASES["default"], "NAME": _url.removeprefix("sqlite:///")}
    }
else:
    # The demo's PostgreSQL options (persistent connections, checked before
    # reuse) on the run's database.
    DATABASES = {
        "default": dj_database_url.parse(
            _url, conn_max_age=600, conn_health_checks=True
        )
    }
    if "django.contrib.postgres" not in INSTALLED_APPS:
        INSTALLED_APPS.append("django.contrib.postgres")

STATIC_ROOT = os.environ["BENCH_STATIC_ROOT"]
MEDIA_ROOT = os.environ["BENCH_MEDIA_ROOT"]

# The peer's email to the site owner on each submission, and our double
# opt-in emails, kept in memory.
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
else:
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

WAGTAIL_LEADGEN = {
    **WAGTAIL_LEADGEN,
    # The load generator posts at once and from one address.
    "FORM_MIN_FILL_SECONDS": 0,
    "RATE_LIMIT_SUBMISSIONS": 10**9,
    # Only the demo's database destination (its outbox row, its queued task).
    "CRM_BACKENDS": {
        "database": {"BACKEND": "wagtail_leadgen.crm.database.DatabaseBackend"}
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    # Not the 404s of a browser's /favicon.ico and /robots.txt (Lighthouse).
    "loggers": {"django.request": {"level": "ERROR"}},
}
