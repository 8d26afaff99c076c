"""The one place where wagtail-leadgen reads its settings.

Every option lives in the ``WAGTAIL_LEADGEN`` dict of the Django settings and
falls back to ``DEFAULTS`` below. Values are read lazily and the cache is
dropped on ``setting_changed``, so ``override_settings`` works in tests.
Unknown keys are reported by the ``wagtail_leadgen.E001`` system check.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

SETTINGS_NAME = "WAGTAIL_LEADGEN"

DEFAULTS: dict[str, Any] = {
    # Gated downloads: how long a download link works, and how many times.
    "DOWNLOAD_LINK_MAX_AGE": 24 * 60 * 60,
    "DOWNLOAD_LINK_MAX_USES": 5,
    # Anti-spam: a form posted faster than this (seconds) is quarantined as spam;
    # a form older than FORM_MAX_AGE is shown again with a fresh token.
    "FORM_MIN_FILL_SECONDS": 2,
    "FORM_MAX_AGE": 24 * 60 * 60,
    # Per-IP rate limit on every intake path: at most N submissions per window.
    "RATE_LIMIT_SUBMISSIONS": 20,
    "RATE_LIMIT_WINDOW": 10 * 60,
    # Number of reverse proxies in front of the site whose X-Forwarded-For is
    # trusted. 0 (the default) trusts none and uses REMOTE_ADDR.
    "TRUSTED_PROXY_COUNT": 0,
    # Upper bounds on what a visitor may send.
    "MAX_TEXT_LENGTH": 200,
    "MAX_QUESTION_LENGTH": 2000,
    # Retention a new consent purpose starts with, in months (CNIL standard for
    # prospects: at most 3 years after the last contact from the person).
    "DEFAULT_RETENTION_MONTHS": 36,
    # CRM destinations by alias, like Django's CACHES: {"alias": {"BACKEND":
    # "dotted.path", "OPTIONS": {...}}}. Default: keep leads in the database only.
    "CRM_BACKENDS": {
        "database": {"BACKEND": "wagtail_leadgen.crm.database.DatabaseBackend"},
    },
    # Delivery retries: capped exponential backoff with jitter. With these
    # defaults a lead is retried for about three days before it is marked failed.
    "DELIVERY_MAX_ATTEMPTS": 20,
    "DELIVERY_BACKOFF_BASE": 60,
    "DELIVERY_BACKOFF_CAP": 6 * 60 * 60,
    # How long a worker owns a claimed delivery; a crashed worker's claim
    # expires after this and another worker takes the delivery over.
    "DELIVERY_LEASE_SECONDS": 5 * 60,
    # The django-tasks backend alias deliveries are enqueued on.
    "TASK_BACKEND": "default",
    # Content-Security-Policy sent with the plugin's public pages, unless the
    # response already has one (e.g. from the site's own middleware). None: off.
    "CONTENT_SECURITY_POLICY": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        "script-src 'self'; form-action 'self'; frame-ancestors 'self'; "
        "base-uri 'self'; object-src 'none'"
    ),
}


class LeadgenSettings:
    """Attribute access to ``WAGTAIL_LEADGEN`` with defaults, e.g. ``leadgen_settings.FORM_MAX_AGE``."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}

    @property
    def user_settings(self) -> dict[str, Any]:
        return getattr(settings, SETTINGS_NAME, None) or {}

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Invalid {SETTINGS_NAME} setting: {name!r}")
        if name not in self._cache:
            self._cache[name] = self.user_settings.get(name, DEFAULTS[name])
        return self._cache[name]

    def reload(self) -> None:
        self._cache.clear()


leadgen_settings = LeadgenSettings()


@receiver(setting_changed)
def _reload_leadgen_settings(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTINGS_NAME:
        leadgen_settings.reload()
