"""The auditor's pack: one ZIP with the evidence a controller hands the CNIL.

For one person: the records of processing (JSON and printable HTML), each
consent proof with the exact wording shown and the SHA-256 fingerprint
stored with it (and whether the copy still matches it), the wording shown
next to the button for each request, the withdrawals and objections, and
every delivery to a CRM (destination, kind, status, dates, attempts; never
a payload nor an error message, which may quote other systems' data).
Each wording is also a file of its own, so that an auditor can check its
fingerprint with ``sha256sum`` without trusting this code.

It holds personal data: only ``export_lead`` may take it, and the views and
commands that call ``auditor_pack`` write it to the audit log.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable
from io import BytesIO
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from ..models.consent import ConsentDecision, ConsentRecord, wording_sha256
from ..models.delivery import Delivery
from ..models.leads import Lead, Submission
from ..models.privacy import Suppression
from .register import register_entries, register_html, register_json
from .suppression import address_hashes

WITHDRAWN = (ConsentDecision.WITHDRAWN, ConsentDecision.EXPIRED)


def _when(value: Any) -> str | None:
    return value.isoformat() if value else None


def _proof(record: ConsentRecord) -> dict[str, Any]:
    return {
        "id": record.pk,
        "date": _when(record.created_at),
        "purpose_id": record.purpose_id,
        "purpose": record.purpose.name,
        "purpose_version": record.purpose_revision_id,
        "decision": record.decision,
        "submission_id": record.submission_id,
        "language": record.language,
        "channel": record.channel,
        "wording": record.wording,
        "wording_sha256": record.wording_sha256,
        "wording_matches_sha256": wording_sha256(record.wording)
        == record.wording_sha256,
        "wording_file": f"wordings/consent-{record.pk}.txt",
    }


def _request_proof(submission: Submission) -> dict[str, Any]:
    return {
        "submission_id": submission.pk,
        "date": _when(submission.created_at),
        "request_processing_id": submission.request_processing_id,
        "request_processing_version": submission.request_revision_id,
        "wording": submission.request_wording,
        "wording_sha256": submission.request_wording_sha256,
        "wording_matches_sha256": wording_sha256(submission.request_wording)
        == submission.request_wording_sha256,
        "wording_file": f"wordings/request-{submission.pk}.txt",
    }


def _delivery(delivery: Delivery) -> dict[str, Any]:
    record = delivery.consent_record
    return {
        "id": delivery.pk,
        "destination": delivery.backend_alias,
        "kind": delivery.kind,
        "status": delivery.status,
        "created_at": _when(delivery.created_at),
        "delivered_at": _when(delivery.delivered_at),
        "attempts": delivery.attempts,
        "submission_id": delivery.submission_id,
        "consent_change": (
            {
                "record_id": record.pk,
                "purpose": record.purpose.name,
                "decision": record.decision,
            }
            if record is not None
            else None
        ),
    }


def _objections(lead: Lead) -> list[dict[str, Any]]:
    """The person's entries on the objection list (found by their address's hash)."""
    entries = (
        Suppression.objects.filter(address_hash__in=address_hashes(lead.email))
        .select_related("purpose")
        .prefetch_related("lifted_purposes")
        .order_by("created_at", "pk")
    )
    return [
        {
            "date": _when(entry.created_at),
            "purpose": entry.purpose.name if entry.purpose else None,
            "source": entry.source,
            "consented_to_again": [p.name for p in entry.lifted_purposes.all()],
        }
        for entry in entries
    ]


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def _write(archive: zipfile.ZipFile, name: str, text: str, when) -> None:
    info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text.encode("utf-8"))


def pack_files(lead: Lead) -> Iterable[tuple[str, str]]:
    """``(name, text)`` of each file of the pack, README first."""
    now = timezone.now()
    records = list(
        lead.consent_records.select_related("purpose").order_by("created_at", "pk")
    )
    submissions = list(
        lead.submissions.filter(is_spam=False).order_by("created_at", "pk")
    )
    requests = [s for s in submissions if s.request_wording]
    deliveries = lead.deliveries.select_related("consent_record__purpose").order_by(
        "created_at", "pk"
    )
    entries = register_entries()
    yield (
        "README.txt",
        render_to_string(
            "wagtail_leadgen/register/pack_readme.txt",
            {"lead": lead, "generated_at": now},
        ),
    )
    yield "register.json", register_json(entries, generated_at=now)
    yield "register.html", register_html(entries, generated_at=now)
    yield (
        "consent-proofs.json",
        _json(
            {
                "lead_id": lead.pk,
                "consents": [_proof(record) for record in records],
                "requests": [_request_proof(submission) for submission in requests],
            }
        ),
    )
    yield (
        "withdrawals.json",
        _json(
            {
                "withdrawn_consents": [
                    _proof(record) for record in records if record.decision in WITHDRAWN
                ],
                "objections": _objections(lead),
            }
        ),
    )
    yield "deliveries.json", _json([_delivery(d) for d in deliveries])
    for record in records:
        yield f"wordings/consent-{record.pk}.txt", record.wording
    for submission in requests:
        yield f"wordings/request-{submission.pk}.txt", submission.request_wording


def auditor_pack(lead: Lead) -> bytes:
    """The ZIP of ``pack_files``, built in memory (a few hundred kB at most)."""
    now = timezone.localtime()
    output = BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        for name, text in pack_files(lead):
            _write(archive, name, text, now)
    return output.getvalue()
