"""The records of processing (R18; GDPR Art. 30), generated from configuration.

One entry per live processing: each request processing (what answering a
request involves) and each consent purpose. Nothing is stored: the register
is built whenever it is read, so it is always current. Each entry says:

- the purpose, legal basis, internal recipients, processors (with country
  and transfer safeguard) and retention, as the information notice states
  them (``services.notice`` builds both);
- the categories of data: the fields of the live lead pages that carry the
  processing (their published form, not a draft), plus the technical data
  the plugin keeps with them (consent proof, referrer, UTM, language…);
- the categories of persons, a field of the purpose;
- the security measures (``services.security_measures``);
- the controller and DPO, from the site's settings.

``register_json``, ``register_csv`` and ``register_html`` render it for the
admin page, the ``leadgen_register`` command and the auditor's pack.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from html import unescape
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from wagtail.models import Site

from ..conf import leadgen_settings
from ..field_kinds import FORM_FIELD_KINDS
from ..models.consent import DEFAULT_CATEGORIES_OF_PERSONS, ConsentPurpose
from ..models.processing import RequestProcessing
from .classification import scoring_enabled
from .exports import iter_csv
from .kpis import lead_pages
from .notice import (
    REQUEST,
    Controller,
    Processing,
    consent_item,
    controller_for,
    destination_processors,
    form_fields,
    processors_for,
    request_item,
)
from .security_measures import security_measures


@dataclass(frozen=True)
class RegisterEntry:
    """One processing as the records of processing describe it."""

    id: int
    name: str
    #: What the notice says of it: purpose, legal basis, recipients, retention.
    processing: Processing
    categories_of_persons: str
    #: From the forms of the live pages that carry the processing.
    data_categories: tuple[str, ...]
    #: What the plugin records beside the answers.
    technical_data: tuple[str, ...]
    #: Titles of the live pages whose form carries the processing.
    pages: tuple[str, ...]
    security_measures: tuple[str, ...]
    controller: Controller

    @property
    def kind(self) -> str:
        return self.processing.kind

    @property
    def purpose_text(self) -> str:
        return unescape(strip_tags(self.processing.purpose_html)).strip()

    @property
    def description(self) -> str:
        """The purpose as plain text, for CSV: the line the visitor reads
        (the summary or the checkbox label), then the purpose text."""
        return f"{self.processing.label}\n{self.purpose_text}"

    @property
    def processors_text(self) -> str:
        return "; ".join(
            f"{p.name} ({p.country}{', ' + p.safeguard if p.safeguard else ''})"
            for p in self.processing.processors
        )

    def as_dict(self) -> dict[str, Any]:
        item = self.processing
        return {
            "kind": self.kind,
            "id": self.id,
            "name": self.name,
            "label": item.label,
            "purpose_html": item.purpose_html,
            "purpose_text": self.purpose_text,
            "legal_basis": item.legal_basis,
            "legal_basis_label": item.legal_basis_label,
            "legitimate_interest": item.legitimate_interest,
            "categories_of_data": list(self.data_categories),
            "technical_data": list(self.technical_data),
            "categories_of_persons": self.categories_of_persons,
            "recipients": {
                "internal": item.recipients,
                "processors": [
                    {"name": p.name, "country": p.country, "safeguard": p.safeguard}
                    for p in item.processors
                ],
            },
            "retention_months": item.retention_months,
            "security_measures": list(self.security_measures),
            "controller": {
                "name": self.controller.name,
                "address": self.controller.address,
                "contact_email": self.controller.contact_email,
                "dpo_email": self.controller.dpo_email,
            },
            "collected_on": list(self.pages),
        }


# -- Where each processing is used -------------------------------------------------
@dataclass
class _Usage:
    """What the live pages carrying one processing collect and where it goes."""

    pages: list[str] = field(default_factory=list)
    categories: dict[str, str] = field(default_factory=dict)  # kind -> label
    aliases: dict[str, None] = field(default_factory=dict)  # ordered set
    gated: bool = False

    def add(self, page: Any, categories: dict[str, str], aliases: list[str]) -> None:
        self.pages.append(page.title)
        self.categories.update(categories)
        self.aliases.update(dict.fromkeys(aliases))
        self.gated = self.gated or page.get_gated_document() is not None


def _destinations(usage: _Usage) -> list[tuple[Any, Any]]:
    """The destinations the carrying pages route to; every configured one for
    a processing no live page carries yet."""
    return destination_processors(
        list(usage.aliases) or leadgen_settings.configured_aliases()
    )


def _page_categories(form_class: Any) -> dict[str, str]:
    """A form's answers as categories of data: the standard label of each
    field kind (an editor's own label says the same thing differently)."""
    return {
        item.name: str(FORM_FIELD_KINDS.get(item.name, item.label))
        for item in form_fields(form_class)
    }


def _usages(
    site: Site | None,
) -> tuple[dict[int, _Usage], dict[int, _Usage]]:
    """By request processing and by purpose: their use on the live lead pages
    (of ``site`` only, when given)."""
    pages = lead_pages().live()
    if site is not None:
        pages = pages.descendant_of(site.root_page, inclusive=True)
    requests: dict[int, _Usage] = {}
    purposes: dict[int, _Usage] = {}
    for page in pages.order_by("path").specific():
        form_class = page.get_form_class()
        categories = _page_categories(form_class)
        aliases = page.get_crm_destinations()
        processing = page.get_request_processing()
        if processing is not None:
            requests.setdefault(processing.pk, _Usage()).add(page, categories, aliases)
        for purpose in form_class.purposes:
            purposes.setdefault(purpose.pk, _Usage()).add(page, categories, aliases)
    return requests, purposes


# -- What the plugin keeps beside the answers ---------------------------------------
def _context_data() -> list[str]:
    return [
        _("Date, page and language of each form sent, and the channel (web, API)"),
        _("Referring page (without its query string) and UTM campaign parameters"),
        _("Date of the last contact coming from the person"),
        _("Status of the handoff to each CRM destination"),
        _("Corrections of the person's details, with their date and source"),
        _("The person's requests to see their data, with their dates"),
    ]


def _request_technical_data(usage: _Usage) -> tuple[str, ...]:
    data = [
        *_context_data(),
        _("Wording of the request processing shown, with its SHA-256 fingerprint"),
    ]
    if usage.gated:
        data.append(_("Download links given and how often each was used"))
    if scoring_enabled():
        data.append(
            _("Maturity level (hot, warm, cold) computed from these data (profiling)")
        )
    return tuple(data)


def _consent_technical_data(purpose: ConsentPurpose) -> tuple[str, ...]:
    data = [
        *_context_data(),
        _(
            "Consent proof: decision, exact wording shown and its SHA-256 "
            "fingerprint, version, date, language and channel"
        ),
        _("Objections, as a keyed hash of the address"),
    ]
    if purpose.requires_confirmation:
        data.append(_("Double opt-in: when the confirmation was sent and confirmed"))
    return tuple(data)


# -- The register --------------------------------------------------------------------
@dataclass(frozen=True)
class _Shared:
    """What every entry of one register says alike."""

    controller: Controller
    security_measures: tuple[str, ...]


def _entry(
    model: RequestProcessing | ConsentPurpose,
    item: Processing,
    usage: _Usage,
    technical: tuple[str, ...],
    shared: _Shared,
) -> RegisterEntry:
    return RegisterEntry(
        id=model.pk,
        name=model.name,
        processing=item,
        categories_of_persons=(
            model.categories_of_persons or str(DEFAULT_CATEGORIES_OF_PERSONS)
        ),
        data_categories=tuple(usage.categories.values()),
        technical_data=technical,
        pages=tuple(usage.pages),
        security_measures=shared.security_measures,
        controller=shared.controller,
    )


def register_entries(*, site: Site | None = None) -> list[RegisterEntry]:
    """Every live processing, request processings first, then consent purposes.

    ``site`` chooses the controller whose register it is, and limits the
    pages read to that site's; by default the controller is the default
    site's and every live lead page counts.
    """
    shared = _Shared(
        controller=controller_for(
            site or Site.objects.filter(is_default_site=True).first()
        ),
        security_measures=security_measures(),
    )
    requests, purposes = _usages(site)
    entries = []
    for processing in RequestProcessing.objects.filter(live=True).order_by(
        "name", "pk"
    ):
        usage = requests.get(processing.pk, _Usage())
        processors = processors_for(_destinations(usage), None)
        item = request_item(processing, processors)
        technical = _request_technical_data(usage)
        entries.append(_entry(processing, item, usage, technical, shared))
    for purpose in ConsentPurpose.objects.filter(live=True).order_by("name", "pk"):
        usage = purposes.get(purpose.pk, _Usage())
        processors = processors_for(_destinations(usage), purpose)
        item = consent_item(purpose, processors)
        technical = _consent_technical_data(purpose)
        entries.append(_entry(purpose, item, usage, technical, shared))
    return entries


# -- Renderers -----------------------------------------------------------------------
#: The formats the register is rendered in, by the admin and the command.
FORMATS = ("json", "csv", "html")


def register_json(entries: Sequence[RegisterEntry], *, generated_at: Any = None) -> str:
    """The register as a JSON document (UTF-8 text, stable English keys)."""
    document = {
        "generated_at": (generated_at or timezone.now()).isoformat(),
        "processings": [entry.as_dict() for entry in entries],
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def kind_label(kind: str) -> str:
    return _("Request") if kind == REQUEST else _("Consent")


def register_table(
    entries: Sequence[RegisterEntry],
) -> tuple[list[str], list[list[Any]]]:
    """One row per processing, for a spreadsheet."""
    headings = [
        _("Kind"),
        _("Processing"),
        _("Purpose"),
        _("Legal basis"),
        _("Legitimate interest pursued"),
        _("Categories of data"),
        _("Technical data"),
        _("Categories of persons"),
        _("Internal recipients"),
        _("Processors (country, transfer safeguard)"),
        _("Retention (months)"),
        _("Security measures"),
        _("Data controller"),
        _("Controller's address"),
        _("Contact for data requests"),
        _("Data protection officer"),
        _("Collected on"),
    ]
    rows = [
        [
            kind_label(entry.kind),
            entry.name,
            entry.description,
            entry.processing.legal_basis_label,
            entry.processing.legitimate_interest,
            "; ".join(entry.data_categories),
            "; ".join(entry.technical_data),
            entry.categories_of_persons,
            entry.processing.recipients,
            entry.processors_text,
            entry.processing.retention_months,
            " ".join(entry.security_measures),
            entry.controller.name,
            entry.controller.address,
            entry.controller.contact_email,
            entry.controller.dpo_email,
            "; ".join(entry.pages),
        ]
        for entry in entries
    ]
    return headings, rows


def register_csv(entries: Sequence[RegisterEntry]) -> Iterator[bytes]:
    """The register as CSV lines, formulas neutralised (``services.exports``)."""
    return iter_csv(*register_table(entries))


def register_html(entries: Sequence[RegisterEntry], *, generated_at: Any = None) -> str:
    """The register as one printable HTML document (its print stylesheet inline,
    so that it reads the same saved to a file or in the auditor's pack)."""
    return render_to_string(
        "wagtail_leadgen/register/printable.html",
        {
            "entries": entries,
            "controller": entries[0].controller if entries else None,
            "generated_at": generated_at or timezone.now(),
        },
    )
