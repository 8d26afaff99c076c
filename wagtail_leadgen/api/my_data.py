"""API endpoints: the person's own data, for a front end hosting the "my data"
page (docs/headless-rights.md).

1. ``POST /my-data/requests`` ``{email}``: 202 whatever the address; a link is
   emailed only to a known one (``services.my_data.request_link``).
2. ``POST /my-data/verify`` ``{token}``: uses the emailed link up and gives a
   bearer token for ``MY_DATA_SESSION_AGE`` seconds (the HTML page's session).
3. With ``Authorization: Bearer <access_token>``: ``GET /my-data/`` (the JSON
   file of the HTML page's download), ``POST /my-data/corrections``,
   ``POST /my-data/erasure``, ``POST /my-data/leave``.

The same services as views/my_data.py: same throttles, audit log entries,
contact counting, rectification and erasure.
"""

from __future__ import annotations

from typing import Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from ninja import Field, Router, Schema, Status

from ..audit import log_subject_exported
from ..conf import leadgen_settings
from ..models.access import AccessRequest
from ..models.erasure import Erasure
from ..models.rectification import RectificationSource
from ..services import my_data
from ..services.erasure import erase_address
from ..services.ratelimit import client_ip
from ..services.rectification import InvalidCorrection, rectify
from ..services.subject import subject_file
from ..validators import EMAIL_MAX_LENGTH, validate_lead_email
from .guards import (
    BEARER_ERRORS,
    BODY_ERRORS,
    TOKEN_ERRORS,
    TOKEN_MAX_LENGTH,
    MyDataAccess,
    ProblemOut,
    bad_token,
    private,
)
from .guards import refuse_if_throttled as _throttle
from .problems import ApiProblem, field_error
from .schemas import StrictBody

router = Router(tags=["my-data"])

#: Most answers one correction may change.
MAX_CORRECTIONS = 50
#: Longest corrected value accepted by the schema (the form's own limits,
#: shorter, apply next).
MAX_VALUE_LENGTH = 10_000


class LinkRequestIn(StrictBody):
    email: str = Field(min_length=1, max_length=EMAIL_MAX_LENGTH)


class LinkRequestedOut(Schema):
    detail: str
    link_max_age: int = Field(description="Seconds the emailed link works.")


class VerifyIn(StrictBody):
    token: str = Field(min_length=1, max_length=TOKEN_MAX_LENGTH)


class AccessOut(Schema):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 -- a scheme name
    expires_in: int = Field(description="Seconds the access token works.")


class CorrectionIn(StrictBody):
    changes: dict[str, str] = Field(
        min_length=1,
        max_length=MAX_CORRECTIONS,
        description="New values by field kind (e.g. first_name), as in the "
        "'submissions' answers of GET /my-data/.",
    )


class CorrectedOut(Schema):
    changed: list[str] = Field(
        description="The answers whose value changed (empty: nothing to change)."
    )


class ErasureIn(StrictBody):
    confirm: Literal[True] = Field(
        description="Must be true: the person confirmed they want everything erased."
    )


class ErasedOut(Schema):
    erased: bool
    destinations_asked: int = Field(
        description="Other systems (CRMs) asked to erase the person too."
    )


MY_DATA_AUTH = MyDataAccess()


def _access(request: HttpRequest) -> AccessRequest:
    return request.auth  # type: ignore[attr-defined]


# -- Step 1 -----------------------------------------------------------------------
@router.post(
    "/requests",
    response={202: LinkRequestedOut, BODY_ERRORS: ProblemOut},
    summary="Ask for a link to the person's data",
    operation_id="my_data_request",
)
def request_link(request: HttpRequest, payload: LinkRequestIn, response: HttpResponse):
    """The same answer whether the address is known or not; only a known one
    gets an email. Too many requests from this client or for this address:
    429, also whether known or not."""
    private(response)
    email = payload.email.strip()
    try:
        validate_lead_email(email)
    except ValidationError as error:
        raise ApiProblem(
            422,
            "invalid-body",
            "The request body does not match the schema.",
            errors=[field_error("email", "invalid", " ".join(error.messages))],
        ) from None
    if not my_data.request_link(email, client_ip=client_ip(request)):
        raise ApiProblem(
            429,
            "rate-limited",
            "Too many requests for a link. Try again later.",
            headers={"Retry-After": str(leadgen_settings.MY_DATA_REQUESTS_WINDOW)},
        )
    return Status(
        202,
        LinkRequestedOut(
            detail="If we hold data about this address, a link is on its way to it.",
            link_max_age=leadgen_settings.MY_DATA_LINK_MAX_AGE,
        ),
    )


# -- Step 2 -----------------------------------------------------------------------
_LINK_PROBLEMS: dict[type[my_data.LinkProblem], tuple[int, str, str]] = {
    my_data.UnknownLink: (
        404,
        "link-unknown",
        "This link is not valid: it may have been cut or changed. Ask for a new one.",
    ),
    my_data.UsedLink: (
        409,
        "link-used",
        "A link to the person's data works once. Ask for a new one.",
    ),
    my_data.ExpiredLink: (
        410,
        "link-expired",
        "This link has expired. Ask for a new one.",
    ),
}


@router.post(
    "/verify",
    response={200: AccessOut, TOKEN_ERRORS: ProblemOut},
    summary="Use the emailed link; get an access token",
    operation_id="my_data_verify",
)
def verify(request: HttpRequest, payload: VerifyIn, response: HttpResponse):
    """Use the emailed link up (it works once) and answer with a bearer token
    for the other endpoints, valid ``expires_in`` seconds or until
    ``POST /my-data/leave`` or an erasure. Counts as a contact, and is logged."""
    private(response)
    _throttle(request)
    try:
        access = my_data.access_for_token(payload.token)
        my_data.verify(access)
    except my_data.LinkProblem as problem:
        status, slug, detail = _LINK_PROBLEMS[type(problem)]
        if status == 404:
            raise bad_token(request, status, slug, detail) from None
        raise ApiProblem(status, slug, detail) from None
    return AccessOut(
        access_token=my_data.api_access_token(access),
        expires_in=leadgen_settings.MY_DATA_SESSION_AGE,
    )


# -- Step 3 -----------------------------------------------------------------------
@router.get(
    "/",
    auth=MY_DATA_AUTH,
    response={200: dict, BEARER_ERRORS: ProblemOut},
    summary="Everything stored about the person",
    operation_id="my_data_export",
)
def export(request: HttpRequest) -> HttpResponseBase:
    """The JSON file of the HTML page's download (format
    ``wagtail-leadgen/subject-data``), logged as an export."""
    lead = _access(request).lead
    log_subject_exported(lead, None, export_format="json", channel="api")
    file = subject_file(lead, "json", filename="my-data")
    del file["Content-Disposition"]
    private(file)  # type: ignore[arg-type]
    return file


@router.post(
    "/corrections",
    auth=MY_DATA_AUTH,
    response={200: CorrectedOut, BEARER_ERRORS | BODY_ERRORS: ProblemOut},
    summary="Correct the person's details",
    operation_id="my_data_correct",
)
def correct(request: HttpRequest, payload: CorrectionIn, response: HttpResponse):
    """Correct answers the person gave (the HTML page's correction form):
    recorded, and passed on to every CRM that has the person."""
    private(response)
    lead = _access(request).lead
    try:
        rectification = rectify(
            lead, payload.changes, source=RectificationSource.PERSON
        )
    except InvalidCorrection as invalid:
        raise ApiProblem(
            422,
            "invalid-correction",
            "Some corrections cannot be made; nothing was changed.",
            errors=[
                field_error(f"changes.{field}", "invalid", " ".join(messages))
                for field, messages in invalid.errors.items()
            ],
        ) from None
    return CorrectedOut(
        changed=sorted(rectification.values) if rectification is not None else []
    )


@router.post(
    "/erasure",
    auth=MY_DATA_AUTH,
    response={200: ErasedOut, BEARER_ERRORS | BODY_ERRORS: ProblemOut},
    summary="Erase everything about the person",
    operation_id="my_data_erase",
)
def erase(request: HttpRequest, payload: ErasureIn, response: HttpResponse):
    """Erase the person everywhere at once and ask each CRM that has them to
    erase too (the HTML page's erasure). The access token stops working."""
    private(response)
    lead = _access(request).lead
    erasure = erase_address(
        lead.email, reason=Erasure.Reason.PERSON, requested_by="self-service"
    )
    return ErasedOut(
        erased=True,
        destinations_asked=len(erasure.destinations) if erasure is not None else 0,
    )


@router.post(
    "/leave",
    auth=MY_DATA_AUTH,
    response={204: None, BEARER_ERRORS: ProblemOut},
    summary="End the access",
    operation_id="my_data_leave",
)
def leave(request: HttpRequest, response: HttpResponse):
    """The access token stops working at once."""
    private(response)
    my_data.end_api_access(_access(request))
    return Status(204, None)
