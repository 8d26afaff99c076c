"""The A/B test hint: a test that has run for weeks without a verdict.

Imported after ``rules_form`` (the package imports it last), so this hint
comes after the form's within a level.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy, ngettext

from ..experiments import stale_running_test
from . import rules_form as _form_rules  # noqa: F401 -- the form's rules register first
from .registry import PAGE, WARNING, Finding, HintContext, hint_rule


@hint_rule(
    "experiment-stale",
    title=gettext_lazy("A/B test without a result"),
    action=gettext_lazy(
        "Stop the test, or test a bolder change: a difference this small is not "
        "worth the visitors still sent to the weaker version."
    ),
    scope=PAGE,
)
def experiment_stale(context: HintContext) -> Finding | None:
    page = context.page
    if page is None or page.pk is None or not getattr(page, "runs_experiments", False):
        return None
    results = stale_running_test(page.pk)
    if results is None or results.test.started_at is None:
        return None
    days = (timezone.now() - results.test.started_at).days
    return Finding(
        WARNING,
        ngettext(
            "The A/B test “%(name)s” has run for %(days)s day without a "
            "significant difference.",
            "The A/B test “%(name)s” has run for %(days)s days without a "
            "significant difference.",
            days,
        )
        % {"name": results.test.name, "days": days},
    )
