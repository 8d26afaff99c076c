"""Settings for the test suite: SQLite in memory, or the database in DATABASE_URL."""

import os
from pathlib import Path

import dj_database_url
from corsheaders.defaults import default_headers

BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "tests.testapp",
    "wagtail_leadgen",
    "wagtail.contrib.settings",
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
    "django_tasks_db",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    # Tests only: lets browser tests wait for the live server before a flush.
    "tests.inflight.InFlightRequestsMiddleware",
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
]

ROOT_URLCONF = "tests.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(os.environ["DATABASE_URL"])
    if os.environ.get("DATABASE_URL")
    else {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
}

# Django 6.1 checks that apps using PostgreSQL-only fields (Wagtail's search
# index) have django.contrib.postgres installed when running on PostgreSQL.
if "postgresql" in DATABASES["default"]["ENGINE"]:
    INSTALLED_APPS.append("django.contrib.postgres")

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "/static/"
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / ".media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

WAGTAIL_SITE_NAME = "tests"
WAGTAILADMIN_BASE_URL = "http://testserver"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}

# The suite runs fast: no minimum fill time unless a test sets one. Leads go
# to the in-memory CRM double (``wagtail_leadgen.crm.locmem.outbox``), the
# same test backend the plugin ships for sites' own suites.
WAGTAIL_LEADGEN = {
    "FORM_MIN_FILL_SECONDS": 0,
    "CRM_BACKENDS": {"locmem": {"BACKEND": "wagtail_leadgen.crm.locmem.LocmemBackend"}},
}

# CORS headers on the JSON APIs only; no origin is allowed unless a test says so.
CORS_URLS_REGEX = r"^/api/"
# A front end may send an Idempotency-Key with a submission, and must read
# Retry-After on a 429 (browsers hide other response headers cross-origin).
CORS_ALLOW_HEADERS = (*default_headers, "idempotency-key")
CORS_EXPOSE_HEADERS = ["Retry-After"]
CORS_ALLOWED_ORIGINS: list[str] = []
