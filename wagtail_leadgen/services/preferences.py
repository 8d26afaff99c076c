"""The person's own consents, reached from every email: no login (R13).

A link carries a signed token per person (``tokens.make_preferences_token``)
and the lead's ``preferences_nonce``, compared in constant time: changing the
nonce revokes every link sent. The preferences page lists each purpose the
person ever decided on; withdrawing is effective at once, objecting to all
marketing puts the address on the objection list, and a consent given again
(a tick on that page) lifts the objection for that purpose only. Every change
is an append-only consent record, handed to the CRMs through the outbox.

Only an action (a button, a one-click POST) counts as a contact from the
person: a page load does not, since mail scanners load links too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from .. import mailer
from ..models.consent import ConsentDecision, ConsentPurpose, ConsentRecord
from ..models.leads import Lead, Submission
from ..models.privacy import SuppressionSource
from ..tokens import InvalidToken, make_preferences_token, read_preferences_token
from .classification import reclassify_after_capture
from .consent import current_state, grant_consent, withdraw_consent
from .outbox import propagate_consent_change
from .suppression import suppress

IN_FORCE = (ConsentDecision.GRANTED, ConsentDecision.PENDING)


class UnknownLink(Exception):
    """The link is not ours, was tampered with, revoked, or its person is gone."""


class NotOffered(Exception):
    """The purpose cannot be changed from this page for this person."""


@dataclass(frozen=True)
class LinkHolder:
    """Whose link it is and, for a one-click link, which purpose it withdraws."""

    lead: Lead
    purpose: ConsentPurpose | None = None


def holder_for_token(token: str) -> LinkHolder:
    """Check a preferences or unsubscribe token; raise ``UnknownLink``."""
    try:
        data = read_preferences_token(token)
    except InvalidToken as error:
        raise UnknownLink from error
    lead = Lead.objects.filter(pk=data.lead_id).first()
    if lead is None or not constant_time_compare(data.nonce, lead.preferences_nonce):
        raise UnknownLink
    purpose = None
    if data.purpose_id is not None:
        purpose = ConsentPurpose.objects.filter(pk=data.purpose_id).first()
        if purpose is None:
            raise UnknownLink
    return LinkHolder(lead=lead, purpose=purpose)


def latest_submission(lead: Lead) -> Submission | None:
    return lead.submissions.filter(is_spam=False).select_related("page").first()


def language_of(lead: Lead) -> str | None:
    """The language of the person's latest form: their emails' language."""
    submission = latest_submission(lead)
    return (submission.language or None) if submission else None


# -- Links for site developers -----------------------------------------------------
def unsubscribe_url(lead: Lead, purpose: ConsentPurpose | None = None) -> str:
    """The one-click unsubscribe link for ``lead``'s emails, absolute, from the
    configured site root: for one purpose, or (None) for all marketing.

    Put it in your own newsletters, visibly and in a ``List-Unsubscribe``
    header; a POST of ``List-Unsubscribe=One-Click`` to it withdraws at once,
    and opening it shows the preferences page. It is always the plugin's own
    address (with a decoupled front end, show ``unsubscribe_page_url``)."""
    submission = latest_submission(lead)
    return mailer.unsubscribe_url(
        lead, purpose, submission.page if submission else None
    )


def unsubscribe_page_url(lead: Lead, purpose: ConsentPurpose | None = None) -> str:
    """The unsubscribe link to show in a message's text: the decoupled front
    end's page when ``HEADLESS_LINKS["unsubscribe"]`` is set, else the same
    as ``unsubscribe_url``. Never put it in ``List-Unsubscribe``: a mail
    program POSTs there, and only ``unsubscribe_url`` takes that POST."""
    submission = latest_submission(lead)
    return mailer.unsubscribe_page_url(
        lead, purpose, submission.page if submission else None
    )


def preferences_token(lead: Lead) -> str:
    """The token of the person's preferences page (no purpose: the whole page)."""
    return make_preferences_token(lead.pk, lead.preferences_nonce)


def preferences_url(lead: Lead) -> str:
    """The preferences page of ``lead``, absolute, from the configured site
    root; the front end's page when ``HEADLESS_LINKS["preferences"]`` is set."""
    submission = latest_submission(lead)
    return mailer.preferences_url(lead, submission.page if submission else None)


# -- The page ---------------------------------------------------------------------
@dataclass(frozen=True)
class PreferenceRow:
    """One purpose the person decided on, with the state in force."""

    purpose: ConsentPurpose
    state: str  # a ConsentDecision; "refused" reads "not given"
    since: datetime
    label: str
    text_html: SafeString

    @property
    def in_force(self) -> bool:
        return self.state in IN_FORCE

    @property
    def can_grant(self) -> bool:
        """A consent not in force can be given again while the purpose is live."""
        return not self.in_force and bool(self.purpose.live)


def preference_rows(lead: Lead) -> list[PreferenceRow]:
    """Each purpose the person ever decided on. A consent in force shows the
    wording agreed to; one that can be given again shows the current wording,
    which a tick agrees to."""
    latest: dict[int, ConsentRecord] = dict(current_state(lead))
    refused = (
        lead.consent_records.filter(decision=ConsentDecision.REFUSED)
        .exclude(purpose_id__in=list(latest))
        .select_related("purpose")
        .order_by("-created_at", "-pk")
    )
    for record in refused:
        latest.setdefault(record.purpose_id, record)
    rows = []
    for record in latest.values():
        purpose = record.purpose
        row_state = str(record.decision)
        if row_state not in IN_FORCE and purpose.live:
            # purpose_html is cleaned by nh3 (sanitize.clean_purpose_html).
            label = purpose.checkbox_label
            text_html = mark_safe(purpose.purpose_html)  # noqa: S308
        else:
            wording = mailer.wording_of(record)
            label, text_html = wording.label, wording.text_html
        rows.append(
            PreferenceRow(
                purpose=purpose,
                state=row_state,
                since=record.created_at,
                label=label,
                text_html=text_html,
            )
        )
    return sorted(rows, key=lambda row: (row.purpose.name.casefold(), row.purpose.pk))


# -- Changes ----------------------------------------------------------------------
def note_contact(lead: Lead) -> None:
    """An act of the person: retention runs from here (R16)."""
    now = timezone.now()
    Lead.objects.filter(pk=lead.pk).update(last_contact_at=now)
    lead.last_contact_at = now


def after_change(lead: Lead, records: list[ConsentRecord]) -> None:
    """After an act of the person on their consents: the changes go to the
    CRMs (same transaction), the contact counts, maturity is recomputed."""
    propagate_consent_change(records)
    note_contact(lead)
    reclassify_after_capture(lead)


@transaction.atomic
def withdraw(
    lead: Lead,
    purposes: Iterable[ConsentPurpose] | None,
    *,
    channel: str,
    source: str,
) -> list[ConsentRecord]:
    """Withdraw consents at once and record the objection.

    ``purposes`` None: every marketing consent in force (granted or pending),
    and an objection to all marketing, present and future. Otherwise those
    purposes, each with its own objection."""
    language = get_language() or ""
    if purposes is None:
        targets = [
            record.purpose
            for record in current_state(lead).values()
            if record.decision in IN_FORCE
        ]
    else:
        targets = list(purposes)
    records = []
    for purpose in targets:
        record = withdraw_consent(lead, purpose, language=language, channel=channel)
        if record is not None:
            records.append(record)
    if purposes is None:
        suppress(lead.email, None, source=source)
    else:
        for purpose in targets:
            suppress(lead.email, purpose, source=source)
    after_change(lead, records)
    return records


def one_click_unsubscribe(
    holder: LinkHolder, *, channel: str = "unsubscribe"
) -> list[ConsentRecord]:
    """RFC 8058: the purpose in the link, or all marketing when it names none."""
    return withdraw(
        holder.lead,
        None if holder.purpose is None else [holder.purpose],
        channel=channel,
        source=SuppressionSource.UNSUBSCRIBE,
    )


def row_for(lead: Lead, purpose_id: object) -> PreferenceRow:
    """The row of one purpose on the person's page; ``NotOffered`` otherwise."""
    for row in preference_rows(lead):
        if str(row.purpose.pk) == str(purpose_id):
            return row
    raise NotOffered


@transaction.atomic
def grant_again(
    lead: Lead, purpose: ConsentPurpose, *, channel: str = "preferences"
) -> ConsentRecord:
    """A tick on the preferences page: granted at once (the link came to the
    person's own address), and the objection lifted for that purpose only."""
    if not row_for(lead, purpose.pk).can_grant:
        raise NotOffered
    record = grant_consent(
        lead, purpose, language=get_language() or "", channel=channel
    )
    after_change(lead, [record])
    return record
