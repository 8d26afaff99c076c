"""The auditor's pack: one ZIP with the evidence a controller hands the CNIL.

For one person: the records of processing (JSON and printable HTML), all
that is stored about them (``services.subject``, the same record the person
gets from "my data"), and drawn from it for the auditor: each consent proof
with the exact wording shown and the SHA-256 fingerprint stored with it
(and whether the copy still matches it), the wording shown next to the
button for each request, the withdrawals and objections, and every delivery
to a CRM (destination, kind, status, dates, attempts; never a payload nor
an error message, which may quote other systems' data). Each wording is
also a file of its own, so that an auditor can check its fingerprint with
``sha256sum`` without trusting this code.

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

from ..models.consent import ConsentDecision, wording_sha256
from ..models.delivery import Delivery
from ..models.leads import Lead
from .register import register_entries, register_html, register_json
from .subject import subject_data

WITHDRAWN = (ConsentDecision.WITHDRAWN, ConsentDecision.EXPIRED)


def _consent_proof(consent: dict[str, Any]) -> dict[str, Any]:
    """A consent as ``subject_data`` gives it, with the fingerprint checked."""
    return {
        **consent,
        "wording_matches_sha256": wording_sha256(consent["wording"])
        == consent["wording_sha256"],
        "wording_file": f"wordings/consent-{consent['id']}.txt",
    }


def _request_proof(submission: dict[str, Any]) -> dict[str, Any]:
    """The wording a submission showed next to the button, fingerprint checked."""
    return {
        "submission": submission["id"],
        "date": submission["date"],
        "request_processing": submission["request_processing"],
        "version": submission["request_version"],
        "wording": submission["request_wording"],
        "wording_sha256": submission["request_wording_sha256"],
        "wording_matches_sha256": wording_sha256(submission["request_wording"])
        == submission["request_wording_sha256"],
        "wording_file": f"wordings/request-{submission['id']}.txt",
    }


def _deliveries(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The person's deliveries with their attempts, and for a consent change
    the proof it carried (its id in ``consent-proofs.json``)."""
    deliveries = data["deliveries"]
    extra = Delivery.objects.filter(pk__in=[d["id"] for d in deliveries]).in_bulk()
    return [
        {
            **delivery,
            "attempts": extra[delivery["id"]].attempts,
            "consent_change": extra[delivery["id"]].consent_record_id,
        }
        for delivery in deliveries
    ]


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def pack_files(lead: Lead) -> Iterable[tuple[str, str]]:
    """``(name, text)`` of each file of the pack, README first."""
    now = timezone.now()
    data = subject_data(lead)
    consents = data["consents"]
    requests = [s for s in data["submissions"] if s["request_wording"]]
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
    yield "person.json", _json(data)
    yield (
        "consent-proofs.json",
        _json(
            {
                "consents": [_consent_proof(consent) for consent in consents],
                "requests": [_request_proof(submission) for submission in requests],
            }
        ),
    )
    yield (
        "withdrawals.json",
        _json(
            {
                "withdrawn_consents": [
                    _consent_proof(c) for c in consents if c["decision"] in WITHDRAWN
                ],
                "objections": data["objections"],
            }
        ),
    )
    yield "deliveries.json", _json(_deliveries(data))
    for consent in consents:
        yield f"wordings/consent-{consent['id']}.txt", consent["wording"]
    for submission in requests:
        yield f"wordings/request-{submission['id']}.txt", submission["request_wording"]


def _write(archive: zipfile.ZipFile, name: str, text: str, when) -> None:
    info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text.encode("utf-8"))


def auditor_pack(lead: Lead) -> bytes:
    """The ZIP of ``pack_files``, built in memory (a few hundred kB at most)."""
    now = timezone.localtime()
    output = BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        for name, text in pack_files(lead):
            _write(archive, name, text, now)
    return output.getvalue()
