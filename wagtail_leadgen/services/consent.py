"""Recording consent decisions as append-only proof (R11), reading the ones that
hold now, and withdrawing them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from wagtail.models import Revision

from ..models.consent import (
    ConsentDecision,
    ConsentPurpose,
    ConsentRecord,
    purpose_wording,
    wording_sha256,
)
from ..models.leads import Lead, Submission


def _revisions_shown(
    purposes: Iterable[ConsentPurpose], shown_versions: Mapping[int, int | None]
) -> dict[int, Revision]:
    """For each purpose, the published revision the visitor saw — or, when that
    one is gone, the live one — loaded in one query for all purposes.

    A purpose may be re-published between the moment a form is shown and the
    moment it is posted: the proof must hold what the visitor read.
    """
    purposes = list(purposes)
    if not purposes:
        return {}
    wanted = {
        pk
        for purpose in purposes
        for pk in (shown_versions.get(purpose.pk), purpose.live_revision_id)
        if pk is not None
    }
    loaded = {
        revision.pk: revision
        for revision in Revision.objects.filter(
            pk__in=wanted, base_content_type=purposes[0].get_base_content_type()
        )
    }
    shown = {}
    for purpose in purposes:
        for pk in (shown_versions.get(purpose.pk), purpose.live_revision_id):
            revision = loaded.get(pk)
            if revision is not None and revision.object_id == str(purpose.pk):
                shown[purpose.pk] = revision
                break
    return shown


def record_decisions(
    *,
    lead: Lead,
    submission: Submission | None,
    decisions: Mapping[ConsentPurpose, bool],
    shown_versions: Mapping[int, int | None],
    language: str,
    channel: str,
) -> list[ConsentRecord]:
    """Write one record per purpose shown: granted when ticked, refused otherwise."""
    revisions = _revisions_shown(decisions, shown_versions)
    records = []
    for purpose, granted in decisions.items():
        revision = revisions.get(purpose.pk)
        # Read from the revision's content: as_object() would fetch more rows.
        wording = (
            purpose_wording(
                revision.content["checkbox_label"], revision.content["purpose_text"]
            )
            if revision
            else purpose.wording
        )
        records.append(
            ConsentRecord(
                lead=lead,
                purpose=purpose,
                purpose_revision=revision,
                submission=submission,
                decision=ConsentDecision.GRANTED
                if granted
                else ConsentDecision.REFUSED,
                wording=wording,
                wording_sha256=wording_sha256(wording),
                language=language,
                channel=channel,
            )
        )
    return ConsentRecord.objects.bulk_create(records)


def current_records(**filters) -> QuerySet[ConsentRecord]:
    """Consent records that are still the latest for their lead and purpose."""
    later = ConsentRecord.objects.filter(
        lead=OuterRef("lead"), purpose=OuterRef("purpose")
    ).filter(
        Q(created_at__gt=OuterRef("created_at"))
        | Q(created_at=OuterRef("created_at"), pk__gt=OuterRef("pk"))
    )
    return ConsentRecord.objects.filter(~Exists(later), **filters)


def current_decision(lead: Lead, purpose: ConsentPurpose) -> ConsentRecord | None:
    """The latest record for this lead and purpose: what holds now."""
    return lead.consent_records.filter(purpose=purpose).first()


@transaction.atomic
def withdraw_consent(
    lead: Lead, purpose: ConsentPurpose, *, language: str, channel: str
) -> ConsentRecord | None:
    """Withdraw a granted consent with a new record; nothing to do if not granted.

    The wording kept is the one that was agreed to, so the proof shows what
    is being withdrawn.
    """
    latest = current_decision(lead, purpose)
    if latest is None or not latest.granted:
        return None
    return ConsentRecord.objects.create(
        lead=lead,
        purpose=purpose,
        purpose_revision=latest.purpose_revision,
        decision=ConsentDecision.WITHDRAWN,
        wording=latest.wording,
        wording_sha256=latest.wording_sha256,
        language=language,
        channel=channel,
    )
