"""The call-back page's hints (issue 14): business hours and alerts.

One function per hint, as in ``rules.py``; a call-back page is told by its
``is_callback_offer`` flag (importing the page type here would be a cycle:
pages declare the hints panel); imported after ``rules_form``, so
these come after the form's hints within a level.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ...conf import leadgen_settings
from . import rules_form as _form_rules  # noqa: F401 - the form's rules register first
from .registry import PAGE, WARNING, Finding, HintContext, hint_rule


@hint_rule(
    "callback-hours",
    title=gettext_lazy("No business hours for call-backs"),
    action=gettext_lazy(
        "Set WAGTAIL_LEADGEN['CALLBACK']['HOURS'] (with DAYS, TIME_ZONE and "
        "HOLIDAYS): visitors are then told when a request made outside them "
        "will be answered, and the five-minute clock starts at opening time."
    ),
    scope=PAGE,
    checks_panel=True,
)
def callback_hours(context: HintContext) -> Finding | None:
    if not getattr(context.page, "is_callback_offer", False):
        return None
    if leadgen_settings.callback["hours"] is not None:
        return None
    return Finding(
        WARNING,
        _(
            "No business hours are configured: a request at night is promised "
            "a call within minutes, and counts as late by morning."
        ),
    )


@hint_rule(
    "callback-alert",
    title=gettext_lazy("Nobody is alerted of call-back requests"),
    action=gettext_lazy(
        "Set WAGTAIL_LEADGEN['CALLBACK']['SALES_EMAIL'] or "
        "['ALERT_DESTINATIONS'] (a webhook destination) so that sales hears "
        "of each request at once."
    ),
    scope=PAGE,
    checks_panel=True,
)
def callback_alert(context: HintContext) -> Finding | None:
    if not getattr(context.page, "is_callback_offer", False):
        return None
    section = leadgen_settings.callback
    if section["SALES_EMAIL"] or section["ALERT_DESTINATIONS"]:
        return None
    return Finding(
        WARNING,
        _("Call-back requests alert nobody: they wait in the admin's list."),
    )
