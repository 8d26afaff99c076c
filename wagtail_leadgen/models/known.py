"""Who a visitor is, when they may be recognised at all (progressive profiling).

A visitor is *known* only by means that need no tracking consent:

- a **profiling link** from the plugin's own emails to that person: the offer
  page's address with ``?known=<token>`` (``PROFILING["LINK_PARAMETER"]``), or,
  for a decoupled front end, the same token in a ``Leadgen-Profile`` header.
  The token is signed (its own salt), expires after ``LINK_MAX_AGE``, and is
  bound to the lead's link key (``preferences_nonce``): erasing the lead or
  renewing that key revokes it;
- a **remember-me cookie**, set only when the visitor ticked a consent purpose
  marked ``remembers_device``, and worth something only while that consent is
  granted and in force: withdrawing it (preferences, unsubscribe, erasure)
  makes the cookie useless at once, server-side.

Anything else, a forged, expired, truncated or other site's token or cookie
included, is a stranger: the standard form, never an error. ``?known=no``
("Not you?") shows the standard form and drops the cookie.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.crypto import constant_time_compare

from ..conf import leadgen_settings
from ..tokens import (
    InvalidToken,
    KnownVisitorToken,
    make_remember_token,
    read_known_visitor_token,
)
from .consent import STATE_DECISIONS, ConsentDecision, ConsentPurpose, ConsentRecord
from .leads import Lead, Submission

logger = logging.getLogger("wagtail_leadgen.security")

#: The header a decoupled front end sends the profiling token in (not the
#: URL: addresses end up in logs).
PROFILE_HEADER = "Leadgen-Profile"
NOT_YOU = "no"
_MAX_TOKEN_LENGTH = 1000
_REQUEST_ATTRIBUTE = "_leadgen_known_visitor"
_UNSET = object()


@dataclass(frozen=True)
class KnownVisitor:
    """A visitor the site recognised: the lead, how (``link`` or ``cookie``)
    and the answers it holds for them (field kinds with a stored value)."""

    lead: Lead
    via: str
    known_kinds: frozenset[str]

    @property
    def masked_email(self) -> str:
        """Enough of the address for a person to recognise it, not to read it."""
        local, _at, domain = self.lead.email.partition("@")
        return f"{local[:1]}•••@{domain}"


def link_parameter() -> str:
    return leadgen_settings.profiling["LINK_PARAMETER"]


def cookie_name() -> str:
    return leadgen_settings.profiling["COOKIE_NAME"]


def carries_identifier(request: HttpRequest) -> bool:
    """Whether a request names a person in any way we read (valid or not):
    such a response is personal, never shared."""
    return (
        link_parameter() in request.GET
        or cookie_name() in request.COOKIES
        or PROFILE_HEADER in request.headers
    )


def answered_kinds(lead: Lead) -> frozenset[str]:
    """The field kinds the person gave a value for in any of their forms
    (spam never counts; a correction cannot empty an answer)."""
    kinds: set[str] = set()
    rows = Submission.objects.filter(lead=lead, is_spam=False).values_list(
        "answers", flat=True
    )
    for answers in rows:
        if isinstance(answers, dict):
            kinds.update(kind for kind, value in answers.items() if value)
    return frozenset(kinds)


def _lead_for(token: KnownVisitorToken) -> Lead | None:
    lead = (
        Lead.objects.filter(pk=token.lead_id)
        .only("pk", "email", "preferences_nonce")
        .first()
    )
    if lead is None or not constant_time_compare(lead.preferences_nonce, token.nonce):
        return None
    return lead


def remembered_consent_in_force(lead: Lead, purpose_id: int) -> bool:
    """Whether the person's remember-me consent (a purpose that remembers the
    device) is granted and in force now."""
    latest = (
        ConsentRecord.objects.filter(
            lead=lead,
            purpose_id=purpose_id,
            purpose__remembers_device=True,
            decision__in=STATE_DECISIONS,
        )
        .order_by("-created_at", "-pk")
        .values_list("decision", flat=True)
        .first()
    )
    return latest == ConsentDecision.GRANTED


def _from_token(raw: str, *, cookie: bool) -> Lead | None:
    if not raw or len(raw) > _MAX_TOKEN_LENGTH:
        return None
    try:
        token = read_known_visitor_token(raw, cookie=cookie)
    except InvalidToken as error:  # ExpiredToken included
        # No token, no person: only what was refused.
        logger.info(
            "Profiling %s refused: %s",
            "cookie" if cookie else "link",
            type(error).__name__,
        )
        return None
    lead = _lead_for(token)
    if lead is None:
        logger.info(
            "Profiling %s refused: no such person", "cookie" if cookie else "link"
        )
        return None
    if cookie and not remembered_consent_in_force(lead, int(token.purpose_id or 0)):
        return None  # withdrawn, expired, pending or never given: a stranger
    return lead


def known_visitor(request: HttpRequest) -> KnownVisitor | None:
    """The person this request comes from, if a profiling link or a
    remember-me cookie backed by a consent in force says so; else None.
    Worked out once per request."""
    found = getattr(request, _REQUEST_ATTRIBUTE, _UNSET)
    if found is not _UNSET:
        return found  # type: ignore[return-value]
    found = None
    link = str(request.GET.get(link_parameter(), ""))
    if link != NOT_YOU:
        header = request.headers.get(PROFILE_HEADER, "")
        lead, via = _from_token(link or header, cookie=False), "link"
        if lead is None:
            cookie = request.COOKIES.get(cookie_name(), "")
            lead, via = _from_token(cookie, cookie=True), "cookie"
        if lead is not None:
            found = KnownVisitor(lead=lead, via=via, known_kinds=answered_kinds(lead))
    setattr(request, _REQUEST_ATTRIBUTE, found)
    return found


def remember_device(
    response: HttpResponseBase,
    request: HttpRequest,
    lead: Lead,
    purpose: ConsentPurpose,
) -> None:
    """Set the remember-me cookie: first-party, HttpOnly, SameSite=Lax,
    Secure on https, for ``REMEMBER_MAX_AGE`` seconds."""
    response.set_cookie(
        cookie_name(),
        make_remember_token(lead.pk, lead.preferences_nonce, purpose.pk),
        max_age=leadgen_settings.profiling["REMEMBER_MAX_AGE"],
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )


def forget_device(response: HttpResponseBase, request: HttpRequest) -> None:
    """Drop the remember-me cookie ("Not you?")."""
    if cookie_name() in request.COOKIES:
        response.delete_cookie(cookie_name(), samesite="Lax")
