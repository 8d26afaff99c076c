"""The one place where wagtail-leadgen reads its settings.

Every option lives in the ``WAGTAIL_LEADGEN`` dict of the Django settings and
falls back to ``DEFAULTS`` (``conf_defaults.py``). Values are read lazily and the cache is
dropped on ``setting_changed``, so ``override_settings`` works in tests.
Unknown keys are reported by the ``wagtail_leadgen.E001`` system check.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from .business_hours import merge_callback
from .conf_defaults import (
    DEFAULTS,
    HEADLESS_LINK_KEYS,
    PROOF_OF_WORK_DEFAULTS,
    SETTINGS_NAME,
)

__all__ = ["DEFAULTS", "SETTINGS_NAME", "LeadgenSettings", "leadgen_settings"]


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


def _refuse_unknown_keys(name: str, user: dict[Any, Any], valid: Sequence[str]) -> None:
    """A section's keys must be among ``valid`` (a misspelling is never ignored)."""
    unknown = sorted(str(key) for key in set(user) - set(valid))
    if unknown:
        raise ImproperlyConfigured(
            f"Unknown key(s) in {_setting(name)}: {', '.join(unknown)}. "
            f"Valid keys: {', '.join(valid)}"
        )


def _merge_maturity(user: Any) -> dict[str, Any]:
    """``MATURITY`` merged over its defaults; a bad key or value is an error."""
    defaults = DEFAULTS["MATURITY"]
    if not isinstance(user, dict):
        raise ImproperlyConfigured(f"{_setting('MATURITY')} must be a dict.")
    _refuse_unknown_keys("MATURITY", user, sorted(defaults))
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
    _refuse_unknown_keys("PROOF_OF_WORK", user, sorted(PROOF_OF_WORK_DEFAULTS))
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


_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
TOKEN_PLACEHOLDER = "{token}"  # noqa: S105 -- a placeholder, not a secret


def _check_link_template(key: str, value: Any) -> str:
    """One ``HEADLESS_LINKS`` template: an absolute https URL (http on
    localhost) holding ``{token}`` exactly once and no other braces."""
    problem = None
    if not isinstance(value, str):
        problem = "must be a text"
    elif value.count(TOKEN_PLACEHOLDER) != 1 or value.replace(
        TOKEN_PLACEHOLDER, ""
    ).count("{") + value.replace(TOKEN_PLACEHOLDER, "").count("}"):
        problem = "must hold {token} once, and no other braces"
    elif any(char.isspace() or ord(char) < 32 for char in value):
        problem = "must not hold spaces or control characters"
    else:
        parts = urlsplit(value.replace(TOKEN_PLACEHOLDER, "t"))
        if not parts.hostname or parts.username is not None:
            problem = "must be an absolute URL with a host"
        elif parts.scheme != "https" and not (
            parts.scheme == "http" and parts.hostname in _LOCAL_HOSTS
        ):
            problem = "must be https (http only on localhost)"
    if problem:
        raise ImproperlyConfigured(
            f"{_setting('HEADLESS_LINKS', key)} {problem}, e.g. "
            "'https://app.example.com/confirm?token={token}'."
        )
    return value


def _check_headless_links(value: Any) -> dict[str, str]:
    """``HEADLESS_LINKS``: None, or a dict of ``HEADLESS_LINK_KEYS`` to URL
    templates (None: the plugin's own page for that link)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ImproperlyConfigured(
            f"{_setting('HEADLESS_LINKS')} must be None or a dict of link templates."
        )
    _refuse_unknown_keys("HEADLESS_LINKS", value, HEADLESS_LINK_KEYS)
    return {
        key: _check_link_template(key, template)
        for key, template in value.items()
        if template is not None
    }


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
    _refuse_unknown_keys("SUPERVISORY_AUTHORITY", user, sorted(defaults))
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


def _merge_api(user: Any) -> dict[str, Any]:
    """``API`` merged over its defaults: DOCS a boolean, the key age in seconds."""
    defaults = DEFAULTS["API"]
    if not isinstance(user, dict):
        raise ImproperlyConfigured(
            f"{_setting('API')} must be a dict: "
            '{"DOCS": ..., "IDEMPOTENCY_KEY_MAX_AGE": ...}.'
        )
    _refuse_unknown_keys("API", user, sorted(defaults))
    merged = {**defaults, **user}
    if not isinstance(merged["DOCS"], bool):
        raise ImproperlyConfigured(f"{_setting('API', 'DOCS')} must be True or False.")
    age = merged["IDEMPOTENCY_KEY_MAX_AGE"]
    if isinstance(age, bool) or not isinstance(age, int) or age < 1:
        raise ImproperlyConfigured(
            f"{_setting('API', 'IDEMPOTENCY_KEY_MAX_AGE')} must be a positive "
            "whole number of seconds."
        )
    return merged


def _merge_profiling(user: Any) -> dict[str, Any]:
    """``PROFILING`` merged over its defaults: ages in whole seconds, the link
    parameter and the cookie name plain tokens."""
    if not isinstance(user, dict):
        raise ImproperlyConfigured(f"{_setting('PROFILING')} must be a dict.")
    defaults = DEFAULTS["PROFILING"]
    _refuse_unknown_keys("PROFILING", user, sorted(defaults))
    merged = {**defaults, **user}
    for key in ("LINK_MAX_AGE", "REMEMBER_MAX_AGE"):
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ImproperlyConfigured(
                f"{_setting('PROFILING', key)} must be a positive whole number "
                "of seconds."
            )
    for key in ("LINK_PARAMETER", "COOKIE_NAME"):
        value = merged[key]
        if not isinstance(value, str) or not re.fullmatch(
            r"[A-Za-z0-9_-]{1,40}", value
        ):
            raise ImproperlyConfigured(
                f"{_setting('PROFILING', key)} must be 1 to 40 letters, digits, "
                "'-' or '_'."
            )
    return merged


def _resolve_consent_state(path: Any) -> Callable[[Any], Any] | None:
    """The function ``CONSENT_STATE`` names, imported once; None: no consent."""
    if not path:
        return None
    try:
        function = import_string(path)
    except ImportError as error:
        raise ImproperlyConfigured(
            f"{_setting('CONSENT_STATE')} = {path!r} cannot be imported: {error}"
        ) from error
    if not callable(function):
        raise ImproperlyConfigured(f"{_setting('CONSENT_STATE')} must name a function.")
    return function


_POSITIVE_EXPERIMENT_KEYS = (
    "COOKIE_MAX_AGE",
    "MIN_VIEWS_PER_VARIANT",
    "STALE_AFTER_DAYS",
)


def _merge_experiments(user: Any) -> dict[str, Any]:
    """``EXPERIMENTS`` merged over its defaults and checked."""
    defaults = DEFAULTS["EXPERIMENTS"]
    if not isinstance(user, dict):
        raise ImproperlyConfigured(f"{_setting('EXPERIMENTS')} must be a dict.")
    _refuse_unknown_keys("EXPERIMENTS", user, sorted(defaults))
    merged = {**defaults, **user}
    for key in _POSITIVE_EXPERIMENT_KEYS:
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ImproperlyConfigured(
                f"{_setting('EXPERIMENTS', key)} must be a positive whole number."
            )
    for key in ("CONSENT_CATEGORY", "COOKIE_NAME"):
        value = merged[key]
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", value):
            raise ImproperlyConfigured(
                f"{_setting('EXPERIMENTS', key)} must be a word "
                "(letters, digits, '_', '.', '-')."
            )
    return merged


def _check_cache_max_age(value: Any) -> int:
    """``SHARED_CACHE_MAX_AGE``: seconds, a whole number, 0 or more."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ImproperlyConfigured(
            f"{_setting('SHARED_CACHE_MAX_AGE')} must be a whole number of "
            "seconds, 0 or more (0: lead pages are never shared)."
        )
    return value


def _check_form_origins(value: Any) -> frozenset[str]:
    """``FORM_ALLOWED_ORIGINS``: "scheme://host[:port]" items, compared in lower case."""
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise ImproperlyConfigured(
            f"{_setting('FORM_ALLOWED_ORIGINS')} must be a list of origins, "
            "e.g. ['https://www.example.com']."
        )
    origins = set()
    for origin in value:
        parts = urlsplit(origin) if isinstance(origin, str) else None
        if (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.path
            or parts.query
            or parts.fragment
            or parts.username is not None
        ):
            raise ImproperlyConfigured(
                f"{_setting('FORM_ALLOWED_ORIGINS')}: {origin!r} is not an origin; "
                "give scheme and host only, e.g. 'https://www.example.com'."
            )
        origins.add(origin.lower())
    return frozenset(origins)


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
    "headless_links": ("HEADLESS_LINKS", _check_headless_links),
    "supervisory_authority": (
        "SUPERVISORY_AUTHORITY",
        _merge_supervisory_authority,
    ),
    "api": ("API", _merge_api),
    "shared_cache_max_age": ("SHARED_CACHE_MAX_AGE", _check_cache_max_age),
    "form_allowed_origins": ("FORM_ALLOWED_ORIGINS", _check_form_origins),
    "profiling": ("PROFILING", _merge_profiling),
    "consent_state": ("CONSENT_STATE", _resolve_consent_state),
    "experiments": ("EXPERIMENTS", _merge_experiments),
    "callback": ("CALLBACK", merge_callback),
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
