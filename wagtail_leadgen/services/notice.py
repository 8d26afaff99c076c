"""What the information notice of a lead form says (R10; GDPR Art. 13).

``build_notice`` gathers, for one page and its form, everything the person
must be told when their data is collected: who the controller is and how to
reach them (and the DPO), each processing (the request itself and each
consent purpose shown) with its purpose, legal basis, recipients — the CRM
processors this page's leads may go to included, with their country and
transfer safeguard —, retention, the rights and where to exercise them, the
authority to complain to, which fields are required, and the lead scoring
when it is on.

The result is a plain, frozen structure: ``includes/notice.html`` renders it
in two layers (a short first level next to the button, the details one click
away, as the CNIL recommends), and a headless front end gets the same facts
from ``Notice.as_dict()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.encoding import force_str
from django.utils.translation import get_language
from wagtail.models import Site
from wagtail.rich_text import expand_db_html

from ..conf import leadgen_settings
from ..crm import get_backend
from ..crm.base import CRMConfigurationError
from ..models.consent import ConsentPurpose, LegalBasis
from ..models.freshness import cached
from ..models.processing import RequestProcessing
from ..models.settings import LeadgenSiteSettings
from ..sanitize import clean_purpose_html
from .classification import scoring_enabled

#: The URL name of the page where a person sees, exports or erases their
#: data. The notice links to it as soon as a URLconf provides it.
MY_DATA_URL_NAME = "wagtail_leadgen:my_data"

#: The rights the notice lists (GDPR Art. 13(2)(b)-(c), 15-18, 20, 21, 7(3)).
RIGHTS = (
    "access",
    "rectification",
    "erasure",
    "restriction",
    "portability",
    "objection",
    "withdrawal",
)

REQUEST = "request"
CONSENT = "consent"


@dataclass(frozen=True)
class Processor:
    """A CRM destination's recipient, as its ``RECIPIENT`` setting names it."""

    name: str
    country: str
    safeguard: str = ""


@dataclass(frozen=True)
class Processing:
    """One processing the form's data is used for.

    ``label`` is what the visitor reads on the form: the request
    processing's one-line summary, or the consent box's label.
    """

    kind: str  # REQUEST or CONSENT
    label: str
    purpose_html: str
    legal_basis: str
    recipients: str
    retention_months: int
    processors: tuple[Processor, ...] = ()
    legitimate_interest: str = ""
    requires_confirmation: bool = False
    purpose_id: int | None = None

    @property
    def legal_basis_label(self) -> str:
        return force_str(LegalBasis(self.legal_basis).label)


@dataclass(frozen=True)
class Controller:
    """Who is responsible for the data, from the site's settings."""

    name: str = ""
    address: str = ""
    contact_email: str = ""
    dpo_email: str = ""
    privacy_url: str = ""

    @property
    def is_complete(self) -> bool:
        return bool(self.name and self.contact_email)


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    required: bool


@dataclass(frozen=True)
class Notice:
    """Everything the information notice of one form says."""

    controller: Controller
    request: Processing | None
    consents: tuple[Processing, ...]
    fields: tuple[FormField, ...]
    authority_name: str
    authority_url: str
    my_data_url: str = ""
    profiling: bool = False
    rights: tuple[str, ...] = field(default=RIGHTS)

    @property
    def processings(self) -> tuple[Processing, ...]:
        """The request processing first, then each consent purpose shown."""
        return ((self.request,) if self.request else ()) + self.consents

    @property
    def processors(self) -> tuple[Processor, ...]:
        """Every processor named, once, in the order they first appear."""
        return tuple(
            dict.fromkeys(p for item in self.processings for p in item.processors)
        )

    @property
    def required_fields(self) -> tuple[FormField, ...]:
        return tuple(f for f in self.fields if f.required)

    @property
    def optional_fields(self) -> tuple[FormField, ...]:
        return tuple(f for f in self.fields if not f.required)

    @property
    def required_labels(self) -> str:
        return ", ".join(f.label for f in self.required_fields)

    @property
    def optional_labels(self) -> str:
        return ", ".join(f.label for f in self.optional_fields)

    def as_dict(self) -> dict[str, Any]:
        """The notice as JSON-ready data, for a headless front end."""
        return {
            "controller": {
                "name": self.controller.name,
                "address": self.controller.address,
                "contact_email": self.controller.contact_email,
                "dpo_email": self.controller.dpo_email,
                "privacy_url": self.controller.privacy_url,
            },
            "processings": [
                {
                    "kind": item.kind,
                    "purpose_id": item.purpose_id,
                    "label": item.label,
                    "purpose_html": item.purpose_html,
                    "legal_basis": item.legal_basis,
                    "legal_basis_label": item.legal_basis_label,
                    "legitimate_interest": item.legitimate_interest,
                    "recipients": item.recipients,
                    "processors": [
                        {"name": p.name, "country": p.country, "safeguard": p.safeguard}
                        for p in item.processors
                    ],
                    "retention_months": item.retention_months,
                    "requires_confirmation": item.requires_confirmation,
                }
                for item in self.processings
            ],
            "fields": [
                {"name": f.name, "label": f.label, "required": f.required}
                for f in self.fields
            ],
            "rights": list(self.rights),
            "my_data_url": self.my_data_url,
            "supervisory_authority": {
                "name": self.authority_name,
                "url": self.authority_url,
            },
            "profiling": self.profiling,
        }


# -- Building it -----------------------------------------------------------------------
def my_data_url() -> str:
    """The "my data" page's URL, or "" while no URLconf provides it."""
    try:
        return reverse(MY_DATA_URL_NAME)
    except NoReverseMatch:
        return ""


def destination_processors(
    aliases: Iterable[str],
) -> list[tuple[Any, Processor | None]]:
    """``(receives, processor)`` of each destination among ``aliases`` that
    can be built (a misconfigured one is reported by ``manage.py check``)."""
    found = []
    for alias in aliases:
        try:
            backend = get_backend(alias)
        except CRMConfigurationError:
            continue
        recipient = backend.recipient
        processor = (
            Processor(recipient.name, recipient.country, recipient.safeguard)
            if recipient is not None
            else None
        )
        found.append((backend.receives, processor))
    return found


def processors_for(
    destinations: Sequence[tuple[Any, Processor | None]],
    purpose: ConsentPurpose | None,
) -> tuple[Processor, ...]:
    """The processors that receive a lead for the request (``purpose`` None:
    destinations that receive every lead) or for one consent purpose
    (destinations that need it)."""
    chosen = []
    for receives, processor in destinations:
        if processor is None:
            continue
        if purpose is None:
            wanted = receives.request
        else:
            wanted = (
                purpose.pk in receives.purposes or purpose.name in receives.purposes
            )
        if wanted:
            chosen.append(processor)
    return tuple(dict.fromkeys(chosen))


def request_item(
    processing: RequestProcessing, processors: tuple[Processor, ...] = ()
) -> Processing:
    return Processing(
        kind=REQUEST,
        label=processing.summary,
        purpose_html=clean_purpose_html(expand_db_html(processing.purpose_text)),
        legal_basis=processing.legal_basis,
        legitimate_interest=processing.legitimate_interest,
        recipients=processing.recipients,
        retention_months=processing.retention_months,
        processors=processors,
    )


def consent_item(
    purpose: ConsentPurpose, processors: tuple[Processor, ...] = ()
) -> Processing:
    return Processing(
        kind=CONSENT,
        label=purpose.checkbox_label,
        purpose_html=purpose.purpose_html,
        legal_basis=LegalBasis.CONSENT,
        recipients=purpose.recipients,
        retention_months=purpose.retention_months,
        processors=processors,
        requires_confirmation=purpose.requires_confirmation,
        purpose_id=purpose.pk,
    )


def controller_for(
    site: Site | None,
    request: HttpRequest | None = None,
    settings: LeadgenSiteSettings | None = None,
) -> Controller:
    """The controller as ``settings`` (else the site's settings) name it."""
    if settings is None:
        if site is None:
            return Controller()
        settings = LeadgenSiteSettings.for_site(site)
    privacy_page = settings.privacy_page
    privacy_url = ""
    if privacy_page is not None and privacy_page.live:
        privacy_url = privacy_page.get_url(request) or ""
    return Controller(
        name=settings.controller_name,
        address=settings.controller_address,
        contact_email=settings.contact_email,
        dpo_email=settings.dpo_email,
        privacy_url=privacy_url,
    )


def form_fields(form_class: Any) -> tuple[FormField, ...]:
    """The answer fields of a built lead form class: email first, then the extras."""
    names = ["email", *getattr(form_class, "extra_field_kinds", ())]
    fields = form_class.base_fields
    return tuple(
        FormField(name, force_str(fields[name].label), bool(fields[name].required))
        for name in names
        if name in fields
    )


def _site_of(page: Any, request: HttpRequest | None) -> Site | None:
    if request is not None:
        site = Site.find_for_request(request)
        if site is not None:
            return site
    if page is not None and page.pk:
        site = page.get_site()
        if site is not None:
            return site
    return Site.objects.filter(is_default_site=True).first()


def build_notice(
    page: Any,
    form_class: Any,
    *,
    request: HttpRequest | None = None,
    site: Site | None = None,
    site_settings: LeadgenSiteSettings | None = None,
) -> Notice:
    """The notice of ``page``'s form (a built ``LeadForm`` class, whose
    ``purposes`` are the boxes shown).

    ``page`` may be None (a form outside a lead page): the request
    processing is then unknown and every configured destination counts.
    The controller is read from ``site_settings`` when the caller has them
    already, else from the settings of ``site``, else of the request's site,
    else of the page's.
    """
    if page is not None:
        processing = page.get_request_processing()
        aliases = page.get_crm_destinations()
    else:
        processing, aliases = None, leadgen_settings.configured_aliases()
    destinations = destination_processors(aliases)
    authority = leadgen_settings.supervisory_authority
    return Notice(
        controller=(
            controller_for(None, request, site_settings)
            if site_settings is not None
            else controller_for(site or _site_of(page, request), request)
        ),
        request=(
            request_item(processing, processors_for(destinations, None))
            if processing is not None
            else None
        ),
        consents=tuple(
            consent_item(purpose, processors_for(destinations, purpose))
            for purpose in form_class.purposes
        ),
        fields=form_fields(form_class),
        authority_name=authority["NAME"],
        authority_url=authority["URL"],
        my_data_url=my_data_url(),
        profiling=scoring_enabled(),
    )


# -- Per revision, for a served page ---------------------------------------------------
def site_settings_for(request: HttpRequest) -> LeadgenSiteSettings:
    """The request's site settings, read once per content stamp in a process
    (see ``models.freshness``); saving them changes the stamp."""
    site = Site.find_for_request(request)
    if site is None:
        return LeadgenSiteSettings.for_request(request)
    return cached(
        request, ("site-settings", site.pk), lambda: LeadgenSiteSettings.for_site(site)
    )


def notice_for(page: Any, form_class: Any, request: HttpRequest) -> Notice:
    """``build_notice`` for the form a served lead page shows now, built
    once per page revision, site, language and content stamp.

    A form shown again with the purposes of its token (a class of its own)
    gets a notice built for it, never a cached one."""
    site_settings = site_settings_for(request)
    if page is None or form_class is not page.built_form(request)[0]:
        return build_notice(
            page, form_class, request=request, site_settings=site_settings
        )
    site = Site.find_for_request(request)
    return cached(
        request,
        ("notice", form_class, site.pk if site else None, get_language()),
        lambda: build_notice(
            page, form_class, request=request, site_settings=site_settings
        ),
    )
