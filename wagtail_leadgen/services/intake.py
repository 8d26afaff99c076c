"""One intake pipeline for every channel: rate limit, anti-spam, validation, capture.

The HTML view calls ``process_submission`` today and the JSON API will call
it too, so both reach the same verdicts for the same input.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from ..conf import leadgen_settings
from ..forms import HONEYPOT_FIELD, REFERRER_FIELD, TOKEN_FIELD, LeadForm
from ..tokens import ExpiredToken, InvalidToken, read_form_token
from .capture import (
    UTM_KEYS,
    CaptureResult,
    SubmissionContext,
    capture_lead,
    quarantine_spam,
)
from .ratelimit import allow_submission

logger = logging.getLogger("wagtail_leadgen.security")

_SPAM_ANSWER_LIMIT = 500


class Outcome(enum.StrEnum):
    CAPTURED = "captured"
    SPAM = "spam"  # answered like a success (bots learn nothing), kept in quarantine
    INVALID = "invalid"
    EXPIRED = "expired"
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True)
class IntakeOutcome:
    outcome: Outcome
    form: LeadForm
    result: CaptureResult | None = None


def referrer_origin(value: str) -> str:
    """Keep where a visitor came from, without a query string that may hold personal data."""
    parts = urlsplit(value or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}{parts.path}"[:500]


def _submission_context(
    page: Any, request: HttpRequest, data: Mapping[str, Any], channel: str
) -> SubmissionContext:
    return SubmissionContext(
        page=page,
        language=get_language() or "",
        channel=channel,
        referrer=referrer_origin(str(data.get(REFERRER_FIELD, ""))),
        utm={key: request.GET.get(key, "") for key in UTM_KEYS},
    )


def _raw_answers(form: LeadForm) -> dict[str, str]:
    names = ["email", *form.extra_field_kinds, HONEYPOT_FIELD]
    return {
        name: str(form.data.get(name, ""))[:_SPAM_ANSWER_LIMIT]
        for name in names
        if form.data.get(name)
    }


def process_submission(
    page: Any, request: HttpRequest, data: Mapping[str, Any], *, channel: str = "web"
) -> IntakeOutcome:
    """Run one submission for a lead-capture page through the whole pipeline."""
    form = page.get_form(data)
    if not allow_submission(request):
        form.add_error(
            None,
            _(
                "Too many submissions from your network. Please try again in a few minutes."
            ),
        )
        return IntakeOutcome(Outcome.RATE_LIMITED, form)

    context = _submission_context(page, request, data, channel)
    if form.honeypot_hit:
        quarantine_spam(context=context, answers=_raw_answers(form), reason="honeypot")
        return IntakeOutcome(Outcome.SPAM, form)
    try:
        token = read_form_token(str(data.get(TOKEN_FIELD, "")), page_id=page.pk)
    except ExpiredToken:
        logger.info("Lead form token expired; form shown again")
        form.is_valid()  # keep the visitor's answers and show any field error too
        form.add_error(
            None,
            _(
                "This form was open for too long. Please check your answers and send it again."
            ),
        )
        return IntakeOutcome(Outcome.EXPIRED, form)
    except InvalidToken:
        quarantine_spam(context=context, answers=_raw_answers(form), reason="bad_token")
        return IntakeOutcome(Outcome.SPAM, form)
    if token.age < leadgen_settings.FORM_MIN_FILL_SECONDS:
        quarantine_spam(context=context, answers=_raw_answers(form), reason="too_fast")
        return IntakeOutcome(Outcome.SPAM, form)

    if not form.is_valid():
        return IntakeOutcome(Outcome.INVALID, form)
    result = capture_lead(
        context=context,
        email=form.cleaned_data["email"],
        answers=form.answers(),
        decisions=form.consent_answers(),
        shown_versions=token.purpose_versions,
        destinations=page.get_crm_destinations(),
        document=page.get_gated_document(),
    )
    return IntakeOutcome(Outcome.CAPTURED, form, result)
