"""Demo site settings: SQLite, no other service. ``production.py`` hardens them."""

import ipaddress
import os
from pathlib import Path
from urllib.parse import urlsplit

import django
from corsheaders.defaults import default_headers
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "demo-only-insecure-key-change-me")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

INSTALLED_APPS = [
    "demo",
    "wagtail_leadgen",
    "wagtail.contrib.settings",
    "wagtail.contrib.redirects",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "ninja",  # the API docs page serves its bundled assets, never a CDN's
    # Wagtail's page API v2 (/api/v2/: pages and images, never documents) and
    # the REST framework it is built on.
    "wagtail.api.v2",
    "rest_framework",
    # CORS on the JSON APIs, for decoupled front ends on other origins.
    "corsheaders",
    "django_tasks",
    "django_tasks_db",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything that may answer (CommonMiddleware's redirects included).
    "corsheaders.middleware.CorsMiddleware",
    "wagtail_leadgen.middleware.HostileCookieMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "example_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

WSGI_APPLICATION = "example_site.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DEMO_DB_PATH", BASE_DIR / "db.sqlite3"),
        # The web server and the task worker write to this one file. A
        # transaction takes the write lock when it starts (IMMEDIATE) and waits
        # up to `timeout` seconds for it; otherwise a transaction that read
        # first fails at once with "database is locked" when it tries to write.
        # Write-ahead logging: pages are read while a lead is being written
        # (readers and the writer never wait for each other).
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL;",
        },
    }
}
# `DATABASE_URL=postgres://… make demo` runs the demo on PostgreSQL (the demo
# extra brings dj-database-url and the driver).
if os.environ.get("DATABASE_URL"):
    import dj_database_url

    # Persistent connections, checked before reuse, as a production server
    # keeps them: no new connection (and authentication) per request.
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"], conn_max_age=600, conn_health_checks=True
        )
    }
    # Django 6.1 checks that Wagtail's search index, which uses PostgreSQL-only
    # fields there, has django.contrib.postgres installed (postgres.E005).
    if "postgresql" in DATABASES["default"]["ENGINE"]:
        INSTALLED_APPS.append("django.contrib.postgres")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "static_collected"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("DEMO_MEDIA_ROOT", BASE_DIR / "media"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

WAGTAIL_SITE_NAME = "wagtail-leadgen demo"
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
WAGTAILDOCS_SERVE_METHOD = "serve_view"
# The demo uses no search server.
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}

# Background work: a task queue in the site's own database (django-tasks-db).
# `make demo` runs `manage.py db_worker` beside the web server; see
# docs/scaling.md for RQ on Redis and for running without a worker.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _is_loopback(url: str) -> bool:
    """True for http(s)://localhost, 127.0.0.0/8 and [::1] URLs."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# CRM destinations: every lead is kept in the database; a signed webhook is
# added when LEADGEN_WEBHOOK_URL is set (README, "CRM destinations in the demo").
CRM_BACKENDS = {
    "database": {"BACKEND": "wagtail_leadgen.crm.database.DatabaseBackend"},
}
if os.environ.get("LEADGEN_WEBHOOK_URL"):
    _webhook_url = os.environ["LEADGEN_WEBHOOK_URL"]
    if not os.environ.get("LEADGEN_WEBHOOK_SECRET"):
        raise ImproperlyConfigured(
            "LEADGEN_WEBHOOK_URL is set, so LEADGEN_WEBHOOK_SECRET must be too: a "
            "Standard Webhooks secret, 'whsec_' followed by base64 (see the README)."
        )
    # Plain http and private addresses are allowed for a receiver on this
    # machine only; any other URL gets the backend's safe defaults (https only,
    # public addresses only).
    _local = _is_loopback(_webhook_url)
    CRM_BACKENDS["webhook"] = {
        "BACKEND": "wagtail_leadgen.crm.webhook.WebhookBackend",
        "OPTIONS": {
            "URL": _webhook_url,
            "SECRET": os.environ["LEADGEN_WEBHOOK_SECRET"],
            "ALLOW_HTTP": _local,
            "ALLOW_PRIVATE_ADDRESSES": _local,
            "CONNECT_TIMEOUT": 3,
            "READ_TIMEOUT": 10,
        },
        # Who receives the leads, as the information notice names it (W004).
        "RECIPIENT": {"NAME": "The demo's webhook receiver", "COUNTRY": "France"},
    }

# Emails to visitors (double opt-in confirmations, "my data" links) are not
# sent: each is written to a file in demo-mail/ at the root of the clone (README).
DEMO_MAIL_DIR = BASE_DIR.parent / "demo-mail"
DEFAULT_FROM_EMAIL = "Demo Marketing <marketing@example.com>"
if django.VERSION >= (6, 1):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(DEMO_MAIL_DIR)},
        }
    }
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = DEMO_MAIL_DIR

WAGTAIL_LEADGEN = {
    "DOWNLOAD_LINK_MAX_AGE": 24 * 60 * 60,
    "CRM_BACKENDS": CRM_BACKENDS,
    # Links in emails point where the demo is served (`make demo PORT=…`).
    "SITE_URL": WAGTAILADMIN_BASE_URL,
    # Call-back requests (docs/call-back.md): sales is alerted at once, by an
    # email in demo-mail/ and a callback.requested event on the webhook.
    "CALLBACK": {
        "SALES_EMAIL": "sales@example.com",
        "ALERT_DESTINATIONS": ("webhook",) if "webhook" in CRM_BACKENDS else (),
        "HOURS": ("09:00", "18:00"),
        "DAYS": (0, 1, 2, 3, 4),
        "TIME_ZONE": "Europe/Paris",
        "HOLIDAYS": ("2026-12-25", "2027-01-01", "2027-04-05", "2027-05-01"),
    },
}

# The decoupled front end (example_site/frontend/) that `make demo` serves on
# the next port calls the JSON APIs from its own origin. Allow-list only, never
# a wildcard: LEADGEN_CORS_ALLOWED_ORIGINS is a comma-separated list.
_demo_port = int(urlsplit(WAGTAILADMIN_BASE_URL).port or 8000)
CORS_ALLOWED_ORIGINS = [
    origin.strip()
    for origin in os.environ.get(
        "LEADGEN_CORS_ALLOWED_ORIGINS", f"http://127.0.0.1:{_demo_port + 1}"
    ).split(",")
    if origin.strip()
]
CORS_URLS_REGEX = r"^/api/"
# A front end may send an Idempotency-Key with a submission, and must read
# Retry-After on a 429 (browsers hide other response headers cross-origin).
CORS_ALLOW_HEADERS = (*default_headers, "idempotency-key")
CORS_EXPOSE_HEADERS = ["Retry-After"]
