"""System checks of the A/B test settings (ids E050-E052, W070-W072)."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.core.exceptions import ImproperlyConfigured

from .conf import leadgen_settings

#: Below this many views per version, a 95 % test has little power for the
#: differences landing pages usually show.
SMALL_SAMPLE = 100


@register()
def check_experiment_settings(app_configs, **kwargs):
    try:
        experiments = leadgen_settings.experiments
    except ImproperlyConfigured as error:
        return [Error(str(error), id="wagtail_leadgen.E050")]
    try:
        consent_state = leadgen_settings.consent_state
    except ImproperlyConfigured as error:
        return [Error(str(error), id="wagtail_leadgen.E051")]
    problems: list[CheckMessage] = []
    if experiments["MIN_VIEWS_PER_VARIANT"] < SMALL_SAMPLE:
        problems.append(
            Warning(
                "WAGTAIL_LEADGEN['EXPERIMENTS']['MIN_VIEWS_PER_VARIANT'] is below "
                f"{SMALL_SAMPLE}: A/B test verdicts on so few views are mostly noise.",
                id="wagtail_leadgen.W070",
            )
        )
    if experiments["COOKIE_MAX_AGE"] > 13 * 30 * 24 * 60 * 60:
        problems.append(
            Warning(
                "WAGTAIL_LEADGEN['EXPERIMENTS']['COOKIE_MAX_AGE'] is over 13 months, "
                "the longest the CNIL recommends for audience-measurement cookies.",
                hint="See docs/ab-testing.md.",
                id="wagtail_leadgen.W071",
            )
        )
    cookie = experiments["COOKIE_NAME"]
    # The cookie of test n is "<COOKIE_NAME>_<n>".
    own = re.compile(rf"{re.escape(cookie)}(_\d+)?")
    taken = (
        settings.SESSION_COOKIE_NAME,
        settings.CSRF_COOKIE_NAME,
        settings.LANGUAGE_COOKIE_NAME,
    )
    if any(own.fullmatch(name) for name in taken):
        problems.append(
            Error(
                "WAGTAIL_LEADGEN['EXPERIMENTS']['COOKIE_NAME'] would clash with the "
                "session, CSRF or language cookie (a session cookie makes every "
                "lead page private).",
                id="wagtail_leadgen.E052",
            )
        )
    if consent_state is None and "COOKIE_NAME" in (
        leadgen_settings.user_settings.get("EXPERIMENTS") or {}
    ):
        problems.append(
            Warning(
                "An A/B test cookie is configured but CONSENT_STATE is not: without "
                "the site's consent state no cookie is ever set.",
                id="wagtail_leadgen.W072",
            )
        )
    return problems
