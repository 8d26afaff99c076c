"""One intake pipeline for every channel: rate limit, anti-spam, validation, capture.

A channel builds the bound form and the ``Offer`` and hands both over; nothing
here calls back into the page. The HTML view calls ``process_submission`` and
the JSON API calls it too, so both reach the same verdicts for the same input.
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from ..cleaning import clean_metadata
from ..conf import leadgen_settings
from ..forms import (
    CONSENT_GIVEN,
    HONEYPOT_FIELD,
    REFERRER_FIELD,
    LeadForm,
    referrer_origin,
)
from ..tokens import (
    ExpiredToken,
    InvalidToken,
    make_download_token,
    read_form_token,
)
from . import proof_of_work
from .callbacks import callback_recorder
from .capture import (
    UTM_KEYS,
    CaptureResult,
    SubmissionContext,
    capture_lead,
    quarantine_spam,
)
from .consent import ShownVersionMissing
from .experiment_counts import record_conversion
from .ratelimit import allow_submission

logger = logging.getLogger("wagtail_leadgen.security")

_SPAM_ANSWER_LIMIT = 500


class Outcome(enum.StrEnum):
    CAPTURED = "captured"
    SPAM = "spam"  # answered like a success (bots learn nothing), kept in quarantine
    INVALID = "invalid"
    EXPIRED = "expired"
    # A consent or notice text shown by the form was removed meanwhile: the
    # form is shown again with the current texts (no proof of another wording).
    CHANGED = "changed"
    RATE_LIMITED = "rate_limited"


# What the visitor sees: spam gets the very answer of a success.
_STATUS = {
    Outcome.CAPTURED: 200,
    Outcome.SPAM: 200,
    Outcome.INVALID: 400,
    Outcome.EXPIRED: 400,
    Outcome.CHANGED: 400,
    Outcome.RATE_LIMITED: 429,
}


@dataclass(frozen=True)
class Offer:
    """What a submission is for: the page, where its leads go, what it unlocks."""

    page: Any
    destinations: Sequence[str] = ()
    document: Any = None
    request_processing: Any = None


@dataclass(frozen=True)
class IntakeOutcome:
    """The verdict on one submission, with what the channel needs to answer it.

    ``download_token`` is the real link for a captured gated offer, and a
    decoy of the same shape for spam (it points at no grant, so it never
    serves the file).
    """

    outcome: Outcome
    form: LeadForm
    result: CaptureResult | None = None
    download_token: str | None = None

    @property
    def looks_successful(self) -> bool:
        return self.outcome in (Outcome.CAPTURED, Outcome.SPAM)

    @property
    def status_code(self) -> int:
        return _STATUS[self.outcome]


def _submission_context(
    offer: Offer, request: HttpRequest, form: LeadForm, channel: str
) -> SubmissionContext:
    return SubmissionContext(
        page=offer.page,
        language=get_language() or "",
        channel=channel,
        referrer=referrer_origin(form.data.get(REFERRER_FIELD, "")),
        utm={key: request.GET.get(key, "") for key in UTM_KEYS},
    )


def _raw_answers(form: LeadForm) -> dict[str, str]:
    """What a suspected bot sent, cleaned and cut: kept for review, never trusted."""
    names = ["email", *form.extra_field_kinds, HONEYPOT_FIELD]
    answers = {
        name: clean_metadata(
            form.data.get(name, ""), _SPAM_ANSWER_LIMIT, multiline=True
        )
        for name in names
    }
    return {name: value for name, value in answers.items() if value}


def _shown_form(form: LeadForm, offer: Offer) -> dict[str, Any]:
    """What a quarantined form showed and what was ticked, so that staff can
    release it as sent: each purpose's version from the form's token, or,
    when the token cannot be read (a rotated key, or spam caught before it
    was read), the version live when the form was posted."""
    processing = offer.request_processing
    try:
        token = read_form_token(form.posted_token, page_id=offer.page.pk)
        versions, request_version = token.purpose_versions, token.request_version
    except InvalidToken:
        versions = {purpose.pk: purpose.live_revision_id for purpose in form.purposes}
        request_version = processing.live_revision_id if processing else None
    return {
        "purposes": {str(p.pk): versions.get(p.pk) for p in form.purposes},
        "ticked": [
            purpose.pk
            for purpose in form.purposes
            if form.data.get(form.consent_field_name(purpose)) == CONSENT_GIVEN
        ],
        "request": [processing.pk, request_version] if processing else None,
    }


def _spam(
    form: LeadForm, offer: Offer, context: SubmissionContext, reason: str
) -> IntakeOutcome:
    quarantine_spam(
        context=context,
        answers=_raw_answers(form),
        reason=reason,
        shown_form=_shown_form(form, offer),
    )
    decoy = make_download_token(uuid.uuid4().hex) if offer.document else None
    return IntakeOutcome(Outcome.SPAM, form, download_token=decoy)


CHANGED_MESSAGE = _(
    "The information on this form changed while it was open. "
    "Please read it again and send the form."
)


def _changed(form: LeadForm) -> IntakeOutcome:
    logger.info("A text the form showed was removed meanwhile; form shown again")
    form.is_valid()  # keep the visitor's answers and show any field error too
    form.add_error(None, CHANGED_MESSAGE)
    return IntakeOutcome(Outcome.CHANGED, form)


def process_submission(
    form: LeadForm, *, request: HttpRequest, offer: Offer, channel: str = "web"
) -> IntakeOutcome:
    """Run one bound form through the whole pipeline: rate limit, honeypot,
    time-trap token, validation, then capture."""
    if not allow_submission(request):
        form.add_error(
            None,
            _(
                "Too many submissions from your network. Please try again in a few minutes."
            ),
        )
        return IntakeOutcome(Outcome.RATE_LIMITED, form)

    context = _submission_context(offer, request, form, channel)
    if form.honeypot_hit:
        return _spam(form, offer, context, "honeypot")
    try:
        token = read_form_token(form.posted_token, page_id=offer.page.pk)
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
        return _spam(form, offer, context, "bad_token")
    if token.age < leadgen_settings.FORM_MIN_FILL_SECONDS:
        return _spam(form, offer, context, "too_fast")
    if proof_of_work.enabled():
        verdict = proof_of_work.check(str(form.data.get(proof_of_work.FIELD, "")))
        if verdict == proof_of_work.Verdict.INVALID:
            return _spam(form, offer, context, "bad_proof_of_work")
        minimum = leadgen_settings.proof_of_work["NO_JS_MIN_FILL_SECONDS"]
        if verdict == proof_of_work.Verdict.MISSING and token.age < minimum:
            return _spam(form, offer, context, "too_fast_without_proof")

    if form.shown_purposes_missing:
        return _changed(form)
    if not form.is_valid():
        return IntakeOutcome(Outcome.INVALID, form)
    try:
        result = capture_lead(
            context=context,
            email=form.cleaned_data["email"],
            answers=form.answers(),
            decisions=form.consent_answers(),
            shown_versions=token.purpose_versions,
            destinations=offer.destinations,
            document=offer.document,
            request_processing=offer.request_processing,
            request_version=token.request_version,
            also=callback_recorder(form),
        )
    except ShownVersionMissing:
        return _changed(form)
    record_conversion(offer.page.pk, token.variant)  # an A/B test's variant
    return IntakeOutcome(
        Outcome.CAPTURED, form, result, download_token=result.download_token
    )
