"""API endpoints: the consent lifecycle, for a front end hosting the pages
reached from the plugin's emails (docs/headless-rights.md).

- ``POST /consent/confirm``: confirm a double opt-in (``services.optin``).
- ``GET /consent/preferences`` (the token in ``Authorization: Bearer``) and
  ``POST /consent/preferences``: the person's purposes; withdraw or give
  again (``services.preferences``, channel "api").
- ``POST /consent/unsubscribe``: one-click withdrawal (channel "api").

The same services as the HTML pages (views/consent.py), so the same records,
CRM hand-off and contact; bad links get the same verdicts as problem JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.html import strip_tags
from django.utils.translation import get_language
from ninja import Field, Router, Schema

from ..mailer import wording_of
from ..models.consent import ConsentPurpose, ConsentRecord
from ..models.leads import Lead
from ..models.privacy import SuppressionSource
from ..services import optin, preferences
from ..services.preferences import LinkHolder, NotOffered, PreferenceRow, UnknownLink
from .guards import (
    BEARER_ERRORS,
    TOKEN_ERRORS,
    TOKEN_MAX_LENGTH,
    BearerToken,
    ProblemOut,
    bad_token,
    private,
)
from .guards import refuse_if_throttled as _throttle
from .problems import ApiProblem, field_error
from .schemas import StrictBody

router = Router(tags=["consent"])

#: The consent channel of changes made through the API.
CHANNEL = "api"
#: Most changes one request may make.
MAX_CHANGES = 50


class TokenIn(StrictBody):
    token: str = Field(min_length=1, max_length=TOKEN_MAX_LENGTH)


class PurposeOut(Schema):
    id: int
    name: str
    label: str = Field(description="The wording's checkbox label.")


class ConfirmedOut(Schema):
    confirmed: list[PurposeOut]
    preferences_token: str = Field(
        description="The person's preferences token, for a link to that page."
    )


class PreferenceOut(Schema):
    id: int
    name: str
    state: str = Field(
        description="granted, pending, refused, withdrawn or expired (a ConsentDecision)."
    )
    since: datetime
    in_force: bool
    can_grant: bool = Field(
        description="Whether 'grant' is accepted: not in force, purpose still live."
    )
    label: str
    text_html: str = Field(
        description="The wording agreed to (in force) or offered (can_grant), sanitised HTML."
    )
    text: str


class PreferencesOut(Schema):
    purposes: list[PreferenceOut]


class ChangeIn(StrictBody):
    purpose: int = Field(description="A purpose id from GET /consent/preferences.")
    action: Literal["grant", "withdraw"]


class PreferencesIn(StrictBody):
    token: str = Field(min_length=1, max_length=TOKEN_MAX_LENGTH)
    withdraw_all: bool = Field(
        False,
        description="Withdraw every consent and object to all marketing, "
        "present and future. Exclusive with 'changes'.",
    )
    changes: list[ChangeIn] = Field(default_factory=list, max_length=MAX_CHANGES)


class UnsubscribedOut(Schema):
    withdrawn: list[PurposeOut]
    all_marketing: bool = Field(
        description="True: the link objected to all marketing, not one purpose."
    )


def _purpose(record: ConsentRecord) -> PurposeOut:
    return PurposeOut(
        id=record.purpose_id,
        name=record.purpose.name,
        label=wording_of(record).label,
    )


# -- Double opt-in ----------------------------------------------------------------
_CONFIRM_UNKNOWN = (
    404,
    "confirmation-unknown",
    "This confirmation link is not valid: it may have been cut or changed.",
)
_CONFIRM_USED = (
    409,
    "confirmation-used",
    "This confirmation link has already been used; what it confirmed is recorded.",
)
_CONFIRM_EXPIRED = (
    410,
    "confirmation-expired",
    "This confirmation link has expired; nothing was confirmed. "
    "The person can fill in the form again.",
)
_NOTHING = (
    409,
    "nothing-to-confirm",
    "What this link would confirm was withdrawn, expired or confirmed since.",
)


@router.post(
    "/confirm",
    response={200: ConfirmedOut, TOKEN_ERRORS: ProblemOut},
    summary="Confirm a double opt-in",
    operation_id="consent_confirm",
)
def confirm(request: HttpRequest, payload: TokenIn, response: HttpResponse):
    """Confirm what the emailed link's submission left pending. Single use."""
    private(response)
    _throttle(request)
    try:
        confirmation = optin.confirmation_for_token(payload.token)
    except optin.UnknownLink:
        raise bad_token(request, *_CONFIRM_UNKNOWN) from None
    except optin.UsedLink:
        raise ApiProblem(*_CONFIRM_USED) from None
    except optin.ExpiredLink:
        raise ApiProblem(*_CONFIRM_EXPIRED) from None
    with translation.override(confirmation.submission.language or get_language()):
        try:
            records = optin.confirm(confirmation, language=get_language() or "")
        except optin.UsedLink:
            raise ApiProblem(*_CONFIRM_USED) from None
        except optin.ExpiredLink:
            raise ApiProblem(*_CONFIRM_EXPIRED) from None
        if not records:
            raise ApiProblem(*_NOTHING)
        return ConfirmedOut(
            confirmed=[_purpose(record) for record in records],
            preferences_token=preferences.preferences_token(confirmation.lead),
        )


# -- Preferences ------------------------------------------------------------------
_LINK_UNKNOWN = (
    404,
    "link-unknown",
    "This link is not valid: it may have been cut, changed or replaced by a newer one.",
)


def _holder(request: HttpRequest, token: str) -> LinkHolder:
    try:
        return preferences.holder_for_token(token)
    except UnknownLink:
        raise bad_token(request, *_LINK_UNKNOWN) from None


class PreferencesToken(BearerToken):
    """A preferences token (from a preferences link), as a bearer token."""

    refused_slug, refused_detail = _LINK_UNKNOWN[1:]

    def authenticate(self, request: HttpRequest, token: str) -> LinkHolder:
        return _holder(request, token)


def _row(row: PreferenceRow) -> PreferenceOut:
    return PreferenceOut(
        id=row.purpose.pk,
        name=row.purpose.name,
        state=row.state,
        since=row.since,
        in_force=row.in_force,
        can_grant=row.can_grant,
        label=row.label,
        text_html=str(row.text_html),
        text=strip_tags(row.text_html).strip(),
    )


def _preferences(lead: Lead) -> PreferencesOut:
    return PreferencesOut(
        purposes=[_row(row) for row in preferences.preference_rows(lead)]
    )


@router.get(
    "/preferences",
    response={200: PreferencesOut, BEARER_ERRORS | {404}: ProblemOut},
    auth=PreferencesToken(),
    summary="The person's consents",
    operation_id="consent_preferences",
)
def preferences_get(request: HttpRequest, response: HttpResponse):
    """Each purpose the person decided on, with its state and wording. The
    preferences token goes in ``Authorization: Bearer`` (not in the URL,
    which servers and proxies log). Changes nothing."""
    private(response)
    holder: LinkHolder = request.auth  # type: ignore[attr-defined]
    with translation.override(preferences.language_of(holder.lead) or get_language()):
        return _preferences(holder.lead)


def _planned(lead: Lead, changes: list[ChangeIn]) -> list[tuple[str, PreferenceRow]]:
    """Each change with its row, all checked before any is made."""
    errors = []
    planned: list[tuple[str, PreferenceRow]] = []
    for index, change in enumerate(changes):
        try:
            row = preferences.row_for(lead, change.purpose)
        except NotOffered:
            errors.append(
                field_error(
                    f"changes.{index}.purpose",
                    "not-offered",
                    "The person never decided on this purpose.",
                )
            )
            continue
        if change.action == "grant" and not row.can_grant:
            errors.append(
                field_error(
                    f"changes.{index}.action",
                    "cannot-grant",
                    "This consent is in force already, or its purpose is not live.",
                )
            )
            continue
        planned.append((change.action, row))
    if errors:
        raise ApiProblem(
            422, "invalid-change", "Some changes cannot be made.", errors=errors
        )
    return planned


@router.post(
    "/preferences",
    response={200: PreferencesOut, TOKEN_ERRORS: ProblemOut},
    summary="Change the person's consents",
    operation_id="consent_change",
)
def preferences_post(
    request: HttpRequest, payload: PreferencesIn, response: HttpResponse
):
    """Withdraw or give again per purpose, or withdraw everything
    (``withdraw_all``). All the changes are made, or none. Answers with the
    consents as they now stand."""
    private(response)
    _throttle(request)
    if payload.withdraw_all == bool(payload.changes):
        raise ApiProblem(
            422,
            "invalid-body",
            "Send either 'withdraw_all': true or a non-empty 'changes' list.",
            errors=[field_error(None, "one-of", "withdraw_all or changes")],
        )
    holder = _holder(request, payload.token)
    lead = holder.lead
    with translation.override(preferences.language_of(lead) or get_language()):
        if payload.withdraw_all:
            preferences.withdraw(
                lead, None, channel=CHANNEL, source=SuppressionSource.PREFERENCES
            )
            return _preferences(lead)
        with transaction.atomic():
            for action, row in _planned(lead, payload.changes):
                _apply(lead, action, row.purpose)
        return _preferences(lead)


def _apply(lead: Lead, action: str, purpose: ConsentPurpose) -> None:
    if action == "grant":
        try:
            preferences.grant_again(lead, purpose, channel=CHANNEL)
        except NotOffered:  # changed by an earlier change of the same request
            raise ApiProblem(
                422,
                "invalid-change",
                "Some changes cannot be made.",
                errors=[field_error("changes", "cannot-grant", purpose.name)],
            ) from None
    elif preferences.row_for(lead, purpose.pk).in_force:
        preferences.withdraw(
            lead, [purpose], channel=CHANNEL, source=SuppressionSource.PREFERENCES
        )


# -- One-click unsubscribe ----------------------------------------------------------
@router.post(
    "/unsubscribe",
    response={200: UnsubscribedOut, TOKEN_ERRORS: ProblemOut},
    summary="Unsubscribe with one click",
    operation_id="consent_unsubscribe",
)
def unsubscribe(request: HttpRequest, payload: TokenIn, response: HttpResponse):
    """Withdraw at once what an unsubscribe link names: one purpose, or every
    marketing consent (with an objection to all marketing)."""
    private(response)
    _throttle(request)
    holder = _holder(request, payload.token)
    with translation.override(preferences.language_of(holder.lead) or get_language()):
        records = preferences.one_click_unsubscribe(holder, channel=CHANNEL)
        return UnsubscribedOut(
            withdrawn=[_purpose(record) for record in records],
            all_marketing=holder.purpose is None,
        )
