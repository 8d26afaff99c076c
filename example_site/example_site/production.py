"""Hardened settings: ``DJANGO_SETTINGS_MODULE=example_site.production``.

They pass ``manage.py check --deploy``. Secrets and hosts come from the
environment; a real deployment also uses PostgreSQL (``DATABASE_URL``, read
by ``settings.py``) and Redis as the shared cache (``REDIS_URL``), so the
rate limit holds across processes.
"""

import os

import django

from .settings import *  # noqa: F403

DEBUG = False
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
ALLOWED_HOSTS = os.environ["DJANGO_ALLOWED_HOSTS"].split(",")
WAGTAILADMIN_BASE_URL = os.environ["WAGTAILADMIN_BASE_URL"]
WAGTAIL_LEADGEN = {
    **WAGTAIL_LEADGEN,  # noqa: F405
    "SITE_URL": WAGTAILADMIN_BASE_URL,
    # No interactive API docs or OpenAPI document in production (W040).
    "API": {"DOCS": False},
}

# Emails to visitors go out through an SMTP server, never to files. Django 6.1
# refuses the old EMAIL_HOST-style settings next to MAILERS, so the values are
# read into a local mapping and given to whichever form this Django reads.
_smtp = {
    "host": os.environ.get("DJANGO_EMAIL_HOST", "localhost"),
    "port": int(os.environ.get("DJANGO_EMAIL_PORT", "587")),
    "username": os.environ.get("DJANGO_EMAIL_HOST_USER", ""),
    "password": os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", ""),
    "use_tls": True,
}
if django.VERSION >= (6, 1):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": _smtp,
        }
    }
else:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _smtp["host"]
    EMAIL_PORT = _smtp["port"]
    EMAIL_HOST_USER = _smtp["username"]
    EMAIL_HOST_PASSWORD = _smtp["password"]
    EMAIL_USE_TLS = _smtp["use_tls"]

SECURE_SSL_REDIRECT = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# The rate limit counts in the default cache: one every process shares.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
    }
}

# The origins of the site's decoupled front ends, and nothing else: no default
# (an allow-list nobody wrote allows nobody), never a wildcard.
CORS_ALLOWED_ORIGINS = [
    origin.strip()
    for origin in os.environ.get("LEADGEN_CORS_ALLOWED_ORIGINS", "").split(",")
    if origin.strip()
]
