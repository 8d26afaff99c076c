"""The demo's settings, on the PostgreSQL database in DATABASE_URL, for soak.py.

One webhook destination, pointing at the fake CRM soak.py runs (SOAK_CRM_URL),
with a short read timeout so that a hanging CRM costs the worker one second,
and a short backoff so that the run recovers within a minute.
"""

import os

import dj_database_url
from example_site.settings import *  # noqa: F403

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"])}
# Every gunicorn worker and the task workers share this cache only through
# the database; the rate limit is off anyway (a soak test is one address).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

WAGTAIL_LEADGEN = {
    "FORM_MIN_FILL_SECONDS": 0,
    "RATE_LIMIT_SUBMISSIONS": 10**9,
    "COUNT_PAGE_VIEWS": False,
    "DELIVERY_BACKOFF_BASE": 1,
    "DELIVERY_BACKOFF_CAP": 5,
    "DELIVERY_MAX_ATTEMPTS": 10_000,
    "DELIVERY_LEASE_SECONDS": 30,
    "CRM_BACKENDS": {
        "webhook": {
            "BACKEND": "wagtail_leadgen.crm.webhook.WebhookBackend",
            "OPTIONS": {
                "URL": os.environ["SOAK_CRM_URL"],
                "SECRET": os.environ["SOAK_CRM_SECRET"],
                "ALLOW_HTTP": True,
                "ALLOW_PRIVATE_ADDRESSES": True,
                "CONNECT_TIMEOUT": 1,
                "READ_TIMEOUT": 1,
            },
        }
    },
}
