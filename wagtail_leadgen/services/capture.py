"""Turning a valid submission into stored leads, in one transaction (R11, R20).

``capture_lead`` is the single place a lead is written: the HTML view and the
JSON API both end here, so validation, consent and handoff cannot drift apart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from wagtail.models import Revision

from ..cleaning import clean_metadata
from ..models.consent import (
    STATE_DECISIONS,
    ConsentDecision,
    ConsentPurpose,
    ConsentRecord,
    purpose_wording,
    wording_sha256,
)
from ..models.leads import Lead, Maturity, Submission, new_nonce
from ..models.privacy import Suppression
from ..models.processing import RequestProcessing
from ..signals import lead_captured
from ..tasks import enqueue_after_capture, enqueue_with_transaction
from . import suppression
from .classification import (
    classify_new_lead,
    level_before_insert,
    reclassify_after_capture,
)
from .consent import (
    ShownVersionMissing,
    consent_records,
    current_state,
    settle_decisions,
)
from .downloads import download_token, grant_download
from .optin import request_confirmation
from .outbox import plan_deliveries, propagate_consent_change

logger = logging.getLogger("wagtail_leadgen.security")

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


@dataclass(frozen=True)
class SubmissionContext:
    """Where a submission comes from; no IP address is part of it.

    Its values are metadata nobody typed on purpose: they are cleaned on the
    way into the database (unsafe characters dropped, cut to the column).
    """

    page: object
    language: str
    channel: str = "web"
    referrer: str = ""
    utm: Mapping[str, str] = field(default_factory=dict)

    def submission_fields(self) -> dict[str, object]:
        page_revision_id = getattr(self.page, "live_revision_id", None)
        values: dict[str, object] = {
            "page": self.page,
            "page_revision_id": page_revision_id,
            "language": self.language[:16],
            "channel": self.channel,
            "referrer": clean_metadata(self.referrer, 500),
        }
        for key in UTM_KEYS:
            values[key] = clean_metadata(self.utm.get(key, ""), 100)
        return values


@dataclass(frozen=True)
class CaptureResult:
    lead: Lead
    submission: Submission
    download_token: str | None
    # Whether a consent awaits double opt-in, so a confirmation email is due.
    confirmation_requested: bool = False


def _lead_for(email: str, maturity: str) -> tuple[Lead, bool]:
    """The person with this address, created (at ``maturity``) or with their
    last contact now, and whether they were created: one upsert where the
    database can return the row (PostgreSQL, SQLite), else a lookup then an
    insert. A person seen before keeps their level."""
    now = timezone.now()
    if connection.vendor in ("postgresql", "sqlite"):
        return _upsert_lead(email, now, maturity)
    try:
        with transaction.atomic():
            lead, created = Lead.objects.get_or_create(
                email=email, defaults={"last_contact_at": now, "maturity": maturity}
            )
    except IntegrityError:  # two first submissions of the same address at once
        lead, created = Lead.objects.get(email=email), False
    if not created:
        Lead.objects.filter(pk=lead.pk).update(last_contact_at=now)
        lead.last_contact_at = now
    return lead, created


def _upsert_lead(email: str, now, maturity: str) -> tuple[Lead, bool]:
    """``INSERT ... ON CONFLICT (email) DO UPDATE SET last_contact_at``,
    returning the row. A row just inserted has ``created_at`` equal to
    ``last_contact_at`` (both ``now``); a row that was there keeps its older
    ``created_at``, so the two differ: that tells the two cases apart."""
    meta = Lead._meta
    quote = connection.ops.quote_name
    fields = {field.name: field for field in meta.concrete_fields}
    column = {name: quote(str(field.column)) for name, field in fields.items()}
    values = {
        "email": email,
        "created_at": now,
        "last_contact_at": now,
        "preferences_nonce": new_nonce(),
        "maturity": maturity,
    }
    params = [
        fields[name].get_db_prep_save(value, connection)
        for name, value in values.items()
    ]
    returned = ("id", "preferences_nonce", "maturity")
    # Identifiers from the model, quoted; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} "  # noqa: S608
        f"({', '.join(column[name] for name in values)}) "
        f"VALUES ({', '.join(['%s'] * len(values))}) "
        f"ON CONFLICT ({column['email']}) DO UPDATE SET "
        f"{column['last_contact_at']} = EXCLUDED.{column['last_contact_at']} "
        f"RETURNING {', '.join(column[name] for name in returned)}, "
        f"{column['created_at']} = {column['last_contact_at']}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        pk, nonce, maturity, created = cursor.fetchone()
    # ``created_at`` of a person seen before is left to load if ever read.
    lead = Lead.from_db(
        connection.alias,
        ["id", "email", "last_contact_at", "preferences_nonce", "maturity"],
        [pk, email, now, nonce, maturity],
    )
    if created:
        lead.created_at = now
    return lead, bool(created)


def _granted_after(
    state: Mapping[int, ConsentRecord], records: Sequence[ConsentRecord]
) -> list[ConsentPurpose]:
    """The purposes consented to and in force once ``records`` are written,
    from the state before them (nothing read back): a record of a state
    decision replaces the one in force for its purpose; a refusal changes
    nothing."""
    in_force = {pk: (record.decision, record.purpose) for pk, record in state.items()}
    for record in records:
        if record.decision in STATE_DECISIONS:
            in_force[record.purpose_id] = (record.decision, record.purpose)
    return [
        purpose
        for decision, purpose in in_force.values()
        if decision == ConsentDecision.GRANTED
    ]


def _announce(submission: Submission) -> None:
    for receiver, result in lead_captured.send_robust(
        sender=Submission, submission=submission
    ):
        if isinstance(result, Exception):
            # The type only: a site's receiver may put the lead in its message.
            logger.error(
                "lead_captured receiver %r failed on submission %s: %s",
                receiver,
                submission.pk,
                type(result).__name__,
            )


def _revisions(
    decisions: Mapping[ConsentPurpose, bool],
    shown_versions: Mapping[int, int | None],
    processing: RequestProcessing | None,
    request_version: int | None,
) -> dict[int, Revision]:
    """The revisions the form showed that are no longer live (the request
    processing's and each purpose's), in one query, none in the usual case:
    a live revision's content is its object's row. Each is checked against
    its object on use."""
    wanted = {
        shown_versions.get(purpose.pk, purpose.live_revision_id)
        for purpose in decisions
        if shown_versions.get(purpose.pk, purpose.live_revision_id)
        != purpose.live_revision_id
    }
    if processing is not None and request_version != processing.live_revision_id:
        wanted.add(request_version)
    wanted.discard(None)
    return Revision.objects.in_bulk(list(wanted)) if wanted else {}


def _request_shown(
    processing: RequestProcessing | None,
    version: int | None,
    revisions: Mapping[int, Revision],
) -> dict[str, object]:
    """The submission's proof of the request processing shown next to the
    button: its live revision's content is the processing's own row."""
    if processing is None:
        return {}
    wording = processing.wording
    if version is not None and version != processing.live_revision_id:
        revision = revisions.get(version)
        if (
            revision is None
            or revision.base_content_type_id != processing.get_base_content_type().pk
            or revision.object_id != str(processing.pk)
        ):
            raise ShownVersionMissing(processing.pk)
        wording = purpose_wording(
            revision.content["summary"], revision.content["purpose_text"]
        )
    return {
        "request_processing": processing,
        "request_revision_id": version,
        "request_wording": wording,
        "request_wording_sha256": wording_sha256(wording),
    }


def capture_lead(
    *,
    context: SubmissionContext,
    email: str,
    answers: Mapping[str, str],
    decisions: Mapping[ConsentPurpose, bool],
    shown_versions: Mapping[int, int | None],
    destinations: Sequence[str] = (),
    document=None,
    request_processing: RequestProcessing | None = None,
    request_version: int | None = None,
    also: Callable[[Submission], object] | None = None,
) -> CaptureResult:
    """Store the lead, the submission (with the request processing shown), one
    consent record per purpose shown, one delivery per CRM destination the
    lead may go to, a confirmation request when a consent awaits double
    opt-in and, for a gated offer, a download grant — all or nothing.
    ``also`` stores, in the same transaction, what a form adds to its lead
    (``services.callbacks.callback_recorder``: a call-back request).
    The confirmation email and the deliveries are enqueued as one task
    (``tasks.enqueue_after_capture``), in the transaction when the task
    queue lives in the same database, once it commits otherwise
    (``tasks.enqueue_with_transaction``).

    What needs no lock is prepared first (the revisions shown, the consent
    records' wording and hashes, the submission, a first-time person's
    level, the objections to lift); the transaction only writes, so that it
    holds SQLite's one write lock as briefly as it can.

    Raises ``ShownVersionMissing`` (nothing stored) when a version the form
    showed can no longer be found."""
    revisions = _revisions(
        decisions, shown_versions, request_processing, request_version
    )
    submission = Submission(
        answers=dict(answers),
        **_request_shown(request_processing, request_version, revisions),
        **context.submission_fields(),
    )
    records = consent_records(
        decisions=decisions,
        shown_versions=shown_versions,
        language=context.language,
        channel=context.channel,
        revisions=revisions,
    )
    ticked = [purpose for purpose, tick in decisions.items() if tick]
    # Read now, lifted in the transaction (an objection arriving meanwhile
    # comes after this consent, and stays).
    objections = suppression.objections_to(email, ticked)
    # A first-time person's consent in force: a box ticked that needs no
    # confirmation (as ``consent_records`` and ``_granted_after`` decide).
    opt_in_if_new = any(not purpose.requires_confirmation for purpose in ticked)
    first_level = level_before_insert(answers=answers, opt_in=opt_in_if_new)
    with transaction.atomic():
        result = _write(
            email=email,
            level=first_level or Maturity.COLD,
            submission=submission,
            records=records,
            objections=objections,
            ticked=ticked,
            destinations=destinations,
            document=document,
        )
        if also is not None:
            also(result.submission)
    return result


def _write(
    *,
    email: str,
    level: str,
    submission: Submission,
    records: list[ConsentRecord],
    objections: Sequence[Suppression],
    ticked: Sequence[ConsentPurpose],
    destinations: Sequence[str],
    document,
) -> CaptureResult:
    """The capture's writes, in its transaction (see ``capture_lead``)."""
    lead, created = _lead_for(email, level)
    submission.lead = lead
    submission.save(force_insert=True)
    # A consent already in force stays so; one given now that was not in
    # force reaches the destinations that have the person from earlier forms.
    # A person seen for the first time has none, and no destination has them.
    state = {} if created else current_state(lead)
    in_force = {pk: record.decision for pk, record in state.items()}
    settle_decisions(records, in_force)
    if objections:
        suppression.lift(email, ticked)  # read again under the lock
    for record in records:
        record.lead = lead
        record.submission = submission
    records = ConsentRecord.objects.bulk_create(records)
    confirmation = request_confirmation(lead, submission, records, enqueue=False)
    granted = _granted_after(state, records)
    deliveries = plan_deliveries(submission, destinations, granted, enqueue=False)
    ids = [delivery.pk for delivery in deliveries]
    confirmation_id = confirmation.pk if confirmation is not None else None
    if ids or confirmation_id is not None:
        enqueue_with_transaction(lambda: enqueue_after_capture(ids, confirmation_id))
    if not created:
        new_grants = [
            record
            for record in records
            if record.decision == ConsentDecision.GRANTED
            and in_force.get(record.purpose_id) != ConsentDecision.GRANTED
        ]
        propagate_consent_change(
            new_grants,
            already_told={delivery.backend_alias for delivery in deliveries},
            open_destinations=False,
        )
    token = download_token(grant_download(submission, document)) if document else None
    if created:
        classify_new_lead(lead, answers=submission.answers, opt_in=bool(granted))
    else:
        reclassify_after_capture(lead)
    transaction.on_commit(lambda: _announce(submission))
    return CaptureResult(
        lead=lead,
        submission=submission,
        download_token=token,
        confirmation_requested=confirmation is not None,
    )


def quarantine_spam(
    *,
    context: SubmissionContext,
    answers: Mapping[str, str],
    reason: str,
    shown_form: Mapping[str, object] | None = None,
) -> Submission:
    """Keep a suspected bot's submission aside, with no lead and no consent;
    ``shown_form`` (boxes shown and ticked) lets staff release it as sent."""
    logger.warning("Lead form submission quarantined as spam: %s", reason)
    return Submission.objects.create(
        answers=dict(answers),
        is_spam=True,
        spam_reason=reason,
        shown_form=dict(shown_form or {}),
        **context.submission_fields(),
    )
