"""``hubspot``: the Forms "submit data to a form" API; with an access token,
subscription updates and GDPR delete.

Each lead is posted to a HubSpot form (``/submissions/v3/integration/submit/
{portalId}/{formGuid}``) with the answers mapped in ``FIELD_MAP``, the page it
came from and ``legalConsentOptions``, which never claims a consent the person
did not give nor carries a text they did not see: the granted purposes with a
subscription type, each with its exact wording; ``consentToProcess`` is never
true (no checkbox asks to "process" the data: the request rests on its own
basis). With a private-app ``ACCESS_TOKEN``, a consent granted or withdrawn
later changes the subscription status through the communication preferences
API, a correction of the person's details updates the contact's properties
(``PATCH /crm/v3/objects/contacts/{email}?idProperty=email``), and a person
can be erased through ``POST /crm/v3/objects/contacts/gdpr-delete``. See ``docs/backends/hubspot.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from .base import (
    ConsentItem,
    CRMConfigurationError,
    DeliveryResult,
    LeadPayload,
    ManualActionNeeded,
    PermanentCRMError,
    Steps,
    UpdateSteps,
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
# HubSpot's basis for a legitimate interest towards a prospect (the Forms
# API's ``legitimateInterest.legalBasis``: "LEAD" or "CUSTOMER").
LEGITIMATE_INTEREST_LEAD = "LEAD"
# The basis HubSpot records for a subscription status a person set themselves.
STATUS_LEGAL_BASIS = "CONSENT_WITH_NOTICE"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TOKEN = re.compile(r"[\x21-\x7e]+")  # one line of printable ASCII, no spaces
# "v4", or a date version of the API such as "2026-03".
_PREFERENCES_VERSION = re.compile(r"v4|20\d\d-(0[1-9]|1[0-2])")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _epoch_milliseconds(moment: datetime) -> int:
    """Milliseconds since the epoch, exactly (no float rounding); naive means UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


class HubSpotBackend(HttpCRMBackend):
    """Submits each lead to a HubSpot form; with an access token, updates
    subscriptions when a consent changes, corrects contacts' properties and
    erases contacts (GDPR delete).

    ``supports_update``, ``supports_correction`` and ``supports_erasure``
    follow the options: True only when ``ACCESS_TOKEN`` is configured. Erasure must only be requested for
    people whose lead was actually delivered here: HubSpot blocklists an
    unknown address on GDPR delete (the delivery service is responsible for
    that; ``erase`` just calls).
    """

    OPTIONS = {
        "PORTAL_ID": HttpCRMBackend.REQUIRED,
        "FORM_GUID": HttpCRMBackend.REQUIRED,
        "FIELD_MAP": DEFAULT_FIELD_MAP,
        "SUBSCRIPTION_TYPES": {},
        "REQUEST_SUBSCRIPTION_TYPE": None,
        "ACCESS_TOKEN": None,
        **HttpCRMBackend.OPTIONS,  # CONNECT_TIMEOUT, READ_TIMEOUT
        "FORMS_BASE": "https://api.hsforms.com",
        "API_BASE": "https://api.hubapi.com",
        "PREFERENCES_API_VERSION": "v4",
    }
    supports_erasure = requires_options("ACCESS_TOKEN", to="erase people from HubSpot")
    supports_update = requires_options(
        "ACCESS_TOKEN", to="update subscriptions in HubSpot when a consent changes"
    )
    supports_correction = requires_options(
        "ACCESS_TOKEN", to="correct contacts' properties in HubSpot"
    )

    # -- Configuration ------------------------------------------------------------
    def configure(self) -> None:
        self.portal_id = self._configure_portal_id()
        self.form_guid = self._configure_form_guid()
        self.field_map = self._configure_field_map()
        self.subscription_types = self._configure_subscription_types()
        self.request_subscription_type = self._configure_request_subscription_type()
        self._token = self._configure_token()
        self.forms_base = self.url_option("FORMS_BASE", base=True)
        self.api_base = self.url_option("API_BASE", base=True)
        version = self.options["PREFERENCES_API_VERSION"]
        if not isinstance(version, str) or not _PREFERENCES_VERSION.fullmatch(version):
            raise CRMConfigurationError(
                f'{self.setting_path("PREFERENCES_API_VERSION")} must be "v4" or a '
                'date version of HubSpot\'s API such as "2026-03".'
            )

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

    def _configure_request_subscription_type(self) -> int | None:
        value = self.options["REQUEST_SUBSCRIPTION_TYPE"]
        if value is None:
            return None
        number = str(value) if not isinstance(value, bool) else ""
        if not number.isascii() or not number.isdigit():
            raise CRMConfigurationError(
                f"{self.setting_path('REQUEST_SUBSCRIPTION_TYPE')} must be a HubSpot "
                "subscription type id (a number), or None."
            )
        return int(number)

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

    def get_communications(self, lead: LeadPayload) -> list[dict[str, Any]]:
        """One entry per consent in force whose purpose has a subscription type,
        with the exact wording the person saw. Refused, pending and withdrawn
        purposes are not sent."""
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
        return communications

    def get_legal_consent_options(self, lead: LeadPayload) -> dict[str, Any]:
        """``legalConsentOptions``, or ``{}`` to send none. Override this with care:
        it must never claim a consent the person did not give.

        - Granted purposes with a subscription type: ``consent`` with those
          ``communications``. ``consentToProcess`` is False: no checkbox asked
          to "process" the data, the request rests on its own basis, and its
          ``text`` is the request processing's wording shown next to the
          button (left out when the page showed none).
        - Otherwise, when the page's request processing rests on legitimate
          interest and ``REQUEST_SUBSCRIPTION_TYPE`` is set: that basis, as
          ``legitimateInterest`` with the request's wording.
        - Otherwise nothing: HubSpot's Forms API has no way to say "a request
          the person made" (contract or pre-contractual steps), and any other
          object would record a consent or a subscription never given.
        """
        communications = self.get_communications(lead)
        if communications:
            consent: dict[str, Any] = {"consentToProcess": False}
            if lead.request is not None:
                consent["text"] = lead.request.wording
            consent["communications"] = communications
            return {"consent": consent}
        request = lead.request
        if (
            request is not None
            and request.legal_basis == "legitimate_interest"  # LegalBasis value
            and self.request_subscription_type is not None
        ):
            return {
                "legitimateInterest": {
                    "value": True,
                    "subscriptionTypeId": self.request_subscription_type,
                    "legalBasis": LEGITIMATE_INTEREST_LEAD,
                    "text": request.wording,
                }
            }
        return {}

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
        self,
        url: str,
        payload: dict[str, Any],
        headers: dict[str, str] | None = None,
        *,
        method: str = "POST",
    ) -> HttpRequest:
        """A JSON request (a POST unless told) to the HubSpot API."""
        return HttpRequest(
            method,
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

    def needs_update(self, change: ConsentItem) -> bool:
        """Only purposes with a subscription type were ever recorded in HubSpot."""
        return self.subscription_type_for(change) is not None

    def status_url(self, email: str) -> str:
        version = self.options["PREFERENCES_API_VERSION"]
        return (
            f"{self.api_base}/communication-preferences/{version}/statuses/"
            f"{quote(email, safe='')}"
        )

    def get_status_update(self, change: ConsentItem) -> dict[str, Any]:
        """The subscription status a consent change sets, with its legal basis.

        A grant carries the exact wording the person agreed to; a withdrawal
        says when it happened. Override this to word the explanation otherwise.
        """
        when = change.decided_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        if change.granted:
            explanation = f"Consent given on {when} to: {change.wording}"
        else:
            explanation = f"Consent withdrawn by the person on {when}."
        return {
            "channel": "EMAIL",
            "statusState": "SUBSCRIBED" if change.granted else "NOT_SUBSCRIBED",
            "subscriptionId": self.subscription_type_for(change),
            "legalBasis": STATUS_LEGAL_BASIS,
            "legalBasisExplanation": explanation,
        }

    def build_update(self, lead: LeadPayload) -> UpdateSteps[HttpRequest, HttpResponse]:
        """Set the purpose's subscription status: subscribed for a grant, not
        subscribed for a withdrawal (the v4 API also re-subscribes a person
        who opted out before, once they consent again)."""
        assert lead.change is not None  # ``update`` checks it
        response = yield self.json_request(
            self.status_url(lead.email),
            self.get_status_update(lead.change),
            {"Authorization": f"Bearer {self._token}"},
        )
        answer = response.json()
        if isinstance(answer, dict) and (
            answer.get("errors") or answer.get("status") == "CANCELED"
        ):
            # HubSpot's messages may quote the address: not copied.
            raise PermanentCRMError(
                "HubSpot did not apply the subscription change",
                status=response.status,
                response=response,
            )
        return DeliveryResult(detail="subscription status updated in HubSpot")

    def needs_correction(self, kinds: Collection[str]) -> bool:
        """Only the answers mapped in ``FIELD_MAP`` were ever sent to HubSpot."""
        return any(kind in self.field_map for kind in kinds)

    def get_corrected_properties(self, lead: LeadPayload) -> dict[str, str]:
        """The contact properties a correction sets: each corrected answer
        mapped in ``FIELD_MAP``. Override this to set more."""
        assert lead.correction is not None  # ``correct`` checks it
        return {
            self.field_map[kind]: str(value)
            for kind, value in lead.correction.values.items()
            if kind in self.field_map
        }

    def contact_url(self, email: str) -> str:
        return (
            f"{self.api_base}/crm/v3/objects/contacts/{quote(email, safe='')}"
            "?idProperty=email"
        )

    def build_correction(
        self, lead: LeadPayload
    ) -> UpdateSteps[HttpRequest, HttpResponse]:
        """Update the properties of the contact with this address. A contact
        HubSpot no longer has (merged, deleted) needs staff to find it."""
        request = self.json_request(
            self.contact_url(lead.email),
            {"properties": self.get_corrected_properties(lead)},
            {"Authorization": f"Bearer {self._token}"},
            method="PATCH",
        )
        try:
            yield request
        except PermanentCRMError as error:
            if error.status != 404:
                raise
            raise ManualActionNeeded(
                "HubSpot has no contact with this address (merged or deleted?): "
                "apply the correction to the person's contact by hand.",
                status=404,
            ) from None
        return DeliveryResult(detail="contact properties corrected in HubSpot")

    def build_erasure(
        self, email: str, *, idempotency_key: str
    ) -> Steps[HttpRequest, HttpResponse]:
        """GDPR-delete the contact with this address.

        Only for a lead that was delivered here: HubSpot adds an address it
        does not know to a blocklist. A 404 means the contact is gone already
        (a retry after an answer that came too late, or staff deleted it): the
        person is erased there, as Salesforce's backend counts it too.
        """
        try:
            yield self.json_request(
                f"{self.api_base}/crm/v3/objects/contacts/gdpr-delete",
                {"idProperty": "email", "objectId": email},
                {"Authorization": f"Bearer {self._token}"},
            )
        except PermanentCRMError as error:
            if error.status != 404:
                raise
