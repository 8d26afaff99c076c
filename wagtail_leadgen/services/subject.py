"""Everything stored about one person, for their right of access and to
portability (R14; GDPR Art. 15 and 20).

``subject_data(lead)`` is the whole record as plain JSON-ready data, read in
a fixed number of queries whatever the number of submissions. It holds what
*we* store: identity, submissions with answers and where they came from,
consent proofs with the exact wordings, confirmation emails, objections,
corrections, hand-offs to CRMs and download grants. It never holds what
other systems returned (their payloads, error messages or ids) nor secrets
(link keys).

``subject_csv_rows(lead)`` is the same, one row per item, for people who
would rather open a spreadsheet; cells go through ``services.exports``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import swapper
from django.db.models import Q
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..crm import get_backend
from ..crm.base import CRMConfigurationError
from ..models.consent import ConsentRecord
from ..models.delivery import Delivery
from ..models.leads import DownloadGrant, Lead, Submission
from ..models.privacy import ConfirmationRequest, Suppression
from ..validators import normalise_email, validate_lead_email
from .exports import csv_response, json_response
from .suppression import address_hashes

FORMAT = "wagtail-leadgen/subject-data"
FORMAT_VERSION = 1

#: The files a person's data can be downloaded as.
FILE_FORMATS = ("json", "csv")

#: The sections of the record, in the order the person reads them.
SECTIONS = (
    "person",
    "submissions",
    "consents",
    "confirmation_emails",
    "objections",
    "corrections",
    "deliveries",
    "download_grants",
    "access_requests",
    "callback_requests",
)


def find_subject(email: str) -> Lead | None:
    """The lead with this address (in any spelling that normalises to it), or
    None. Raises ``ValidationError`` for something that is not an address."""
    validate_lead_email(email.strip())
    return Lead.objects.filter(email=normalise_email(email)).first()


def _when(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _person(lead: Lead) -> dict[str, Any]:
    return {
        "email": lead.email,
        "first_contact": _when(lead.created_at),
        "last_contact": _when(lead.last_contact_at),
        "maturity": lead.maturity,
    }


def _page_refs(page_ids: set[int]) -> dict[int, tuple[str, str | None]]:
    """Title and URL of each page, built once per page (not per submission)."""
    page_model = swapper.load_model("wagtailcore", "Page")
    return {
        page.pk: (page.title, page.get_full_url())
        for page in page_model.objects.filter(pk__in=page_ids)
    }


# Rows are read as values, not model instances: a person with a thousand
# submissions would otherwise build a thousand Page objects (benchmarks/).
def _submissions(lead: Lead) -> list[dict[str, Any]]:
    rows = list(
        Submission.objects.filter(lead=lead)
        .order_by("created_at", "pk")
        .values(
            "pk",
            "created_at",
            "page_id",
            "answers",
            "language",
            "channel",
            "referrer",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_term",
            "utm_content",
            "request_processing__name",
            "request_wording",
            "request_wording_sha256",
            "request_revision_id",
            "is_spam",
        )
    )
    pages = _page_refs({row["page_id"] for row in rows} - {None})
    return [
        {
            "id": row["pk"],
            "date": _when(row["created_at"]),
            "page_title": pages.get(row["page_id"], (None, None))[0],
            "page_url": pages.get(row["page_id"], (None, None))[1],
            "answers": dict(row["answers"] or {}),
            "language": row["language"],
            "channel": row["channel"],
            "referrer": row["referrer"],
            "utm": {
                "source": row["utm_source"],
                "medium": row["utm_medium"],
                "campaign": row["utm_campaign"],
                "term": row["utm_term"],
                "content": row["utm_content"],
            },
            "request_processing": row["request_processing__name"],
            "request_wording": row["request_wording"],
            "request_wording_sha256": row["request_wording_sha256"],
            "request_version": row["request_revision_id"],
            "spam": row["is_spam"],
        }
        for row in rows
    ]


def _consents(lead: Lead) -> list[dict[str, Any]]:
    rows = (
        ConsentRecord.objects.filter(lead=lead)
        .order_by("created_at", "pk")
        .values(
            "pk",
            "created_at",
            "purpose__name",
            "decision",
            "wording",
            "wording_sha256",
            "purpose_revision_id",
            "submission_id",
            "language",
            "channel",
        )
    )
    return [
        {
            "id": row["pk"],
            "date": _when(row["created_at"]),
            "purpose": row["purpose__name"],
            "decision": row["decision"],
            "wording": row["wording"],
            "wording_sha256": row["wording_sha256"],
            "version": row["purpose_revision_id"],
            "submission": row["submission_id"],
            "language": row["language"],
            "channel": row["channel"],
        }
        for row in rows
    ]


def _confirmation_emails(lead: Lead) -> list[dict[str, Any]]:
    requests = ConfirmationRequest.objects.filter(lead=lead).order_by("created_at")
    return [
        {
            "id": request.pk,
            "date": _when(request.created_at),
            "submission": request.submission_id,
            "sent": _when(request.sent_at),
            "expires": _when(request.expires_at),
            "confirmed": _when(request.confirmed_at),
        }
        for request in requests
    ]


def _objections(lead: Lead) -> list[dict[str, Any]]:
    entries = (
        Suppression.objects.filter(address_hash__in=address_hashes(lead.email))
        .select_related("purpose")
        .prefetch_related("lifted_purposes")
        .order_by("created_at", "pk")
    )
    return [
        {
            "id": entry.pk,
            "date": _when(entry.created_at),
            "purpose": entry.purpose.name if entry.purpose else None,
            "all_marketing": entry.purpose is None,
            "source": entry.source,
            "consented_again_to": sorted(p.name for p in entry.lifted_purposes.all()),
        }
        for entry in entries
    ]


def _corrections(lead: Lead) -> list[dict[str, Any]]:
    return [
        {
            "id": rectification.pk,
            "date": _when(rectification.created_at),
            "source": rectification.source,
            "answers": dict(rectification.values),
        }
        for rectification in lead.rectifications.order_by("created_at", "pk")
    ]


def _callback_requests(lead: Lead) -> list[dict[str, Any]]:
    """The person's requests to be called back, and when they were called."""
    return [
        {
            "id": callback.pk,
            "submission": callback.submission_id,
            "phone": callback.phone,
            "requested_at": _when(callback.requested_at),
            "preferred_from": _when(callback.slot_start),
            "preferred_until": _when(callback.slot_end),
            "called_at": _when(callback.first_called_at),
            "outcome": callback.outcome,
            "notes": callback.notes,
        }
        for callback in lead.callbacks.order_by("requested_at", "pk")
    ]


def _recipient_name(alias: str, names: dict[str, str]) -> str:
    """The processor's name as the notice gives it, else the destination alias."""
    if alias not in names:
        try:
            recipient = get_backend(alias).recipient
        except CRMConfigurationError:  # a destination since removed from settings
            recipient = None
        names[alias] = recipient.name if recipient is not None else alias
    return names[alias]


def _deliveries(lead: Lead) -> list[dict[str, Any]]:
    rows = (
        Delivery.objects.filter(Q(lead=lead) | Q(submission__lead=lead))
        .order_by("created_at", "pk")
        .values(
            "pk",
            "created_at",
            "backend_alias",
            "kind",
            "status",
            "submission_id",
            "delivered_at",
        )
    )
    names: dict[str, str] = {}
    return [
        {
            "id": row["pk"],
            "date": _when(row["created_at"]),
            "destination": row["backend_alias"],
            "recipient": _recipient_name(row["backend_alias"], names),
            "kind": row["kind"],
            "status": row["status"],
            "submission": row["submission_id"],
            "delivered": _when(row["delivered_at"]),
        }
        for row in rows
    ]


def _download_grants(lead: Lead) -> list[dict[str, Any]]:
    rows = (
        DownloadGrant.objects.filter(submission__lead=lead)
        .order_by("created_at", "pk")
        .values(
            "pk",
            "created_at",
            "document__title",
            "submission_id",
            "uses",
            "max_uses",
            "revoked_at",
        )
    )
    return [
        {
            "id": row["pk"],
            "date": _when(row["created_at"]),
            "document": row["document__title"],
            "submission": row["submission_id"],
            "uses": row["uses"],
            "max_uses": row["max_uses"],
            "revoked": _when(row["revoked_at"]),
        }
        for row in rows
    ]


def _access_requests(lead: Lead) -> list[dict[str, Any]]:
    return [
        {
            "id": request.pk,
            "date": _when(request.created_at),
            "used": _when(request.used_at),
        }
        for request in lead.access_requests.order_by("created_at", "pk")
    ]


def subject_data(lead: Lead) -> dict[str, Any]:
    """Everything stored about the person, JSON-serialisable (dates as ISO 8601).

    A fixed number of queries, whatever the number of submissions."""
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "generated_at": _when(timezone.now()),
        "person": _person(lead),
        "submissions": _submissions(lead),
        "consents": _consents(lead),
        "confirmation_emails": _confirmation_emails(lead),
        "objections": _objections(lead),
        "corrections": _corrections(lead),
        "deliveries": _deliveries(lead),
        "download_grants": _download_grants(lead),
        "access_requests": _access_requests(lead),
        "callback_requests": _callback_requests(lead),
    }


# -- CSV ----------------------------------------------------------------------


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Nested mappings as ``outer.inner`` keys, in their order."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _flatten(inner, f"{prefix}{key}.")
    else:
        yield prefix.rstrip("."), value


def _details(item: dict[str, Any]) -> str:
    parts = []
    for key, value in _flatten(item):
        if key in ("id", "date") or value in (None, "", [], {}):
            continue
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        parts.append(f"{key}: {value}")
    return "\n".join(parts)


def subject_csv_rows(lead: Lead) -> tuple[list[str], Iterator[list[Any]]]:
    """Headings and rows of the person's data: one row per item, the section
    first. Write them with ``services.exports`` (``csv_response``,
    ``iter_csv``), which neutralises formulas a visitor may have typed."""
    data = subject_data(lead)
    headings = [str(_("Section")), str(_("Reference")), str(_("Date")), str(_("Data"))]

    def rows() -> Iterator[list[Any]]:
        person = data["person"]
        yield ["person", "", person["first_contact"], _details(person)]
        for section in SECTIONS[1:]:
            for item in data[section]:
                yield [section, item["id"], item["date"], _details(item)]

    return headings, rows()


def subject_file(
    lead: Lead, file_format: str, *, filename: str
) -> StreamingHttpResponse:
    """The person's data as a streamed download no cache keeps: ``file_format``
    is one of ``FILE_FORMATS``; ``filename`` without extension (and without
    personal data: it shows in browsers' download lists)."""
    if file_format == "json":
        return json_response(filename, subject_data(lead))
    if file_format == "csv":
        return csv_response(filename, *subject_csv_rows(lead))
    raise ValueError(f"Unknown format {file_format!r}; use one of {FILE_FORMATS}.")
