"""Turning a valid submission into stored leads, in one transaction (R11, R20).

``capture_lead`` is the single place a lead is written: the HTML view and the
JSON API both end here, so validation, consent and handoff cannot drift apart.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..cleaning import clean_metadata
from ..models.consent import ConsentPurpose
from ..models.leads import Lead, Submission
from ..signals import lead_captured
from .classification import reclassify_after_capture
from .consent import record_decisions
from .downloads import download_token, grant_download
from .outbox import plan_deliveries

logger = logging.getLogger("wagtail_leadgen.security")

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


@dataclass(frozen=True)
class SubmissionContext:
    """Where a submission comes from; no IP address is part of it.

    Its values are metadata nobody typed on purpose: they are cleaned on the
    way into the database (unsafe characters dropped, cut to the column).
    """

    page: object
    language: str
    channel: str = "web"
    referrer: str = ""
    utm: Mapping[str, str] = field(default_factory=dict)

    def submission_fields(self) -> dict[str, object]:
        page_revision_id = getattr(self.page, "live_revision_id", None)
        values: dict[str, object] = {
            "page": self.page,
            "page_revision_id": page_revision_id,
            "language": self.language[:16],
            "channel": self.channel,
            "referrer": clean_metadata(self.referrer, 500),
        }
        for key in UTM_KEYS:
            values[key] = clean_metadata(self.utm.get(key, ""), 100)
        return values


@dataclass(frozen=True)
class CaptureResult:
    lead: Lead
    submission: Submission
    download_token: str | None


def _lead_for(email: str) -> Lead:
    now = timezone.now()
    try:
        with transaction.atomic():
            lead, created = Lead.objects.get_or_create(
                email=email, defaults={"last_contact_at": now}
            )
    except IntegrityError:  # two first submissions of the same address at once
        lead, created = Lead.objects.get(email=email), False
    if not created:
        Lead.objects.filter(pk=lead.pk).update(last_contact_at=now)
        lead.last_contact_at = now
    return lead


def _announce(submission: Submission) -> None:
    for receiver, result in lead_captured.send_robust(
        sender=Submission, submission=submission
    ):
        if isinstance(result, Exception):
            logger.error("lead_captured receiver %r failed", receiver, exc_info=result)


@transaction.atomic
def capture_lead(
    *,
    context: SubmissionContext,
    email: str,
    answers: Mapping[str, str],
    decisions: Mapping[ConsentPurpose, bool],
    shown_versions: Mapping[int, int | None],
    destinations: Sequence[str] = (),
    document=None,
) -> CaptureResult:
    """Store the lead, the submission, one consent record per purpose shown, one
    delivery per CRM destination and, for a gated offer, a download grant — all
    or nothing. Deliveries are enqueued only once the transaction commits."""
    lead = _lead_for(email)
    submission = Submission.objects.create(
        lead=lead, answers=dict(answers), **context.submission_fields()
    )
    record_decisions(
        lead=lead,
        submission=submission,
        decisions=decisions,
        shown_versions=shown_versions,
        language=context.language,
        channel=context.channel,
    )
    plan_deliveries(submission, destinations)
    token = download_token(grant_download(submission, document)) if document else None
    reclassify_after_capture(lead)
    transaction.on_commit(lambda: _announce(submission))
    return CaptureResult(lead=lead, submission=submission, download_token=token)


def quarantine_spam(
    *, context: SubmissionContext, answers: Mapping[str, str], reason: str
) -> Submission:
    """Keep a suspected bot's submission aside, with no lead and no consent."""
    logger.warning("Lead form submission quarantined as spam: %s", reason)
    return Submission.objects.create(
        answers=dict(answers),
        is_spam=True,
        spam_reason=reason,
        **context.submission_fields(),
    )
