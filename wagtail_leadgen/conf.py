"""The one place where wagtail-leadgen reads its settings.

Every option lives in the ``WAGTAIL_LEADGEN`` dict of the Django settings and
falls back to ``DEFAULTS`` below. Values are read lazily and the cache is
dropped on ``setting_changed``, so ``override_settings`` works in tests.
Unknown keys are reported by the ``wagtail_leadgen.E001`` system check.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

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
    # Retention a new request processing starts with, in months: data kept
    # only to answer a request (an e-book with no marketing consent) goes
    # sooner than a prospect's.
    "DEFAULT_REQUEST_RETENTION_MONTHS": 12,
    # -- Consent after capture (R12, R13), see docs/consent.md -----------------
    # The public root of the site for links in emails ("https://example.com").
    # None: the root URL of the page's Wagtail Site. Never the request's Host.
    "SITE_URL": None,
    # Sender of the emails to visitors. None: DEFAULT_FROM_EMAIL.
    "EMAIL_FROM": None,
    # Address of the mailto: part of List-Unsubscribe. None: the controller's
    # contact email from the site settings (no mailto: when neither is set).
    "UNSUBSCRIBE_MAILTO": None,
    # How long a double opt-in link works, in seconds.
    "CONFIRMATION_MAX_AGE": 24 * 60 * 60,
    # At most this many confirmation emails per address in each window.
    "CONFIRMATION_EMAILS_PER_ADDRESS": 3,
    "CONFIRMATION_EMAILS_WINDOW": 24 * 60 * 60,
    # The supervisory authority named in the notice (the right to complain):
    # the one of the controller's main establishment. Keys left out keep these.
    "SUPERVISORY_AUTHORITY": {"NAME": "CNIL", "URL": "https://www.cnil.fr"},
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
    # -- Content hints (R5, R6), see docs/content-hints.md ----------------------
    # Targets per page type. Sections: "default" (every page), the profiles
    # "content" (a site's own pages, e.g. articles carrying CTAs), "landing",
    # "ebook", "thank_you", and any model label ("blog.articlepage"). A site's
    # dict is merged over these section by section, target by target, so it
    # only names what it changes; an unknown section or target is an error.
    "CONTENT_TARGETS": {
        "default": {
            # Readability is not scored under this many words (too noisy).
            "MIN_WORDS_FOR_READABILITY": 100,
            # Score above READABILITY_GOOD: easy; from READABILITY_FAIR: fair;
            # below: hard (Flesch-family scale, 0-100).
            "READABILITY_GOOD": 60,
            "READABILITY_FAIR": 50,
            # A sentence over LONG_SENTENCE_WORDS words is long; at most this
            # share of the sentences should be.
            "LONG_SENTENCE_WORDS": 20,
            "LONG_SENTENCES_MAX_SHARE": 0.25,
            "PARAGRAPH_MAX_WORDS": 150,
            # At least one subheading every N words.
            "SUBHEADING_EVERY_WORDS": 300,
            # Length: below WORDS_GOOD warns, from WORDS_EXCELLENT is excellent,
            # above WORDS_MAX is too long for the page type. None: no target.
            "WORDS_GOOD": None,
            "WORDS_EXCELLENT": None,
            "WORDS_MAX": None,
            # Form length, email included: up to FORM_FIELDS_GOOD is good, from
            # FORM_FIELDS_POOR is poor, in between warns.
            "FORM_FIELDS_GOOD": 4,
            "FORM_FIELDS_POOR": 7,
            # The offer is described in the first content field, above the form.
            "OFFER_ABOVE_FORM": False,
            "META_DESCRIPTION": True,
        },
        # The source's figures for content that ranks: ~1,000 words as a floor,
        # 2,500+ ranking best.
        "content": {"WORDS_GOOD": 1000, "WORDS_EXCELLENT": 2500},
        "landing": {"WORDS_MAX": 500, "OFFER_ABOVE_FORM": True},
        "ebook": {"WORDS_MAX": 300, "OFFER_ABOVE_FORM": True},
        "thank_you": {"WORDS_MAX": 150, "META_DESCRIPTION": False},
    },
    # Silent reading speed by language (words per minute) for reading times:
    # Brysbaert (2019), the table Wagtail's own Checks panel uses. Merged over
    # by a site's dict; other languages use "en".
    "READING_WORDS_PER_MINUTE": {
        "ar": 181,
        "de": 260,
        "en": 238,
        "es": 278,
        "fi": 195,
        "fr": 214,
        "he": 224,
        "it": 285,
        "ko": 226,
        "nl": 228,
        "sv": 218,
        "zh": 260,
    },
    # KPI dashboard: count views of lead pages per day (no cookie, no IP).
    "COUNT_PAGE_VIEWS": True,
    # A request whose User-Agent contains one of these words (any case) is a
    # bot and is not counted; an empty User-Agent is never counted either.
    "EXCLUDED_USER_AGENTS": (
        "bot",
        "crawl",
        "spider",
        "slurp",
        "preview",
        "headless",
        "curl",
        "wget",
        "python-requests",
        "python-urllib",
        "httpx",
        "aiohttp",
        "go-http-client",
        "okhttp",
        "java/",
        "libwww",
        "scrapy",
        "facebookexternalhit",
        "lighthouse",
        "pingdom",
        "uptime",
    ),
    # The report's default date range (days, today included) and longest range.
    "DASHBOARD_DEFAULT_DAYS": 30,
    "DASHBOARD_MAX_DAYS": 366,
    # Lead maturity (hot / warm / cold), see docs/leads-inbox.md. A lead scores
    # points for each signal; the score, compared with HOT_AT and WARM_AT, gives
    # its level. Keys left out of a site's MATURITY dict keep these defaults.
    "MATURITY": {
        # Last contact within N days -> points; the first matching step counts.
        "RECENCY_POINTS": ((7, 3), (30, 2), (90, 1)),
        # At least N submissions -> points; the first matching step counts.
        "SUBMISSIONS_POINTS": ((3, 2), (2, 1)),
        # At least one gated document actually downloaded.
        "DOWNLOAD_POINTS": 1,
        # A consent in force: granted, and confirmed where it needs double opt-in.
        "OPT_IN_POINTS": 1,
        # A phone number left in a form: the person asks to be called back.
        "CALL_BACK_POINTS": 3,
        # Score thresholds; below WARM_AT a lead is cold.
        "HOT_AT": 6,
        "WARM_AT": 3,
        # No contact for longer than this: cold, whatever the other signals.
        "COLD_AFTER_DAYS": 180,
    },
    # Dotted path to a function ``classify(lead, signals) -> "hot" | "warm" |
    # "cold"`` used instead of the scoring above. None: the built-in scoring.
    "MATURITY_CLASSIFIER": None,
    # Lead scoring is profiling (GDPR Art. 4(4)): the information notice says
    # so while it is on. False: no level is computed (at capture or by
    # leadgen_classify) and the notice says nothing about it.
    "LEAD_SCORING": True,
    # Optional self-hosted proof of work (ALTCHA's format, solved by the
    # plugin's own script) for sites under attack; see docs/reference.md.
    # None: off. A dict turns it on; keys left out keep these defaults:
    # {"MAX_NUMBER": 100_000, "NO_JS_MIN_FILL_SECONDS": 8}.
    "PROOF_OF_WORK": None,
}

PROOF_OF_WORK_DEFAULTS: dict[str, Any] = {
    # The challenge's difficulty: a browser tries up to this many hashes
    # (about 0.1-1 s on a phone for the default).
    "MAX_NUMBER": 100_000,
    # A form posted without a solution (no JavaScript) is accepted only if it
    # was open at least this long; faster ones are quarantined as spam.
    "NO_JS_MIN_FILL_SECONDS": 8,
}


Classifier = Callable[[Any, Any], str]

# Keys of MATURITY whose value is a whole number, and those holding
# (bound, points) steps.
_MATURITY_INT_KEYS = (
    "DOWNLOAD_POINTS",
    "OPT_IN_POINTS",
    "CALL_BACK_POINTS",
    "HOT_AT",
    "WARM_AT",
    "COLD_AFTER_DAYS",
)
_MATURITY_STEP_KEYS = ("RECENCY_POINTS", "SUBMISSIONS_POINTS")
# The page-type profiles CONTENT_TARGETS may name besides "default" and model labels.
CONTENT_PROFILES = ("content", "landing", "ebook", "thank_you")


def _setting(*keys: str) -> str:
    return SETTINGS_NAME + "".join(f"[{key!r}]" for key in keys)


def _merge_maturity(user: Any) -> dict[str, Any]:
    """``MATURITY`` merged over its defaults; a bad key or value is an error."""
    defaults = DEFAULTS["MATURITY"]
    if not isinstance(user, dict):
        raise ImproperlyConfigured(f"{_setting('MATURITY')} must be a dict.")
    unknown = sorted(set(user) - set(defaults))
    if unknown:
        raise ImproperlyConfigured(
            f"Unknown key(s) in {_setting('MATURITY')}: {', '.join(unknown)}. "
            f"Valid keys: {', '.join(sorted(defaults))}"
        )
    merged = {**defaults, **user}
    for key in _MATURITY_INT_KEYS:
        if not isinstance(merged[key], int) or isinstance(merged[key], bool):
            raise ImproperlyConfigured(
                f"{_setting('MATURITY', key)} must be a whole number."
            )
    for key in _MATURITY_STEP_KEYS:
        steps = merged[key]
        if not isinstance(steps, list | tuple) or not all(
            isinstance(step, list | tuple)
            and len(step) == 2
            and all(isinstance(n, int) for n in step)
            for step in steps
        ):
            raise ImproperlyConfigured(
                f"{_setting('MATURITY', key)} must be a list of (number, points) "
                "pairs, e.g. [(7, 3), (30, 2)]."
            )
    return merged


def _resolve_classifier(path: Any) -> Classifier | None:
    """The function ``MATURITY_CLASSIFIER`` names, imported once; None: built-in."""
    if not path:
        return None
    try:
        return import_string(path)
    except ImportError as error:
        raise ImproperlyConfigured(
            f"{_setting('MATURITY_CLASSIFIER')} = {path!r} cannot be imported: {error}"
        ) from error


def _merge_content_targets(user: Any) -> dict[str, dict[str, Any]]:
    """``CONTENT_TARGETS`` merged over the defaults, section by section.

    Sections are "default", a profile (``CONTENT_PROFILES``) or a model label
    such as "blog.articlepage"; an unknown section or target is an error.
    """
    defaults = DEFAULTS["CONTENT_TARGETS"]
    user = user or {}
    if not isinstance(user, dict):
        raise ImproperlyConfigured(f"{_setting('CONTENT_TARGETS')} must be a dict.")
    valid_targets = set(defaults["default"])
    merged = {section: dict(targets) for section, targets in defaults.items()}
    for section, targets in user.items():
        if section not in ("default", *CONTENT_PROFILES) and "." not in str(section):
            raise ImproperlyConfigured(
                f"{_setting('CONTENT_TARGETS')} has an unknown section {section!r}. "
                f"Use 'default', one of {', '.join(CONTENT_PROFILES)}, or a model "
                "label such as 'blog.articlepage'."
            )
        if not isinstance(targets, dict):
            raise ImproperlyConfigured(
                f"{_setting('CONTENT_TARGETS', section)} must be a dict of targets."
            )
        unknown = set(targets) - valid_targets
        if unknown:
            raise ImproperlyConfigured(
                f"{_setting('CONTENT_TARGETS', section)} has unknown target(s) "
                f"{', '.join(sorted(unknown))}. Valid targets: "
                f"{', '.join(sorted(valid_targets))}."
            )
        merged.setdefault(section, {}).update(targets)
    return merged


def _merge_reading_speeds(user: Any) -> dict[str, int]:
    """Words per minute by language root, a site's dict merged over the table."""
    user = user or {}
    if not isinstance(user, dict) or not all(
        isinstance(speed, int) and not isinstance(speed, bool) and speed > 0
        for speed in user.values()
    ):
        raise ImproperlyConfigured(
            f"{_setting('READING_WORDS_PER_MINUTE')} must be a dict of language "
            "code -> words per minute (a positive whole number)."
        )
    return {**DEFAULTS["READING_WORDS_PER_MINUTE"], **user}


def _merge_proof_of_work(user: Any) -> dict[str, Any] | None:
    """``PROOF_OF_WORK``: None (off), or a dict merged over its defaults."""
    if user is None or user is False:
        return None
    if user is True:
        user = {}
    if not isinstance(user, dict):
        raise ImproperlyConfigured(
            f"{_setting('PROOF_OF_WORK')} must be None (off) or a dict of options."
        )
    unknown = sorted(set(user) - set(PROOF_OF_WORK_DEFAULTS))
    if unknown:
        raise ImproperlyConfigured(
            f"Unknown key(s) in {_setting('PROOF_OF_WORK')}: {', '.join(unknown)}. "
            f"Valid keys: {', '.join(sorted(PROOF_OF_WORK_DEFAULTS))}"
        )
    merged = {**PROOF_OF_WORK_DEFAULTS, **user}
    for key, value in merged.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ImproperlyConfigured(
                f"{_setting('PROOF_OF_WORK', key)} must be a positive whole number."
            )
    return merged


def _check_site_url(value: Any) -> str | None:
    """``SITE_URL``: None, or "scheme://host[:port]" (http or https, no path),
    returned without a trailing slash."""
    if value is None:
        return None
    parts = urlsplit(value) if isinstance(value, str) else None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
        or any(char.isspace() or ord(char) < 32 for char in value)
    ):
        raise ImproperlyConfigured(
            f"{_setting('SITE_URL')} must be None or the site's public root, "
            "scheme and host only, e.g. 'https://www.example.com'."
        )
    return value.rstrip("/")


# One plain address for a mailto: link inside a mail header: no quoting, no
# display name, nothing that could end the <...> or the header.
_MAILTO_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
)


def _check_unsubscribe_mailto(value: Any) -> str | None:
    """``UNSUBSCRIBE_MAILTO``: None, or one plain ASCII address."""
    if value is None:
        return None
    if not isinstance(value, str) or not _MAILTO_ADDRESS.fullmatch(value):
        raise ImproperlyConfigured(
            f"{_setting('UNSUBSCRIBE_MAILTO')} must be None or one plain email "
            "address, e.g. 'unsubscribe@example.com'."
        )
    return value


def is_plain_address(value: str) -> bool:
    """Whether ``value`` may go into a mailto: link of a mail header."""
    return bool(_MAILTO_ADDRESS.fullmatch(value))


def _merge_supervisory_authority(user: Any) -> dict[str, str]:
    """``SUPERVISORY_AUTHORITY`` merged over the CNIL; NAME and URL are text."""
    defaults = DEFAULTS["SUPERVISORY_AUTHORITY"]
    if not isinstance(user, dict):
        raise ImproperlyConfigured(
            f"{_setting('SUPERVISORY_AUTHORITY')} must be a dict: "
            '{"NAME": ..., "URL": ...}.'
        )
    unknown = sorted(set(user) - set(defaults))
    if unknown:
        raise ImproperlyConfigured(
            f"Unknown key(s) in {_setting('SUPERVISORY_AUTHORITY')}: "
            f"{', '.join(unknown)}. Valid keys: NAME, URL"
        )
    merged = {**defaults, **user}
    for key in ("NAME", "URL"):
        if not isinstance(merged[key], str) or not merged[key].strip():
            raise ImproperlyConfigured(
                f"{_setting('SUPERVISORY_AUTHORITY', key)} must be a non-empty text."
            )
    if not merged["URL"].startswith(("https://", "http://")):
        raise ImproperlyConfigured(
            f"{_setting('SUPERVISORY_AUTHORITY', 'URL')} must be an http(s) URL."
        )
    return {key: merged[key].strip() for key in ("NAME", "URL")}


# Nested sections: each is read through its own function, which merges the
# site's value over the defaults and validates it, once per settings change.
_SECTIONS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "maturity": ("MATURITY", _merge_maturity),
    "maturity_classifier": ("MATURITY_CLASSIFIER", _resolve_classifier),
    "content_targets": ("CONTENT_TARGETS", _merge_content_targets),
    "reading_speeds": ("READING_WORDS_PER_MINUTE", _merge_reading_speeds),
    "proof_of_work": ("PROOF_OF_WORK", _merge_proof_of_work),
    "site_url": ("SITE_URL", _check_site_url),
    "unsubscribe_mailto": ("UNSUBSCRIBE_MAILTO", _check_unsubscribe_mailto),
    "supervisory_authority": (
        "SUPERVISORY_AUTHORITY",
        _merge_supervisory_authority,
    ),
}


class LeadgenSettings:
    """Attribute access to ``WAGTAIL_LEADGEN`` with defaults.

    Upper-case names are the raw options (``leadgen_settings.FORM_MAX_AGE``);
    lower-case names are the nested sections, merged over their defaults and
    validated (``leadgen_settings.maturity``). Both are cached until the
    setting changes.
    """

    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}

    @property
    def user_settings(self) -> dict[str, Any]:
        user = getattr(settings, SETTINGS_NAME, None) or {}
        return user if isinstance(user, dict) else {}

    def __getattr__(self, name: str) -> Any:
        if name in _SECTIONS:
            if name not in self._cache:
                key, resolve = _SECTIONS[name]
                self._cache[name] = resolve(self.user_settings.get(key, DEFAULTS[key]))
            return self._cache[name]
        if name not in DEFAULTS:
            raise AttributeError(f"Invalid {SETTINGS_NAME} setting: {name!r}")
        if name not in self._cache:
            self._cache[name] = self.user_settings.get(name, DEFAULTS[name])
        return self._cache[name]

    def reload(self) -> None:
        self._cache.clear()

    def configured_aliases(self) -> list[str]:
        """The CRM destination aliases, in the order the settings give them."""
        backends = self.CRM_BACKENDS
        return list(backends) if isinstance(backends, dict) else []

    def validate(self) -> list[str]:
        """Every problem with the nested sections, for the start-up check."""
        problems = []
        for name in _SECTIONS:
            try:
                getattr(self, name)
            except ImproperlyConfigured as error:
                problems.append(str(error))
        return problems


leadgen_settings = LeadgenSettings()


@receiver(setting_changed)
def _reload_leadgen_settings(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTINGS_NAME:
        leadgen_settings.reload()
