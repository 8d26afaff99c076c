"""``hubspot``: the Forms "submit data to a form" API, and GDPR delete for erasure.

Each lead is posted to a HubSpot form (``/submissions/v3/integration/submit/
{portalId}/{formGuid}``) with the answers mapped in ``FIELD_MAP``, the page it
came from and ``legalConsentOptions`` carrying the exact wording of each
purpose. With a private-app ``ACCESS_TOKEN``, a person can be erased through
``POST /crm/v3/objects/contacts/gdpr-delete``. See ``docs/backends/hubspot.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from .base import (
    ConsentItem,
    CRMConfigurationError,
    DeliveryResult,
    LeadPayload,
    Steps,
    requires_options,
)
from .http import HttpCRMBackend, HttpRequest, HttpResponse

# Our answer kinds -> HubSpot default contact properties.
DEFAULT_FIELD_MAP: dict[str, str] = {
    "first_name": "firstname",
    "last_name": "lastname",
    "company": "company",
    "job_title": "jobtitle",
    "phone": "phone",
    "country": "country",
    "question": "message",
}
# The legal basis of the thing the visitor asked for (see ``LegalBasis``).
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TOKEN = re.compile(r"[\x21-\x7e]+")  # one line of printable ASCII, no spaces
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _epoch_milliseconds(moment: datetime) -> int:
    """Milliseconds since the epoch, exactly (no float rounding); naive means UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


class HubSpotBackend(HttpCRMBackend):
    """Submits each lead to a HubSpot form; erases contacts with GDPR delete.

    ``supports_erasure`` follows the options: True only when ``ACCESS_TOKEN``
    is configured. Erasure must only be requested for people whose lead was
    actually delivered here: HubSpot blocklists an unknown address on GDPR
    delete (the delivery service is responsible for that; ``erase`` just calls).
    """

    OPTIONS = {
        "PORTAL_ID": HttpCRMBackend.REQUIRED,
        "FORM_GUID": HttpCRMBackend.REQUIRED,
        "FIELD_MAP": DEFAULT_FIELD_MAP,
        "SUBSCRIPTION_TYPES": {},
        "ACCESS_TOKEN": None,
        **HttpCRMBackend.OPTIONS,  # CONNECT_TIMEOUT, READ_TIMEOUT
        "FORMS_BASE": "https://api.hsforms.com",
        "API_BASE": "https://api.hubapi.com",
    }
    supports_erasure = requires_options("ACCESS_TOKEN", to="erase people from HubSpot")

    # -- Configuration ------------------------------------------------------------
    def configure(self) -> None:
        self.portal_id = self._configure_portal_id()
        self.form_guid = self._configure_form_guid()
        self.field_map = self._configure_field_map()
        self.subscription_types = self._configure_subscription_types()
        self._token = self._configure_token()
        self.forms_base = self.url_option("FORMS_BASE", base=True)
        self.api_base = self.url_option("API_BASE", base=True)

    def _configure_portal_id(self) -> str:
        value = self.options["PORTAL_ID"]
        text = (
            str(value)
            if isinstance(value, int) and not isinstance(value, bool)
            else value
        )
        if not isinstance(text, str) or not text.isascii() or not text.isdigit():
            raise CRMConfigurationError(
                f"{self.setting_path('PORTAL_ID')} must be your HubSpot account id "
                "(digits only, e.g. 12345678)."
            )
        return text

    def _configure_form_guid(self) -> str:
        value = self.options["FORM_GUID"]
        if not isinstance(value, str) or not _UUID.fullmatch(value.strip().lower()):
            raise CRMConfigurationError(
                f"{self.setting_path('FORM_GUID')} must be the form's GUID, e.g. "
                "'78c2891f-ebdd-44c0-bd94-15c012bbbfbf' (it is in the form editor's URL)."
            )
        return value.strip().lower()

    def _configure_field_map(self) -> dict[str, str]:
        field_map = self.options["FIELD_MAP"]
        if isinstance(field_map, Mapping) and "email" in field_map:
            raise CRMConfigurationError(
                f"{self.setting_path('FIELD_MAP')} must not map 'email': the address "
                "is always sent as the 'email' property."
            )
        return self.answer_field_map(
            "FIELD_MAP", remote="HubSpot property", reserved=frozenset({"email"})
        )

    def _configure_subscription_types(self) -> dict[int | str, int]:
        setting = self.setting_path("SUBSCRIPTION_TYPES")
        value = self.purpose_keyed_option(
            "SUBSCRIPTION_TYPES", values="HubSpot subscription type id"
        )
        resolved: dict[int | str, int] = {}
        for purpose, type_id in value.items():
            number = str(type_id) if not isinstance(type_id, bool) else ""
            if not number.isascii() or not number.isdigit():
                raise CRMConfigurationError(
                    f'{setting}["{purpose}"] must be a HubSpot subscription type id '
                    "(a number)."
                )
            resolved[purpose] = int(number)
        return resolved

    def _configure_token(self) -> str | None:
        value = self.options["ACCESS_TOKEN"]
        if value is None or value == "":
            return None
        if not isinstance(value, str) or not _TOKEN.fullmatch(value):
            # Never repeat the value: it is a secret.
            raise CRMConfigurationError(
                f"{self.setting_path('ACCESS_TOKEN')} must be a HubSpot private app "
                "access token (one line, no spaces); the value is not shown."
            )
        return value

    # -- Payload --------------------------------------------------------------------
    def get_fields(self, lead: LeadPayload) -> list[dict[str, str]]:
        """The ``fields`` list: the email and the answers mapped in ``FIELD_MAP``.

        Answers without a mapping are never sent. Override this to add fields.
        """
        fields = [{"name": "email", "value": lead.email}]
        for kind, prop in self.field_map.items():
            value = lead.answers.get(kind)
            if value is not None and str(value).strip():
                fields.append({"name": prop, "value": str(value)})
        return fields

    def get_context(self, lead: LeadPayload) -> dict[str, str]:
        """The ``context``: the page the lead came from (no IP address, no cookie)."""
        context = {}
        if lead.page_url:
            context["pageUri"] = lead.page_url
        if lead.page_title:
            context["pageName"] = lead.page_title
        return context

    def subscription_type_for(self, consent: ConsentItem) -> int | None:
        """The HubSpot subscription type of a purpose: by id first, then by name."""
        if consent.purpose_id in self.subscription_types:
            return self.subscription_types[consent.purpose_id]
        return self.subscription_types.get(consent.purpose_name)

    def get_legal_consent_options(self, lead: LeadPayload) -> dict[str, Any]:
        """``legalConsentOptions.consent``: processing consent and communications.

        Only *granted* purposes with a subscription type become communications,
        each with the exact wording the visitor saw. Refusals are not sent.
        """
        communications: list[dict[str, Any]] = []
        used: set[int] = set()
        for consent in lead.granted_purposes():
            type_id = self.subscription_type_for(consent)
            if type_id is None or type_id in used:
                continue  # HubSpot rejects a subscription type sent twice
            used.add(type_id)
            communications.append(
                {"value": True, "subscriptionTypeId": type_id, "text": consent.wording}
            )
        if not communications:
            return {}
        # No checkbox asks to "process" the data: the request rests on its own
        # basis, stated next to the button, whose exact wording is sent.
        return {
            "consent": {
                "consentToProcess": False,
                "text": lead.request.wording if lead.request else "",
                "communications": communications,
            }
        }

    def get_payload(self, lead: LeadPayload) -> dict[str, Any]:
        """The JSON body posted to the form. Override this to add HubSpot options."""
        payload: dict[str, Any] = {
            "submittedAt": str(_epoch_milliseconds(lead.submitted_at)),
            "fields": self.get_fields(lead),
        }
        legal = self.get_legal_consent_options(lead)
        if legal:
            payload["legalConsentOptions"] = legal
        context = self.get_context(lead)
        if context:
            payload["context"] = context
        return payload

    # -- Steps ------------------------------------------------------------------------
    def submit_url(self) -> str:
        return (
            f"{self.forms_base}/submissions/v3/integration/submit/"
            f"{quote(self.portal_id)}/{quote(self.form_guid)}"
        )

    def json_request(
        self, url: str, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> HttpRequest:
        """A JSON POST to the HubSpot API."""
        return HttpRequest(
            "POST",
            url,
            json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            {
                "Content-Type": "application/json",
                "Accept": "application/json",
                **(headers or {}),
            },
        )

    def build_delivery(self, lead: LeadPayload) -> HttpRequest:
        return self.json_request(self.submit_url(), self.get_payload(lead))

    def parse_delivery(
        self, response: HttpResponse, lead: LeadPayload
    ) -> DeliveryResult:
        # The Forms API gives no contact id.
        return DeliveryResult(detail="submitted to the HubSpot form")

    def build_erasure(self, email: str) -> Steps[HttpRequest, HttpResponse]:
        """GDPR-delete the contact with this address.

        Only for a lead that was delivered here: HubSpot adds an address it
        does not know to a blocklist.
        """
        yield self.json_request(
            f"{self.api_base}/crm/v3/objects/contacts/gdpr-delete",
            {"idProperty": "email", "objectId": email},
            {"Authorization": f"Bearer {self._token}"},
        )
