"""The person's own "my data" page, without an account (R14, R15).

1. The visitor gives an address. The answer is the same page whether we know
   it or not: the request always looks the address up and enqueues one task
   (``tasks.send_my_data_link``), which emails a link only to a known address.
   Requests are throttled per address and per client IP; a throttled request
   gets the same page and no email.
2. The link is single use and short-lived (``MY_DATA_LINK_MAX_AGE``); only its
   SHA-256 is stored (``AccessRequest``). Its page verifies on POST only (mail
   scanners follow links).
3. Verified: a short session (``MY_DATA_SESSION_AGE``) holding the lead's id,
   signed with a salt of its own, in a new session key. Verifying counts as a
   contact from the person (retention runs from it) and is audit-logged.
   The JSON API has no session: verifying there gives a bearer token of the
   same lifetime (``api_access_token``), bound to the link's request, so that
   ending the access (``end_api_access``) or erasing the person revokes it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.contrib.sessions.backends.base import SessionBase
from django.core import signing
from django.utils import timezone

from .. import mailer
from ..audit import log_my_data_viewed
from ..conf import leadgen_settings
from ..models.access import AccessRequest
from ..models.leads import Lead
from ..tasks import enqueue_my_data_link
from ..tokens import (
    InvalidToken,
    make_my_data_access_token,
    read_my_data_access_token,
)
from ..validators import normalise_email
from .preferences import note_contact
from .ratelimit import allow_attempt

logger = logging.getLogger("wagtail_leadgen.security")

SESSION_KEY = "wagtail_leadgen_my_data"
#: Throttle scopes (``ratelimit.attempt_key(ADDRESS_SCOPE, normalised_email)``
#: is the cache key counting one address's requests).
ADDRESS_SCOPE = "my-data-address"
IP_SCOPE = "my-data-ip"
_SESSION_SALT = "wagtail_leadgen.my-data-session"


class LinkProblem(Exception):
    """A "my data" link that cannot open the page."""


class UnknownLink(LinkProblem):
    """Not a link we sent: tampered, cut, another kind of link, or erased."""


class UsedLink(LinkProblem):
    """Already used: the link works once."""


class ExpiredLink(LinkProblem):
    """Genuine and unused, but older than ``MY_DATA_LINK_MAX_AGE``."""


# -- Step 1: the request ------------------------------------------------------
def request_link(email: str, *, client_ip: str) -> bool:
    """Ask for a link to ``email`` (a valid address). Does the same work
    whether the address is known or not; a throttled request sends nothing
    and returns False (the same whether the address is known or not)."""
    address = normalise_email(email)
    window = leadgen_settings.MY_DATA_REQUESTS_WINDOW
    ip_allowed = allow_attempt(
        IP_SCOPE,
        client_ip,
        limit=leadgen_settings.MY_DATA_REQUESTS_PER_IP,
        window=window,
    )
    address_allowed = allow_attempt(
        ADDRESS_SCOPE,
        address,
        limit=leadgen_settings.MY_DATA_REQUESTS_PER_ADDRESS,
        window=window,
    )
    if not (ip_allowed and address_allowed):
        logger.warning("Data access link not sent: too many requests")
        return False
    lead_id = Lead.objects.filter(email=address).values_list("pk", flat=True).first()
    enqueue_my_data_link(lead_id)
    return True


# -- Step 2: the link ---------------------------------------------------------
def _deadline() -> timedelta:
    return timedelta(seconds=leadgen_settings.MY_DATA_LINK_MAX_AGE)


def access_for_token(token: str) -> AccessRequest:
    """The request a link points at, still usable; raise a ``LinkProblem``."""
    if not mailer.is_confirmation_token(token):  # the same shape of token
        raise UnknownLink
    access = (
        AccessRequest.objects.select_related("lead")
        .filter(token_hash=mailer.token_hash(token))
        .first()
    )
    if access is None:
        raise UnknownLink
    if access.used_at is not None:
        raise UsedLink
    if access.created_at + _deadline() <= timezone.now():
        raise ExpiredLink
    return access


def verify(access: AccessRequest) -> Lead:
    """Use the link up and return its person; a contact from them, logged.
    Raises ``UsedLink`` or ``ExpiredLink`` when another request used it, or
    time ran out, meanwhile."""
    now = timezone.now()
    taken = AccessRequest.objects.filter(
        pk=access.pk, used_at__isnull=True, created_at__gt=now - _deadline()
    ).update(used_at=now)
    if not taken:
        current = AccessRequest.objects.filter(pk=access.pk).first()
        if current is None:  # the person was erased meanwhile
            raise UnknownLink
        raise UsedLink if current.used_at else ExpiredLink
    lead = access.lead
    note_contact(lead)
    log_my_data_viewed(lead)
    return lead


# -- Step 3: the session ------------------------------------------------------
def start_session(session: SessionBase, lead: Lead) -> None:
    """Open the person's short session, in a new session key (no fixation)."""
    session.cycle_key()
    session[SESSION_KEY] = signing.dumps({"l": lead.pk}, salt=_SESSION_SALT)


def session_lead(session: SessionBase) -> Lead | None:
    """The person whose session this is, or None (none, expired, or erased)."""
    value = session.get(SESSION_KEY)
    if not value:
        return None
    try:
        data = signing.loads(
            value, salt=_SESSION_SALT, max_age=leadgen_settings.MY_DATA_SESSION_AGE
        )
        lead = Lead.objects.filter(pk=int(data["l"])).first()
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        lead = None
    if lead is None:
        end_session(session)
    return lead


def end_session(session: SessionBase) -> None:
    """Close the person's session; the rest of the browser's session stays."""
    if session.pop(SESSION_KEY, None) is not None:
        session.cycle_key()


# -- Step 3 through the API: a bearer token -----------------------------------
class AccessEnded(Exception):
    """A bearer token that opens nothing: unknown, expired, ended or erased."""


def api_access_token(access: AccessRequest) -> str:
    """The bearer token of a verified link (``verify`` first): the API's
    session, valid for ``MY_DATA_SESSION_AGE`` while the request stands."""
    return make_my_data_access_token(access.pk, access.lead_id)


def access_for_api_token(token: str) -> AccessRequest:
    """The verified request a bearer token stands for, with its lead; raise
    ``AccessEnded`` when the token is not ours, too old, ended, or its person
    was erased (which deletes the request)."""
    try:
        data = read_my_data_access_token(token)
    except InvalidToken as error:
        raise AccessEnded from error
    access = (
        AccessRequest.objects.select_related("lead")
        .filter(
            pk=data.access_request_id,
            lead_id=data.lead_id,
            used_at__isnull=False,
            ended_at__isnull=True,
        )
        .first()
    )
    if access is None:
        raise AccessEnded
    return access


def end_api_access(access: AccessRequest) -> None:
    """Revoke the bearer token of this request, at once."""
    AccessRequest.objects.filter(pk=access.pk, ended_at__isnull=True).update(
        ended_at=timezone.now()
    )
