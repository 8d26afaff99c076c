"""API endpoints: a lead page's form schema, and submissions to it.

Both run what the HTML page runs: the schema is read from the very
``LeadForm`` the page renders (``LeadCaptureMixin.get_form``), and a
submission is that form, bound to the JSON answers, handed to
``services.intake.process_submission`` on the "api" channel. So the page and
the API reach the same verdicts, store the same values and count in the
same KPIs. ``form_schema(request, page)`` is also what Wagtail's v3 API
serves.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from ninja import Router

from ..conf import leadgen_settings
from ..forms import (
    CONSENT_GIVEN,
    CONSENT_PREFIX,
    HONEYPOT_FIELD,
    REFERRER_FIELD,
    TOKEN_FIELD,
    LeadForm,
)
from ..models.api_fields import describe_purposes
from ..models.leads import Submission
from ..models.lookup import live_lead_page
from ..services import idempotency, proof_of_work
from ..services.intake import IntakeOutcome, Outcome, process_submission
from ..services.notice import notice_for, request_item
from ..services.tracking import count_page_view
from .problems import ApiProblem, field_error
from .schemas import FormSchemaOut, Problem, SubmissionIn, SubmissionOut

router = Router(tags=["forms"])

NOT_FOUND = "No live, public lead form has this id."


# -- Finding the page and the visitor's language ------------------------------------------
def find_form_page(request: HttpRequest, page_id: int) -> Any:
    """The live, public lead page ``page_id`` (specific), or a 404 problem.

    A page with a view restriction (on itself or an ancestor) is not public:
    its form is not served to anonymous clients, as its HTML page is not."""
    page = live_lead_page(request, page_id, public_only=True)
    if page is None:
        raise ApiProblem(404, "not-found", NOT_FOUND)
    return page


@contextmanager
def visitor_language(request: HttpRequest) -> Iterator[str]:
    """``?lang=`` when it is one of the site's LANGUAGES, else what
    LocaleMiddleware chose from Accept-Language (as for the HTML page)."""
    wanted = request.GET.get("lang", "")
    codes = {code for code, _name in settings.LANGUAGES}
    language = wanted if wanted in codes else translation.get_language()
    with translation.override(language):
        yield translation.get_language() or ""


# -- The schema ------------------------------------------------------------------------------
def _consents_schema(page: Any, form: LeadForm) -> list[dict[str, Any]]:
    items = []
    processing = page.get_request_processing()
    if processing is not None:
        items.append(
            {
                "id": processing.pk,
                "version": processing.live_revision_id,
                "name": processing.summary,
                "text": request_item(processing).purpose_html,
                "is_request": True,
                "requires_confirmation": False,
            }
        )
    items.extend(
        {**described, "is_request": False}
        for described in describe_purposes(form.purposes)
    )
    return items


def _notice(request: HttpRequest, page: Any, form: LeadForm) -> dict[str, Any]:
    notice = notice_for(page, type(form), request)  # as the HTML page: cached
    html = render_to_string(
        "wagtail_leadgen/includes/notice.html",
        {"notice": notice, "request": request, "page": page},
    )
    return {"html": html.strip(), **notice.as_dict()}


def _page_ref(request: HttpRequest, page: Any) -> dict[str, Any]:
    return {"id": page.pk, "title": page.title, "url": page.get_url(request)}


def submit_url(page: Any) -> str:
    """The POST endpoint's path, or "" where the plugin's API is not mounted."""
    try:
        return reverse("wagtail_leadgen_api:form_submissions", args=[page.pk])
    except NoReverseMatch:
        return ""


def form_schema(request: HttpRequest, page: Any) -> dict[str, Any]:
    """The form of a lead page (any ``LeadCaptureMixin`` page) as JSON-ready
    data: the body of ``GET forms/{page_id}``, in the active language.

    It carries a fresh time-trap token: never cache it. It counts nothing;
    an endpoint serving it to visitors calls ``count_page_view`` as the HTML
    page does."""
    form = page.get_form(request=request)
    challenge = proof_of_work.new_challenge()
    return {
        "page": _page_ref(request, page),
        "language": translation.get_language() or "",
        "heading": page.form_heading or _("Get it now"),
        "submit_label": page.submit_label or _("Send"),
        "fields": type(form).describe_answer_fields(),
        "consents": _consents_schema(page, form),
        "notice": _notice(request, page, form),
        "anti_spam": {
            "token": str(form.initial[TOKEN_FIELD]),
            "honeypot_field": HONEYPOT_FIELD,
            "proof_of_work": challenge,
        },
        "submit_url": submit_url(page),
    }


@router.get(
    "/{int:page_id}",
    response={200: FormSchemaOut, 404: Problem},
    url_name="form_schema",
    summary="The form of a lead page",
)
def get_form_schema(request: HttpRequest, page_id: int, lang: str = "") -> Any:
    """Fields, consent boxes, information notice and anti-spam material of a
    live, public lead page; counts a view of the page as its HTML page does.
    `lang` (or Accept-Language) picks one of the site's languages."""
    return _json(200, shown_form_schema(request, page_id))  # no-store: fresh token


def shown_form_schema(request: HttpRequest, page_id: int) -> dict[str, Any]:
    """The schema of lead page ``page_id`` in the visitor's language, counted
    as a view of the page: what every route serving the schema answers (here,
    and on Wagtail's v3 API). Raises a 404 problem for no such page."""
    page = find_form_page(request, page_id)
    with visitor_language(request):
        body = form_schema(request, page)
    count_page_view(request, page)
    return body


# -- Submissions -----------------------------------------------------------------------------
def _form_data(page: Any, payload: SubmissionIn) -> dict[str, str]:
    """The POST data the HTML form would send for these answers."""
    data = dict(payload.answers)
    data.update(
        {
            f"{CONSENT_PREFIX}{pk}": CONSENT_GIVEN
            for pk, ticked in payload.consents.items()
            if ticked
        }
    )
    data[TOKEN_FIELD] = payload.token
    data[HONEYPOT_FIELD] = payload.honeypot
    data[REFERRER_FIELD] = payload.referrer
    if payload.proof_of_work:
        data[proof_of_work.FIELD] = payload.proof_of_work
    return data


def _check_names(form: LeadForm, payload: SubmissionIn) -> None:
    """Answers and boxes the form does not have are refused, not ignored."""
    answer_names = {"email", *form.asked_field_names()}
    box_ids = {str(purpose.pk) for purpose in form.purposes}
    errors = [
        field_error(
            f"answers.{name}", "unknown_field", _("This form has no such field.")
        )
        for name in payload.answers
        if name not in answer_names
    ] + [
        field_error(
            f"consents.{pk}", "unknown_consent", _("This form has no such box.")
        )
        for pk in payload.consents
        if pk not in box_ids
    ]
    if errors:
        raise ApiProblem(
            422, "invalid-body", _("The body names unknown fields."), errors=errors
        )


def _error_name(form: LeadForm, name: str) -> str | None:
    if name == "__all__":
        return None
    if name.startswith(CONSENT_PREFIX):
        return f"consents.{name.removeprefix(CONSENT_PREFIX)}"
    return f"answers.{name}"


def form_errors(form: LeadForm) -> list[dict[str, Any]]:
    """A bound form's errors in the problem ``errors`` shape."""
    return [
        field_error(
            _error_name(form, name), error.get("code") or "invalid", error["message"]
        )
        for name, errors in form.errors.get_json_data().items()
        for error in errors
    ]


def submission_reference(submission: Submission) -> str:
    """An opaque reference of a submission: 32 hex characters, as a decoy is."""
    return salted_hmac(
        "wagtail_leadgen.api-submission", str(submission.pk), algorithm="sha256"
    ).hexdigest()[:32]


def _success_body(
    request: HttpRequest, page: Any, intake: IntakeOutcome, ticked: set[str]
) -> dict[str, Any]:
    thank_you = page.thank_you_page
    download = (
        reverse("wagtail_leadgen:download", args=[intake.download_token])
        if intake.download_token
        else None
    )
    if intake.result is not None:
        reference = submission_reference(intake.result.submission)
        confirmation = intake.result.confirmation_requested
    else:  # spam: the answer a success would get, pointing at nothing
        reference = secrets.token_hex(16)
        confirmation = any(
            purpose.requires_confirmation
            for purpose in intake.form.purposes
            if str(purpose.pk) in ticked
        )
    return {
        "submission_id": reference,
        "thank_you_page": (
            _page_ref(request, thank_you)
            if thank_you is not None and thank_you.live
            else None
        ),
        "download_url": download,
        "confirmation_requested": confirmation,
    }


def _refusal(intake: IntakeOutcome) -> ApiProblem:
    if intake.outcome == Outcome.RATE_LIMITED:
        return ApiProblem(
            429,
            "rate-limited",
            _(
                "Too many submissions from your network. Please try again in a few minutes."
            ),
            headers={"Retry-After": str(leadgen_settings.RATE_LIMIT_WINDOW)},
        )
    if intake.outcome == Outcome.EXPIRED:
        return ApiProblem(
            409,
            "form-expired",
            _("This form was open for too long: fetch the form again and resend."),
        )
    if intake.outcome == Outcome.CHANGED:
        return ApiProblem(
            409,
            "form-changed",
            _("The information on this form changed: fetch the form again and resend."),
        )
    return ApiProblem(
        422,
        "invalid-answers",
        _("Some answers need correcting."),
        errors=form_errors(intake.form),
    )


def _submit(request: HttpRequest, page: Any, payload: SubmissionIn) -> dict[str, Any]:
    # With the request: a ``Leadgen-Profile`` header binds it to a known person.
    form = page.get_form(_form_data(page, payload), request=request)
    _check_names(form, payload)
    intake = process_submission(
        form, request=request, offer=page.get_offer(), channel="api"
    )
    if not intake.looks_successful:
        raise _refusal(intake)
    ticked = {pk for pk, value in payload.consents.items() if value}
    return _success_body(request, page, intake, ticked)


def _json(status: int, body: dict[str, Any]) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body), status=status, content_type="application/json"
    )
    response["Cache-Control"] = "no-store"
    return response


IDEMPOTENCY_CONFLICTS = {
    "reused": _("This Idempotency-Key was used with another body."),
    "in_progress": _("A request with this Idempotency-Key is still running; retry."),
}


@router.post(
    "/{int:page_id}/submissions",
    response={
        201: SubmissionOut,
        400: Problem,
        404: Problem,
        409: Problem,
        413: Problem,
        415: Problem,
        422: Problem,
        429: Problem,
    },
    url_name="form_submissions",
    summary="Send a lead page's form",
)
def post_submission(request: HttpRequest, page_id: int, payload: SubmissionIn) -> Any:
    """The same intake as the HTML form (rate limit, anti-spam, validation,
    capture with consent proof on the "api" channel, CRM outbox). An optional
    `Idempotency-Key` header makes retries safe: the same key and body get the
    same answer and no second lead."""
    page = find_form_page(request, page_id)
    key = request.headers.get("Idempotency-Key")
    with visitor_language(request):
        if key is None:
            return _json(201, _submit(request, page, payload))
        if not idempotency.is_valid_key(key):
            raise ApiProblem(
                400,
                "invalid-idempotency-key",
                _("An Idempotency-Key is 1 to 255 visible ASCII characters."),
            )
        digest = idempotency.body_hash(payload.model_dump())
        try:
            reserved = idempotency.reserve(key, page, digest)
        except idempotency.KeyConflict as conflict:
            raise ApiProblem(
                409,
                f"idempotency-key-{conflict.reason.replace('_', '-')}",
                IDEMPOTENCY_CONFLICTS[conflict.reason],
                headers={"Retry-After": "1"}
                if conflict.reason == "in_progress"
                else None,
            ) from conflict
        if isinstance(reserved, idempotency.Replay):
            return _json(reserved.status, reserved.body)
        try:
            body = _submit(request, page, payload)
        except BaseException:
            idempotency.release(reserved)
            raise
        idempotency.answer(reserved, 201, body)
        return _json(201, body)
