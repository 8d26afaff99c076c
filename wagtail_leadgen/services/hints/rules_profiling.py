"""The profiling queue's hint: what a returning person may be asked (R5).

A known visitor is not asked the email, but is asked the form's fields they
left unanswered plus up to ``profiling_questions`` of the queue: at worst
every field of the form and that many questions. That worst case is held to
the same field budget as the form (``CONTENT_TARGETS`` ``FORM_FIELDS_*``).
Imported after ``rules_form``, so it comes after the form's own hints.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy, ngettext

from ...models.profiling import ProfilingMixin
from . import rules_form as _form_rules  # noqa: F401 - the form's hints first
from .registry import PAGE, POOR, WARNING, Finding, HintContext, hint_rule


def profiled_worst_count(page: Any) -> int | None:
    """The most fields a returning person can be shown on this page (the
    email is never one), or None for a page without a profiling queue."""
    if not isinstance(page, ProfilingMixin) or not page.profiling_fields:
        return None
    standard = [block.block_type for block in page.form_fields or ()]
    queue = [
        kind
        for kind in dict.fromkeys(block.block_type for block in page.profiling_fields)
        if kind not in standard
    ]
    return len(standard) + min(page.profiling_questions or 0, len(queue))


@hint_rule(
    "profiling-fields",
    title=gettext_lazy("Long form for returning visitors"),
    action=gettext_lazy(
        "Ask fewer profiling questions per visit, or take fields out of the "
        "form: a returning person is asked the form's unanswered fields plus "
        "the queue's next questions."
    ),
    scope=PAGE,
    checks_panel=True,
)
def profiling_fields(context: HintContext) -> Finding | None:
    count = profiled_worst_count(context.page)
    targets = context.targets
    if count is None or count <= targets["FORM_FIELDS_GOOD"]:
        return None
    return Finding(
        POOR if count >= targets["FORM_FIELDS_POOR"] else WARNING,
        ngettext(
            "A returning visitor may be asked %(count)s field, past the form's budget.",
            "A returning visitor may be asked %(count)s fields, past the form's budget.",
            count,
        )
        % {"count": count},
    )
