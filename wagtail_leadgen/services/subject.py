"""Everything stored about one person, for their right of access and to
portability (R14; GDPR Art. 15 and 20).

``subject_data(lead)`` is the whole record as plain JSON-ready data, read in
a fixed number of queries whatever the number of submissions. It holds what
*we* store: identity, submissions with answers and where they came from,
consent proofs with the exact wordings, confirmation emails, objections,
hand-offs to CRMs and download grants. It never holds what other systems
returned (their payloads, error messages or ids) nor secrets (link keys).

``subject_csv_rows(lead)`` is the same, one row per item, for people who
would rather open a spreadsheet; cells go through ``services.exports``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

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
    "deliveries",
    "download_grants",
    "access_requests",
)

SECTION_LABELS = {
    "person": _("You"),
    "submissions": _("Forms you sent"),
    "consents": _("Your consents"),
    "confirmation_emails": _("Confirmation emails"),
    "objections": _("Your objections"),
    "deliveries": _("Where your data was sent"),
    "download_grants": _("Your downloads"),
    "access_requests": _("Your data requests"),
}


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


def _submissions(lead: Lead) -> list[dict[str, Any]]:
    submissions = (
        Submission.objects.filter(lead=lead)
        .select_related("page", "request_processing")
        .order_by("created_at", "pk")
    )
    urls: dict[int, str | None] = {}

    def page_url(page) -> str | None:
        # One page usually carries many submissions: its URL is built once.
        if page.pk not in urls:
            urls[page.pk] = page.get_full_url()
        return urls[page.pk]

    items = []
    for submission in submissions.iterator(chunk_size=1000):
        page = submission.page
        processing = submission.request_processing
        items.append(
            {
                "id": submission.pk,
                "date": _when(submission.created_at),
                "page_title": page.title if page is not None else None,
                "page_url": page_url(page) if page is not None else None,
                "answers": dict(submission.answers or {}),
                "language": submission.language,
                "channel": submission.channel,
                "referrer": submission.referrer,
                "utm": {
                    "source": submission.utm_source,
                    "medium": submission.utm_medium,
                    "campaign": submission.utm_campaign,
                    "term": submission.utm_term,
                    "content": submission.utm_content,
                },
                "request_processing": processing.name if processing else None,
                "request_wording": submission.request_wording,
                "request_wording_sha256": submission.request_wording_sha256,
                "request_version": submission.request_revision_id,
                "spam": submission.is_spam,
            }
        )
    return items


def _consents(lead: Lead) -> list[dict[str, Any]]:
    records = (
        ConsentRecord.objects.filter(lead=lead)
        .select_related("purpose")
        .order_by("created_at", "pk")
    )
    return [
        {
            "id": record.pk,
            "date": _when(record.created_at),
            "purpose": record.purpose.name,
            "decision": record.decision,
            "wording": record.wording,
            "wording_sha256": record.wording_sha256,
            "version": record.purpose_revision_id,
            "submission": record.submission_id,
            "language": record.language,
            "channel": record.channel,
        }
        for record in records.iterator(chunk_size=1000)
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
    deliveries = (
        Delivery.objects.filter(Q(lead=lead) | Q(submission__lead=lead))
        .only(
            "pk",
            "kind",
            "backend_alias",
            "status",
            "submission_id",
            "created_at",
            "delivered_at",
        )
        .order_by("created_at", "pk")
    )
    names: dict[str, str] = {}
    return [
        {
            "id": delivery.pk,
            "date": _when(delivery.created_at),
            "destination": delivery.backend_alias,
            "recipient": _recipient_name(delivery.backend_alias, names),
            "kind": delivery.kind,
            "status": delivery.status,
            "submission": delivery.submission_id,
            "delivered": _when(delivery.delivered_at),
        }
        for delivery in deliveries.iterator(chunk_size=1000)
    ]


def _download_grants(lead: Lead) -> list[dict[str, Any]]:
    grants = (
        DownloadGrant.objects.filter(submission__lead=lead)
        .select_related("document")
        .order_by("created_at", "pk")
    )
    return [
        {
            "id": grant.pk,
            "date": _when(grant.created_at),
            "document": grant.document.title,
            "submission": grant.submission_id,
            "uses": grant.uses,
            "max_uses": grant.max_uses,
            "revoked": _when(grant.revoked_at),
        }
        for grant in grants
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
        "deliveries": _deliveries(lead),
        "download_grants": _download_grants(lead),
        "access_requests": _access_requests(lead),
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
