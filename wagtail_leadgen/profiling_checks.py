"""System checks for progressive profiling (docs/progressive-profiling.md).

- E040: the remember-me cookie's name is one Django already uses (the session
  or CSRF cookie): the two would overwrite each other.
- W060: the remember-me cookie lives longer than 13 months, the CNIL's
  recommended maximum for a cookie that rests on consent.
- W061: a live page has a profiling queue that nobody can ever be shown: no
  purpose on it sends a confirmation email (which carries the profiling link)
  and none remembers the device.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

from .conf import leadgen_settings
from .models.profiling import ProfilingMixin
from .services.kpis import lead_page_models

# 13 months of 30.5 days: the CNIL's ceiling for a consent-based cookie.
COOKIE_LIFETIME_CEILING = 13 * 30 * 24 * 60 * 60 + 13 * 12 * 60 * 60


def _profiling() -> dict[str, Any] | None:
    try:
        return leadgen_settings.profiling
    except ImproperlyConfigured:  # reported by the settings check (E007)
        return None


@register(Tags.security)
def check_profiling_cookie(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    profiling = _profiling()
    if profiling is None:
        return []
    messages: list[CheckMessage] = []
    name = profiling["COOKIE_NAME"]
    taken = {
        getattr(settings, "SESSION_COOKIE_NAME", "sessionid"),
        getattr(settings, "CSRF_COOKIE_NAME", "csrftoken"),
        getattr(settings, "LANGUAGE_COOKIE_NAME", "django_language"),
    }
    if name in taken:
        messages.append(
            Error(
                f"WAGTAIL_LEADGEN['PROFILING']['COOKIE_NAME'] is {name!r}, a cookie "
                "Django already uses: the two would overwrite each other.",
                hint="Keep the default, 'leadgen_known', or choose another name.",
                id="wagtail_leadgen.E040",
            )
        )
    if profiling["REMEMBER_MAX_AGE"] > COOKIE_LIFETIME_CEILING:
        messages.append(
            Warning(
                "WAGTAIL_LEADGEN['PROFILING']['REMEMBER_MAX_AGE'] keeps the "
                "remember-me cookie longer than 13 months, the CNIL's recommended "
                "maximum for a cookie that rests on consent.",
                hint="Use at most 13 months (the default is 180 days); the person "
                "is asked again when it runs out.",
                id="wagtail_leadgen.W060",
            )
        )
    return messages


def _can_know_anyone(page: Any) -> bool:
    return any(
        purpose.requires_confirmation or purpose.remembers_device
        for purpose in page.get_purposes()
    )


@register(Tags.database)
def check_profiling_queues_can_be_shown(
    app_configs: Any, databases: Any = None, **kwargs: Any
) -> list[CheckMessage]:
    if not databases:
        return []
    warnings: list[CheckMessage] = []
    for model in lead_page_models():
        if not issubclass(model, ProfilingMixin):
            continue
        try:
            pages = list(model.objects.live())
        except DatabaseError:  # not migrated yet
            continue
        for page in pages:
            if page.profiling_fields and not _can_know_anyone(page):
                warnings.append(
                    Warning(
                        f"Page {page.pk} ({page.title!r}) has a profiling queue that "
                        "no visitor can be shown: none of its purposes sends a "
                        "confirmation email (which carries the profiling link) or "
                        "remembers the device.",
                        hint="Add a double opt-in purpose or a 'remember me on this "
                        "device' purpose to the page, or send your own emails with "
                        "profiling links (docs/progressive-profiling.md).",
                        obj=page,
                        id="wagtail_leadgen.W061",
                    )
                )
    return warnings
