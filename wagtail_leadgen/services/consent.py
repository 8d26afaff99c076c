"""Recording consent decisions as append-only proof (R11) and withdrawing them."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from wagtail.models import Revision

from ..models.consent import (
    ConsentDecision,
    ConsentPurpose,
    ConsentRecord,
    wording_sha256,
)
from ..models.leads import Lead, Submission


def shown_version(purpose: ConsentPurpose) -> int | None:
    """The id of the published revision a form shows for this purpose."""
    return purpose.live_revision_id


def purpose_as_shown(
    purpose: ConsentPurpose, revision_id: int | None
) -> tuple[ConsentPurpose, Revision | None]:
    """The purpose as it read in the given published revision, if it still exists.

    A purpose may be re-published between the moment a form is shown and the
    moment it is posted: the proof must hold what the visitor read.
    """
    if revision_id is not None:
        revision = Revision.objects.filter(
            pk=revision_id,
            base_content_type=purpose.get_base_content_type(),
            object_id=str(purpose.pk),
        ).first()
        if revision is not None:
            return revision.as_object(), revision
    return purpose, purpose.live_revision


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
    records = []
    for purpose, granted in decisions.items():
        as_shown, revision = purpose_as_shown(
            purpose, shown_versions.get(purpose.pk, shown_version(purpose))
        )
        wording = as_shown.wording
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
