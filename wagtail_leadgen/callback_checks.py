"""System checks of the call-back set-up (issue 14): ids E030-E034, W050-W054.

E030: an alert destination that is not a configured CRM destination.
E031: an alert destination that cannot receive events (webhooks only).
W050: live call-back pages, and nobody alerted (no sales address, no event).
W051: live call-back pages, and no business hours.
"""

from __future__ import annotations

from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

from .conf import SETTINGS_NAME, leadgen_settings
from .crm import build_backend
from .crm.base import CRMConfigurationError
from .models.callback_page import CallbackPage

SECTION = f"{SETTINGS_NAME}['CALLBACK']"


def _section() -> dict | None:
    try:
        return leadgen_settings.callback
    except ImproperlyConfigured:
        return None  # reported by E007


@register()
def check_callback_alert_destinations(app_configs, **kwargs):
    section = _section()
    if section is None:
        return []
    configs = leadgen_settings.CRM_BACKENDS
    configs = configs if isinstance(configs, dict) else {}
    errors = []
    for alias in section["ALERT_DESTINATIONS"]:
        if alias not in configs:
            errors.append(
                Error(
                    f"{SECTION}['ALERT_DESTINATIONS'] names {alias!r}, which is "
                    "not a CRM destination.",
                    hint="Valid destinations: " + ", ".join(sorted(configs)),
                    id="wagtail_leadgen.E030",
                )
            )
            continue
        try:
            backend = build_backend(alias, configs[alias])
        except CRMConfigurationError:
            continue  # reported by E005
        if not hasattr(backend, "event_request"):
            errors.append(
                Error(
                    f"{SECTION}['ALERT_DESTINATIONS'] names {alias!r}, which cannot "
                    "receive a callback.requested event.",
                    hint="Name a webhook destination (wagtail_leadgen.crm.webhook), "
                    "or use SALES_EMAIL for an email.",
                    id="wagtail_leadgen.E031",
                )
            )
    return errors


@register(Tags.database)
def check_live_callback_pages(app_configs, databases=None, **kwargs):
    """Run by ``manage.py check --database default``."""
    section = _section()
    if not databases or section is None:
        return []
    try:
        live = CallbackPage.objects.live().exists()
    except DatabaseError:
        return []  # tables not created yet
    if not live:
        return []
    warnings = []
    if not section["SALES_EMAIL"] and not section["ALERT_DESTINATIONS"]:
        warnings.append(
            Warning(
                "Call-back pages are live but nobody is alerted of a request.",
                hint=f"Set {SECTION}['SALES_EMAIL'] or ['ALERT_DESTINATIONS'].",
                id="wagtail_leadgen.W050",
            )
        )
    if section["hours"] is None:
        warnings.append(
            Warning(
                "Call-back pages are live but no business hours are set: a "
                "request at night is promised a call within minutes.",
                hint=f"Set {SECTION}['HOURS'], ['DAYS'], ['TIME_ZONE'] and ['HOLIDAYS'].",
                id="wagtail_leadgen.W051",
            )
        )
    return warnings
