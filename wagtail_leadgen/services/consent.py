"""Consent as proof (R11) and as a state that is honoured afterwards (R12, R13).

Records are append-only; the state of a purpose for a person is their latest
*state* record: granted, pending (double opt-in not confirmed yet),
withdrawn or expired. A box left unticked is recorded too (``refused``: what
was shown and answered is proof) but never changes the state: an unticked
box on a later form means "no new consent", never a withdrawal, which is an
explicit act (the preferences page, the unsubscribe link, staff).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from wagtail.models import Revision

from ..models.consent import (
    STATE_DECISIONS,
    ConsentDecision,
    ConsentPurpose,
    ConsentRecord,
    purpose_wording,
    wording_sha256,
)
from ..models.leads import Lead, Submission
from . import suppression


class ShownVersionMissing(Exception):
    """A purpose version the form showed can no longer be found: no proof of
    what the visitor read can be written, so the form must be shown again."""


def revisions_shown(
    purposes: Iterable[ConsentPurpose],
    shown_versions: Mapping[int, int | None],
    loaded: Mapping[int, Revision] | None = None,
) -> dict[int, Revision | None]:
    """For each purpose, the published revision the visitor saw, loaded in one
    query for all purposes; None for a purpose that had no revision when shown
    (its current wording is then the one shown). A purpose missing from
    ``shown_versions`` (a caller that did not say) counts as shown at its live
    revision.

    Raises ``ShownVersionMissing`` when a shown revision is gone: the proof
    must hold what the visitor read, never another wording. ``loaded``: the
    revisions a caller fetched already (with others, in the same query).
    """
    purposes = list(purposes)
    versions = {p.pk: shown_versions.get(p.pk, p.live_revision_id) for p in purposes}
    wanted = set(versions.values()) - {None}
    if not purposes:
        return {}
    content_type = purposes[0].get_base_content_type()
    if loaded is None:
        loaded = Revision.objects.in_bulk(list(wanted)) if wanted else {}
    loaded = {
        pk: revision
        for pk, revision in loaded.items()
        if revision.base_content_type_id == content_type.pk
    }
    shown: dict[int, Revision | None] = {}
    for purpose in purposes:
        version = versions[purpose.pk]
        if version is None:
            shown[purpose.pk] = None
            continue
        revision = loaded.get(version)
        if revision is None or revision.object_id != str(purpose.pk):
            raise ShownVersionMissing(purpose.pk)
        shown[purpose.pk] = revision
    return shown


def _wording(purpose: ConsentPurpose, revision: Revision | None) -> str:
    if revision is None:
        return purpose.wording
    # Read from the revision's content: as_object() would fetch more rows.
    return purpose_wording(
        revision.content["checkbox_label"], revision.content["purpose_text"]
    )


def consent_records(
    *,
    decisions: Mapping[ConsentPurpose, bool],
    shown_versions: Mapping[int, int | None],
    language: str,
    channel: str,
    revisions: Mapping[int, Revision] | None = None,
) -> list[ConsentRecord]:
    """One unsaved record per purpose shown, with the exact wording shown and
    its hash: granted when ticked (pending when the purpose needs double
    opt-in), refused otherwise, as for a person with no consent in force
    (``settle_decisions`` then looks at what is in force). Needs no lock:
    the capture prepares them before its transaction.

    A purpose shown at its live revision needs no revision read: a live
    purpose's row holds that revision's content (drafts of a live purpose
    stay in revisions), and it is what the form showed.

    Raises ``ShownVersionMissing`` when a shown revision is gone."""
    live = {
        purpose.pk
        for purpose in decisions
        if shown_versions.get(purpose.pk, purpose.live_revision_id)
        == purpose.live_revision_id
    }
    shown = revisions_shown(
        [purpose for purpose in decisions if purpose.pk not in live],
        shown_versions,
        revisions,
    )
    records = []
    for purpose, ticked in decisions.items():
        if purpose.pk in live:
            revision_id, wording = purpose.live_revision_id, purpose.wording
        else:
            revision = shown[purpose.pk]
            revision_id = revision.pk if revision is not None else None
            wording = _wording(purpose, revision)
        if ticked:
            decision = (
                ConsentDecision.PENDING
                if purpose.requires_confirmation
                else ConsentDecision.GRANTED
            )
        else:
            decision = ConsentDecision.REFUSED
        records.append(
            ConsentRecord(
                purpose=purpose,
                purpose_revision_id=revision_id,
                decision=decision,
                wording=wording,
                wording_sha256=wording_sha256(wording),
                language=language,
                channel=channel,
            )
        )
    return records


def settle_decisions(
    records: Iterable[ConsentRecord], in_force: Mapping[int, str]
) -> None:
    """Ticking again a double opt-in purpose the person already confirmed
    keeps it granted, rather than sending it back to "pending"."""
    for record in records:
        if (
            record.decision == ConsentDecision.PENDING
            and in_force.get(record.purpose_id) == ConsentDecision.GRANTED
        ):
            record.decision = ConsentDecision.GRANTED


def record_decisions(
    *,
    lead: Lead,
    submission: Submission | None,
    decisions: Mapping[ConsentPurpose, bool],
    shown_versions: Mapping[int, int | None],
    language: str,
    channel: str,
    in_force: Mapping[int, str] | None = None,
    revisions: Mapping[int, Revision] | None = None,
) -> list[ConsentRecord]:
    """One record per purpose shown: granted when ticked (pending when the
    purpose needs double opt-in), refused otherwise.

    ``in_force`` (purpose id → decision in force before this form): ticking
    again a double opt-in purpose the person already confirmed keeps it
    granted, rather than sending it back to "pending". A tick is an explicit
    consent: it lifts an earlier objection for that purpose only.
    """
    records = consent_records(
        decisions=decisions,
        shown_versions=shown_versions,
        language=language,
        channel=channel,
        revisions=revisions,
    )
    suppression.lift(lead.email, [p for p, ticked in decisions.items() if ticked])
    settle_decisions(records, in_force or {})
    for record in records:
        record.lead = lead
        record.submission = submission
    return ConsentRecord.objects.bulk_create(records)


def current_records(**filters) -> QuerySet[ConsentRecord]:
    """The state records still in force: the latest granted, pending,
    withdrawn or expired record of each lead and purpose (refusals never
    change a state)."""
    later = ConsentRecord.objects.filter(
        lead=OuterRef("lead"),
        purpose=OuterRef("purpose"),
        decision__in=STATE_DECISIONS,
    ).filter(
        Q(created_at__gt=OuterRef("created_at"))
        | Q(created_at=OuterRef("created_at"), pk__gt=OuterRef("pk"))
    )
    return ConsentRecord.objects.filter(
        ~Exists(later), decision__in=STATE_DECISIONS, **filters
    )


def current_state(lead: Lead) -> dict[int, ConsentRecord]:
    """The record in force for each purpose the person ever decided on."""
    return {
        record.purpose_id: record
        for record in current_records(lead=lead).select_related("purpose")
    }


def current_decision(lead: Lead, purpose: ConsentPurpose) -> ConsentRecord | None:
    """The record in force for this lead and purpose, if any."""
    return (
        lead.consent_records.filter(purpose=purpose, decision__in=STATE_DECISIONS)
        .order_by("-created_at", "-pk")
        .first()
    )


def granted_purposes(lead: Lead) -> list[ConsentPurpose]:
    """The purposes the person consented to and that are in force now."""
    return [
        record.purpose
        for record in current_state(lead).values()
        if record.decision == ConsentDecision.GRANTED
    ]


def _new_record(
    latest: ConsentRecord, decision: str, *, language: str, channel: str
) -> ConsentRecord:
    """A state change about what was agreed to: the proof keeps that wording."""
    return ConsentRecord.objects.create(
        lead=latest.lead,
        purpose=latest.purpose,
        purpose_revision=latest.purpose_revision,
        decision=decision,
        wording=latest.wording,
        wording_sha256=latest.wording_sha256,
        language=language,
        channel=channel,
    )


@transaction.atomic
def withdraw_consent(
    lead: Lead, purpose: ConsentPurpose, *, language: str, channel: str
) -> ConsentRecord | None:
    """Withdraw a granted (or still pending) consent with a new record; None
    when nothing is in force. Effective at once."""
    latest = current_decision(lead, purpose)
    if latest is None or latest.decision not in (
        ConsentDecision.GRANTED,
        ConsentDecision.PENDING,
    ):
        return None
    return _new_record(
        latest, ConsentDecision.WITHDRAWN, language=language, channel=channel
    )


@transaction.atomic
def confirm_pending(
    lead: Lead, purposes: Iterable[ConsentPurpose], *, language: str, channel: str
) -> list[ConsentRecord]:
    """Turn the pending consents among ``purposes`` into granted ones (double
    opt-in confirmed); a purpose withdrawn meanwhile stays withdrawn."""
    granted = []
    for purpose in purposes:
        latest = current_decision(lead, purpose)
        if latest is not None and latest.decision == ConsentDecision.PENDING:
            granted.append(
                _new_record(
                    latest, ConsentDecision.GRANTED, language=language, channel=channel
                )
            )
    return granted


@transaction.atomic
def grant_consent(
    lead: Lead, purpose: ConsentPurpose, *, language: str, channel: str
) -> ConsentRecord:
    """A consent given again from a page that showed the purpose's current
    wording (the preferences page, reached from the person's own email):
    granted at once, and it lifts an objection for that purpose."""
    wording = purpose.wording
    suppression.lift(lead.email, [purpose])
    return ConsentRecord.objects.create(
        lead=lead,
        purpose=purpose,
        purpose_revision_id=purpose.live_revision_id,
        decision=ConsentDecision.GRANTED,
        wording=wording,
        wording_sha256=wording_sha256(wording),
        language=language,
        channel=channel,
    )


@transaction.atomic
def expire_pending(
    lead: Lead, purposes: Iterable[ConsentPurpose]
) -> list[ConsentRecord]:
    """Record that the pending consents among ``purposes`` were never confirmed."""
    expired = []
    for purpose in purposes:
        latest = current_decision(lead, purpose)
        if latest is not None and latest.decision == ConsentDecision.PENDING:
            expired.append(
                _new_record(
                    latest, ConsentDecision.EXPIRED, language="", channel="expiry"
                )
            )
    return expired
