"""The link to a lead's page in the admin, for what leaves the admin (CRM
payloads, notification mails): absolute when ``WAGTAILADMIN_BASE_URL`` is
set, and "" on a site that does not serve the plugin's admin URLs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import NoReverseMatch, reverse

if TYPE_CHECKING:  # only the lead's id is read
    from .models.leads import Submission


def admin_url_for(submission: Submission) -> str:
    base = getattr(settings, "WAGTAILADMIN_BASE_URL", "").rstrip("/")
    try:
        path = reverse("wagtail_leadgen_leads:inspect", args=[submission.lead_id])
    except NoReverseMatch:
        return ""
    return f"{base}{path}"
