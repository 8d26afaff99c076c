"""Re-permission (R16): before a consent lapses, ask the person once whether
to keep it.

``RENEWAL_NOTICE_DAYS`` before a consent's retention period ends,
``leadgen_purge`` sends one email per person and cycle, listing the
consents we may still contact them for (in force, purpose published, no
objection: ``suppression.is_suppressed``). Its link opens a page showing
each purpose's current wording and a button; only the page's POST renews
(mail scanners follow links). Renewing is a contact from the person, so
every period starts again, and each consent is recorded as granted anew
with the wording shown on that page: the proof then holds what the person
agreed to on that day. The CRMs already hold those consents as granted,
so nothing is sent to them. Without renewal, the consent lapses at the
end of its period (``services.purge``).

The link's token is made when the email is sent and only its SHA-256 is
stored; the link works once, until the earliest of the listed consents
lapses.
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext

from .. import mailer
from ..conf import leadgen_settings
from ..models.consent import ConsentDecision, ConsentPurpose, ConsentRecord
from ..models.leads import Lead
from ..models.retention import RenewalRequest
from .classification import reclassify_after_capture
from .consent import current_records, grant_consent
from .preferences import language_of, latest_submission, note_contact
from .retention import months_after, months_before, shortest_period
from .suppression import is_suppressed

logger = logging.getLogger("wagtail_leadgen.retention")

CHANNEL = "renewal"


class LinkProblem(Exception):
    """A renewal link that cannot renew anything."""

    def __init__(self, request: RenewalRequest | None = None) -> None:
        super().__init__()
        self.request = request


class UnknownLink(LinkProblem):
    """Not a link we sent (tampered, cut, or its person was erased)."""


class UsedLink(LinkProblem):
    """Already used: the data was renewed with it."""


class ExpiredLink(LinkProblem):
    """Genuine and unused, but the period it offered to renew is over."""


# -- Who is asked -----------------------------------------------------------------
def renewable_purposes(lead: Lead) -> list[ConsentPurpose]:
    """The consents we may still contact the person for: granted and in force,
    the purpose published, no objection. They are what a renewal renews."""
    records = current_records(lead=lead, decision=ConsentDecision.GRANTED)
    return [
        record.purpose
        for record in records.select_related("purpose").order_by("purpose__name")
        if record.purpose.live and not is_suppressed(lead.email, record.purpose)
    ]


@dataclass(frozen=True)
class DueRenewal:
    """A person to ask now, and when their first renewable consent lapses."""

    lead: Lead
    expires_at: datetime


def _already_asked(lead: Lead, expires_at: datetime) -> bool:
    """Whether this cycle's email for that date went out (a later contact
    starts a new cycle; a consent lapsing later gets its own email)."""
    return RenewalRequest.objects.filter(
        lead=lead,
        created_at__gte=lead.last_contact_at,
        expires_at__gte=expires_at,
    ).exists()


def due_renewals(now: datetime) -> Iterator[DueRenewal]:
    """The people with a renewable consent lapsing within the notice, not
    yet asked for it in this cycle."""
    notice_end = now + timedelta(days=leadgen_settings.RENEWAL_NOTICE_DAYS)
    candidates = current_records(
        decision=ConsentDecision.GRANTED,
        purpose__live=True,
        lead__last_contact_at__lte=months_before(notice_end, shortest_period()),
    ).select_related("lead", "purpose")
    by_lead: dict[int, list[ConsentRecord]] = defaultdict(list)
    for record in candidates.iterator(chunk_size=2000):
        by_lead[record.lead_id].append(record)
    for records in by_lead.values():
        lead = records[0].lead
        ends = [
            months_after(lead.last_contact_at, record.purpose.retention_months)
            for record in records
            if not is_suppressed(lead.email, record.purpose)
        ]
        upcoming = [end for end in ends if now < end <= notice_end]
        if upcoming and not _already_asked(lead, min(upcoming)):
            yield DueRenewal(lead=lead, expires_at=min(upcoming))


# -- The email --------------------------------------------------------------------
def current_wording(purpose: ConsentPurpose) -> mailer.Wording:
    """The wording a renewal shows and records: the purpose's current one."""
    # purpose_html is cleaned by nh3 (sanitize.clean_purpose_html).
    return mailer.Wording(
        label=purpose.checkbox_label,
        text_html=mark_safe(purpose.purpose_html),  # noqa: S308
    )


def renewal_url(token: str, page: object = None) -> str:
    return mailer.absolute_url(reverse("wagtail_leadgen:renew", args=[token]), page)


def renewal_message(
    lead: Lead, purposes: list[ConsentPurpose], token: str, expires_at: datetime
):
    """The re-permission email, in the language of the person's latest form."""
    submission = latest_submission(lead)
    page = submission.page if submission else None
    with translation.override(language_of(lead)):
        return mailer.visitor_message(
            lead,
            subject=gettext("Shall we keep your data?"),
            template="wagtail_leadgen/emails/renewal",
            context={
                "wordings": [current_wording(purpose) for purpose in purposes],
                "renew_url": renewal_url(token, page),
                "profile_url": mailer.profile_url(lead, page),
                "expires_at": expires_at,
            },
            page=page,
        )


def send_renewal(due: DueRenewal) -> bool:
    """Send one re-permission email; False (and nothing kept) when the mail
    backend fails, so the next run tries again."""
    purposes = renewable_purposes(due.lead)
    if not purposes:
        return False
    token = secrets.token_urlsafe(mailer.TOKEN_BYTES)
    request = RenewalRequest.objects.create(
        lead=due.lead,
        token_hash=mailer.token_hash(token),
        sent_at=timezone.now(),
        expires_at=due.expires_at,
    )
    try:
        renewal_message(due.lead, purposes, token, due.expires_at).send()
    except Exception as error:
        request.delete()
        logger.warning(
            "Renewal email for lead %s could not be sent (%s); tried again next run",
            due.lead.pk,
            type(error).__name__,
        )
        return False
    logger.info("Renewal email %s sent", request.pk)
    return True


# -- The link ---------------------------------------------------------------------
def renewal_for_token(token: str) -> RenewalRequest:
    """The request a link points at, still usable; raise a ``LinkProblem``."""
    # Renewal tokens are made like confirmation tokens, so they have their shape.
    if not mailer.is_confirmation_token(token):
        raise UnknownLink
    request = (
        RenewalRequest.objects.select_related("lead")
        .filter(token_hash=mailer.token_hash(token))
        .first()
    )
    if request is None:
        raise UnknownLink
    if request.renewed_at is not None:
        raise UsedLink(request)
    if request.expires_at <= timezone.now():
        raise ExpiredLink(request)
    return request


@transaction.atomic
def renew(request: RenewalRequest) -> list[ConsentRecord]:
    """Keep the person's data: each renewable consent granted again with its
    current wording, the contact noted (every period starts again), the
    link used up. Raises ``UsedLink`` or ``ExpiredLink`` when another
    request used it, or time ran out, meanwhile."""
    now = timezone.now()
    taken = RenewalRequest.objects.filter(
        pk=request.pk, renewed_at__isnull=True, expires_at__gt=now
    ).update(renewed_at=now)
    if not taken:
        request.refresh_from_db()
        raise UsedLink(request) if request.renewed_at else ExpiredLink(request)
    request.renewed_at = now
    lead = request.lead
    language = get_language() or ""
    records = [
        grant_consent(lead, purpose, language=language, channel=CHANNEL)
        for purpose in renewable_purposes(lead)
    ]
    note_contact(lead)
    reclassify_after_capture(lead)
    return records
