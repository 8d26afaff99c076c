"""Spam review: quarantined submissions, released as leads or deleted.

A submission caught by the honeypot, the time trap or a bad form token is
answered like a success and kept aside (``Submission.is_spam``, no lead),
with the boxes its form showed and those ticked (``shown_form``). A false
positive (a browser's autofill under two seconds, a rotated ``SECRET_KEY``)
is released through the very capture path of a form: the page's form
checks the answers again, the consents are recorded against the versions
shown then, and the lead goes to the page's CRM destinations as usual.
The quarantined row then goes (its content lives on in the lead). Deleting
one removes the row and leaves a tombstone with no personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from ..forms import CONSENT_GIVEN, HONEYPOT_FIELD, LeadForm
from ..models.consent import ConsentPurpose
from ..models.erasure import Erasure
from ..models.leads import Submission
from ..models.processing import RequestProcessing
from .callbacks import callback_recorder
from .capture import UTM_KEYS, CaptureResult, SubmissionContext, capture_lead
from .consent import ShownVersionMissing


class ReleaseProblem(Exception):
    """A quarantined submission that cannot be released; ``message`` says why."""

    message: Any = ""


class NotQuarantined(ReleaseProblem):
    message = _(
        "This submission is no longer in quarantine: it was released or deleted."
    )


class PageGone(ReleaseProblem):
    message = _(
        "The page this submission was sent from no longer exists: it cannot be "
        "released as a lead. Delete it, or ask the person to fill in a form again."
    )


class InvalidAddress(ReleaseProblem):
    message = _(
        "This submission has no valid email address: it cannot become a lead. "
        "Delete it."
    )


class InvalidAnswers(ReleaseProblem):
    message = _(
        "Some answers of this submission would be refused by the form: it cannot "
        "be released as sent. Delete it, or ask the person to fill in the form again."
    )


class TextsChanged(ReleaseProblem):
    message = _(
        "A consent or notice text this form showed was deleted since: the "
        "consents cannot be recorded against what the person read. Delete it, or "
        "ask the person to fill in the form again."
    )


def quarantined() -> QuerySet[Submission]:
    """Quarantined submissions, newest first."""
    return Submission.objects.filter(is_spam=True).select_related("page")


def address_of(submission: Submission) -> str:
    """The address a quarantined submission carries, as sent (unchecked)."""
    return str(submission.answers.get("email", ""))


def _shown_purposes(
    shown: Mapping[str, Any],
) -> tuple[list[ConsentPurpose], dict[int, int | None]]:
    versions = {int(pk): version for pk, version in shown.get("purposes", {}).items()}
    found = ConsentPurpose.objects.in_bulk(list(versions))
    if len(found) < len(versions):
        raise TextsChanged
    return [found[pk] for pk in versions], versions


def _request_shown(
    shown: Mapping[str, Any],
) -> tuple[RequestProcessing | None, int | None]:
    if not shown.get("request"):
        return None, None
    processing_pk, version = shown["request"]
    processing = RequestProcessing.objects.filter(pk=processing_pk).first()
    if processing is None:
        raise TextsChanged
    return processing, version


def _bound_form(
    page: Any, spam: Submission, purposes: list[ConsentPurpose]
) -> LeadForm:
    """The page's form, with the purposes shown then, filled as it was sent."""
    ticked = set(spam.shown_form.get("ticked", []))
    data = {k: v for k, v in spam.answers.items() if k != HONEYPOT_FIELD}
    data.update(
        {
            f"consent_{purpose.pk}": CONSENT_GIVEN
            for purpose in purposes
            if purpose.pk in ticked
        }
    )
    return page.get_form_class(purposes)(data)


@transaction.atomic
def release(submission_pk: int) -> tuple[CaptureResult, Submission]:
    """Capture a quarantined submission as the form would have: consents as
    shown and ticked, delivered to the page's destinations, counted as a
    lead. Returns the capture and the (now deleted) quarantined row.

    Raises a ``ReleaseProblem``; nothing is stored then."""
    spam = (
        # Lock the submission row only: PostgreSQL refuses FOR UPDATE on the
        # nullable side of the outer join to its page.
        Submission.objects.select_for_update(of=("self",))
        .filter(pk=submission_pk, is_spam=True)
        .select_related("page")
        .first()
    )
    if spam is None:
        raise NotQuarantined
    page = spam.page.specific if spam.page is not None else None
    if page is None or not hasattr(page, "get_offer"):
        raise PageGone
    purposes, versions = _shown_purposes(spam.shown_form)
    processing, request_version = _request_shown(spam.shown_form)
    form = _bound_form(page, spam, purposes)
    if not form.is_valid():
        raise InvalidAddress if "email" in form.errors else InvalidAnswers
    context = SubmissionContext(
        page=page,
        language=spam.language,
        channel=spam.channel,
        referrer=spam.referrer,
        utm={key: getattr(spam, key) for key in UTM_KEYS},
    )
    try:
        result = capture_lead(
            context=context,
            email=form.cleaned_data["email"],
            answers=form.answers(),
            decisions=form.consent_answers(),
            shown_versions=versions,
            destinations=page.get_offer().destinations,
            request_processing=processing,
            request_version=request_version,
            also=callback_recorder(form),
        )
    except ShownVersionMissing:
        raise TextsChanged from None
    spam.delete()
    return result, spam


@transaction.atomic
def delete_spam(submission_pk: int, *, requested_by: str) -> Erasure | None:
    """Delete one quarantined submission, leaving a tombstone; None when it
    is no longer in quarantine."""
    deleted, _counts = Submission.objects.filter(
        pk=submission_pk, is_spam=True
    ).delete()
    if not deleted:
        return None
    return Erasure.objects.create(
        reason=Erasure.Reason.SPAM,
        requested_by=requested_by,
        removed={"submissions": 1},
    )
