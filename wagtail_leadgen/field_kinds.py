"""The kinds of answer a lead form can ask for, with their standard labels.

A leaf module (no import of the package's own): the form builder, the
StreamField blocks, the CRM backends and the admin all name answers by these
kinds, so that an editor renaming a label never re-keys stored answers.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

FORM_FIELD_KINDS: dict[str, Promise] = {
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "company": _("Company"),
    "job_title": _("Job title"),
    "phone": _("Phone"),
    "country": _("Country"),
    "question": _("Your question"),
}

CORRECTABLE_KINDS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "company",
    "job_title",
    "phone",
    "country",
)
"""The answers a person may have corrected (R15): facts about them. Not the
email (another address is another person's lead), nor their question (what
they asked stays what they asked)."""
