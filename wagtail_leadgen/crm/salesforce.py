"""``salesforce``: Web-to-Lead for delivery, the REST API for consent changes
and erasure.

Each lead is posted form-encoded to ``servlet.WebToLead`` with the org id, the
email, the answers mapped in ``FIELD_MAP`` and ``LEAD_SOURCE``. Web-to-Lead
answers 200 even when it drops a lead, so a delivery marked "delivered" only
means Salesforce accepted the request. With ``INSTANCE_URL`` and
``ACCESS_TOKEN``, the person's Leads are found with SOQL: a consent granted or
withdrawn later sets the purpose's checkbox (``CONSENT_FIELDS``) and
``HasOptedOutOfEmail``; a correction of their details sets the corrected
fields; erasure deletes them. See ``docs/backends/salesforce.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from urllib.parse import urlencode

from .base import (
    ConsentItem,
    CRMConfigurationError,
    CRMError,
    DeliveryResult,
    LeadPayload,
    ManualActionNeeded,
    PermanentCRMError,
    Steps,
    UpdateSteps,
    requires_options,
)
from .http import HttpCRMBackend, HttpRequest, HttpResponse
from .salesforce_rest import SalesforceRestMixin

WEB_TO_LEAD_URL = (
    "https://webto.salesforce.com/servlet/servlet.WebToLead?encoding=UTF-8"
)
# Our answer kinds -> Web-to-Lead parameter names of standard Lead fields.
DEFAULT_FIELD_MAP: dict[str, str] = {
    "first_name": "first_name",
    "last_name": "last_name",
    "company": "company",
    "job_title": "title",
    "phone": "phone",
    "country": "country",
    "question": "description",
}
# The REST API names of the standard Lead fields Web-to-Lead knows by these
# parameter names (a correction goes through the REST API).
REST_FIELD_NAMES: dict[str, str] = {
    "first_name": "FirstName",
    "last_name": "LastName",
    "company": "Company",
    "title": "Title",
    "phone": "Phone",
    "country": "Country",
    "description": "Description",
}
# Salesforce requires these on every Lead; a form that does not ask gets this.
PLACEHOLDER = "[not provided]"
REQUIRED_LEAD_FIELDS = ("last_name", "company")
# Lengths of standard Lead fields: a longer value makes Web-to-Lead drop the
# lead silently, so it is shortened instead (the email is never shortened).
MAX_LENGTHS = {
    "first_name": 40,
    "last_name": 80,
    "company": 255,
    "title": 128,
    "phone": 40,
    "country": 80,
    "description": 32000,
    "lead_source": 255,
}
_RESERVED = {"oid", "email", "lead_source", "retURL", "debug", "debugEmail"}
_ORG_ID = re.compile(r"00D[0-9A-Za-z]{12}(?:[0-9A-Za-z]{3})?")
# A custom field's id as Web-to-Lead forms use it; the REST API needs its name.
_FIELD_ID = re.compile(r"00N[0-9A-Za-z]{12}(?:[0-9A-Za-z]{3})?")
_API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_API_VERSION = re.compile(r"v\d{2,3}\.0")
_TOKEN = re.compile(r"[\x21-\x7e]+")


def _shorten(value: str, limit: int | None) -> str:
    if limit is None or len(value) <= limit:
        return value
    return value[: limit - 1] + "…"


class SalesforceBackend(SalesforceRestMixin, HttpCRMBackend):
    """Creates a Lead through Web-to-Lead; updates consents on Leads, corrects
    and erases them through the REST API.

    ``supports_update``, ``supports_correction`` and ``supports_erasure``
    follow the options: True only when both ``INSTANCE_URL`` and
    ``ACCESS_TOKEN`` are configured.
    """

    OPTIONS = {
        "ORG_ID": HttpCRMBackend.REQUIRED,
        "FIELD_MAP": DEFAULT_FIELD_MAP,
        "LEAD_SOURCE": "Web",
        "EXTRA_FIELDS": {},
        "CONSENT_FIELDS": {},
        "URL": WEB_TO_LEAD_URL,
        **HttpCRMBackend.OPTIONS,  # CONNECT_TIMEOUT, READ_TIMEOUT
        "INSTANCE_URL": None,
        "ACCESS_TOKEN": None,
        "API_VERSION": "v62.0",
        "EMAIL_OPT_OUT_FIELD": "HasOptedOutOfEmail",
    }
    supports_erasure = requires_options(
        "INSTANCE_URL", "ACCESS_TOKEN", to="erase people from Salesforce"
    )
    supports_update = requires_options(
        "INSTANCE_URL", "ACCESS_TOKEN", to="update consents in Salesforce"
    )
    supports_correction = requires_options(
        "INSTANCE_URL", "ACCESS_TOKEN", to="correct Leads in Salesforce"
    )

    # -- Configuration ------------------------------------------------------------
    def configure(self) -> None:
        org_id = self.options["ORG_ID"]
        if not isinstance(org_id, str) or not _ORG_ID.fullmatch(org_id):
            raise CRMConfigurationError(
                f"{self.setting_path('ORG_ID')} must be your Salesforce organization "
                "id: 15 or 18 letters and digits starting with 00D."
            )
        self.org_id = org_id
        self.field_map = self._configure_field_map()
        self.lead_source = self._configure_lead_source()
        self.consent_fields = self._configure_consent_fields()
        self.extra_fields = self._configure_extra_fields()
        self.url = self.url_option("URL")
        self._configure_rest()
        self.email_opt_out_field = self._configure_email_opt_out_field()
        if self.instance_url is not None:
            self._check_consent_fields_for_rest()

    def _configure_field_map(self) -> dict[str, str]:
        return self.answer_field_map(
            "FIELD_MAP", remote="Salesforce", reserved=frozenset(_RESERVED)
        )

    def _configure_lead_source(self) -> str:
        value = self.options["LEAD_SOURCE"]
        if value is None:
            return ""
        if not isinstance(value, str):
            raise CRMConfigurationError(
                f"{self.setting_path('LEAD_SOURCE')} must be a string (or None)."
            )
        return value

    def _configure_consent_fields(self) -> dict[int | str, str]:
        setting = self.setting_path("CONSENT_FIELDS")
        value = self.purpose_keyed_option(
            "CONSENT_FIELDS", values="Salesforce checkbox field"
        )
        taken = _RESERVED | set(self.field_map.values())
        for purpose, name in value.items():
            if not isinstance(name, str) or not name.strip() or name in taken:
                raise CRMConfigurationError(
                    f'{setting}["{purpose}"] must be a Salesforce field name not '
                    "already sent by the backend."
                )
        return dict(value)

    def _configure_email_opt_out_field(self) -> str:
        value = self.options["EMAIL_OPT_OUT_FIELD"] or ""
        if value and (not isinstance(value, str) or not _API_NAME.fullmatch(value)):
            raise CRMConfigurationError(
                f"{self.setting_path('EMAIL_OPT_OUT_FIELD')} must be the API name of "
                "a Lead checkbox (HasOptedOutOfEmail by default), or None."
            )
        return value

    def _check_consent_fields_for_rest(self) -> None:
        """Consent changes go through the REST API, which knows fields by API
        name, never by the ``00N…`` id a generated Web-to-Lead form uses."""
        for purpose, name in self.consent_fields.items():
            if _FIELD_ID.fullmatch(name) or not _API_NAME.fullmatch(name):
                raise CRMConfigurationError(
                    f'{self.setting_path("CONSENT_FIELDS")}["{purpose}"] must be the '
                    "field's API name (e.g. Newsletter_Opt_In__c) when INSTANCE_URL "
                    "is set: consent changes are applied through the REST API."
                )

    def _configure_extra_fields(self) -> dict[str, str]:
        setting = self.setting_path("EXTRA_FIELDS")
        value = self.options["EXTRA_FIELDS"]
        if not isinstance(value, Mapping):
            raise CRMConfigurationError(
                f"{setting} must be a dict of Salesforce field name -> value."
            )
        taken = (
            _RESERVED | set(self.field_map.values()) | set(self.consent_fields.values())
        )
        for name, extra in value.items():
            if not isinstance(name, str) or not name.strip() or name in taken:
                raise CRMConfigurationError(
                    f"{setting} keys must be Salesforce field names not already sent "
                    "by the backend."
                )
            if not isinstance(extra, str | int | float) or isinstance(extra, bool):
                raise CRMConfigurationError(
                    f'{setting}["{name}"] must be a string or a number.'
                )
        return {name: str(extra) for name, extra in value.items()}

    def _configure_rest(self) -> None:
        version = self.options["API_VERSION"]
        if not isinstance(version, str) or not _API_VERSION.fullmatch(version):
            raise CRMConfigurationError(
                f"{self.setting_path('API_VERSION')} must look like 'v62.0'."
            )
        token = self.options["ACCESS_TOKEN"] or None
        if token is not None and (
            not isinstance(token, str) or not _TOKEN.fullmatch(token)
        ):
            # Never repeat the value: it is a secret.
            raise CRMConfigurationError(
                f"{self.setting_path('ACCESS_TOKEN')} must be a Salesforce access "
                "token (one line, no spaces); the value is not shown."
            )
        instance = None
        if self.options["INSTANCE_URL"]:
            instance = self.url_option("INSTANCE_URL", base=True)
        if (token is None) != (instance is None):
            missing = "ACCESS_TOKEN" if token is None else "INSTANCE_URL"
            raise CRMConfigurationError(
                f"{self.setting_path(missing)} is needed too: consent changes and "
                "erasure use INSTANCE_URL and ACCESS_TOKEN together (set both, or "
                "neither)."
            )
        self._token: str | None = token
        self.instance_url: str | None = instance

    # -- Payload --------------------------------------------------------------------
    def consent_field_for(self, consent: ConsentItem) -> str | None:
        """The checkbox of a purpose in ``CONSENT_FIELDS``: by id first, then name."""
        return self.consent_fields.get(consent.purpose_id) or self.consent_fields.get(
            consent.purpose_name
        )

    def get_fields(self, lead: LeadPayload) -> dict[str, str]:
        """The Web-to-Lead parameters. Override this to add or change fields.

        Only answers mapped in ``FIELD_MAP`` are sent; ``last_name`` and
        ``company``, which Salesforce requires, get ``PLACEHOLDER`` when empty.
        """
        fields: dict[str, str] = {"oid": self.org_id, "email": lead.email}
        for kind, name in self.field_map.items():
            value = lead.answers.get(kind)
            if value is not None and str(value).strip():
                fields[name] = str(value)
        for name in REQUIRED_LEAD_FIELDS:
            if not fields.get(name, "").strip():
                fields[name] = PLACEHOLDER
        if self.lead_source:
            fields["lead_source"] = self.lead_source
        for consent in lead.granted_purposes():
            field = self.consent_field_for(consent)
            if field:
                fields[field] = "1"
        fields.update(self.extra_fields)
        return {
            name: value if name == "email" else _shorten(value, MAX_LENGTHS.get(name))
            for name, value in fields.items()
        }

    # -- Steps ------------------------------------------------------------------------
    def build_delivery(self, lead: LeadPayload) -> HttpRequest:
        body = urlencode(list(self.get_fields(lead).items()), encoding="utf-8")
        return HttpRequest(
            "POST",
            self.url,
            body.encode("ascii"),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )

    def parse_delivery(
        self, response: HttpResponse, lead: LeadPayload
    ) -> DeliveryResult:
        # Web-to-Lead gives no lead id and answers 200 even when it drops a lead.
        return DeliveryResult(detail="accepted by Salesforce Web-to-Lead")

    def parse_error(self, error: CRMError, request: HttpRequest) -> CRMError:
        if error.status == 401 and type(error) is PermanentCRMError:
            return PermanentCRMError(
                "Salesforce refused the access token (expired or revoked?)",
                status=401,
                response=error.response,
            )
        return error

    def needs_update(self, change: ConsentItem) -> bool:
        """Only purposes with a checkbox in ``CONSENT_FIELDS`` are in Salesforce."""
        return self.consent_field_for(change) is not None

    def get_consent_update(self, lead: LeadPayload) -> dict[str, bool]:
        """The Lead fields a consent change sets: the purpose's checkbox, and
        the email opt-out, true when no purpose with a checkbox remains granted
        (false again when the person consents anew)."""
        change = lead.change
        assert change is not None  # ``update`` checks it
        in_force = {consent.purpose_id: consent for consent in lead.consents}
        in_force[change.purpose_id] = change
        fields: dict[str, bool] = {}
        field = self.consent_field_for(change)
        if field:
            fields[field] = change.granted
        if self.email_opt_out_field:
            fields[self.email_opt_out_field] = not any(
                consent.granted and self.consent_field_for(consent)
                for consent in in_force.values()
            )
        return fields

    def build_update(self, lead: LeadPayload) -> UpdateSteps[HttpRequest, HttpResponse]:
        """Set the consent fields on every Lead with this address.

        A converted Lead cannot be edited: its Contact must be, by hand
        (``ManualActionNeeded``, once the other Leads are updated).
        """
        leads = yield from self.query_leads(lead.email, "IsConverted")
        body = json.dumps(self.get_consent_update(lead)).encode("utf-8")
        converted = 0
        for record in leads:
            if record.get("IsConverted") is True:
                converted += 1
                continue
            yield self.rest_request(
                "PATCH",
                f"{self.rest_base()}/sobjects/Lead/{record['Id']}",
                {"Content-Type": "application/json"},
                body=body,
            )
        if converted:
            raise ManualActionNeeded(
                f"{converted} Lead(s) with this address were converted: apply the "
                "consent change to the Contact in Salesforce by hand."
            )
        updated = len(leads) - converted
        if not updated:
            return DeliveryResult(detail="no Lead with this address in Salesforce")
        return DeliveryResult(detail=f"{updated} Lead(s) updated")

    def needs_correction(self, kinds: Collection[str]) -> bool:
        """Only the answers mapped in ``FIELD_MAP`` were ever sent to Salesforce."""
        return any(kind in self.field_map for kind in kinds)

    def get_corrected_fields(
        self, lead: LeadPayload
    ) -> tuple[dict[str, str], list[str]]:
        """The Lead fields a correction sets, by REST API name, shortened as
        Web-to-Lead shortens them; and the answers mapped to a custom field
        by its ``00N…`` id, which the REST API cannot set."""
        assert lead.correction is not None  # ``correct`` checks it
        fields: dict[str, str] = {}
        by_id: list[str] = []
        for kind, value in lead.correction.values.items():
            name = self.field_map.get(kind)
            if name is None:
                continue
            if _FIELD_ID.fullmatch(name):
                by_id.append(kind)
                continue
            fields[REST_FIELD_NAMES.get(name, name)] = _shorten(
                str(value), MAX_LENGTHS.get(name)
            )
        return fields, by_id

    def build_correction(
        self, lead: LeadPayload
    ) -> UpdateSteps[HttpRequest, HttpResponse]:
        """Set the corrected fields on every Lead with this address. A
        converted Lead, like a field known only by its id, needs staff
        (``ManualActionNeeded``, once the rest is updated)."""
        fields, by_id = self.get_corrected_fields(lead)
        leads = yield from self.query_leads(lead.email, "IsConverted")
        converted = [r for r in leads if r.get("IsConverted") is True]
        if fields:
            body = json.dumps(fields).encode("utf-8")
            for record in leads:
                if record.get("IsConverted") is not True:
                    yield self.rest_request(
                        "PATCH",
                        f"{self.rest_base()}/sobjects/Lead/{record['Id']}",
                        {"Content-Type": "application/json"},
                        body=body,
                    )
        todo = []
        if converted:
            todo.append(
                f"{len(converted)} Lead(s) with this address were converted: "
                "correct the Contact"
            )
        if by_id:
            todo.append(f"set {', '.join(sorted(by_id))} (custom fields mapped by id)")
        if todo:
            raise ManualActionNeeded("; ".join(todo) + " in Salesforce by hand.")
        if not leads:
            return DeliveryResult(detail="no Lead with this address in Salesforce")
        return DeliveryResult(detail=f"{len(leads)} Lead(s) corrected")

    def build_erasure(
        self, email: str, *, idempotency_key: str
    ) -> Steps[HttpRequest, HttpResponse]:
        """Delete every Lead with this email (they go to Salesforce's Recycle Bin)."""
        for record_id in (yield from self.query_lead_ids(email)):
            try:
                yield self.rest_request(
                    "DELETE", f"{self.rest_base()}/sobjects/Lead/{record_id}"
                )
            except PermanentCRMError as error:
                if error.status != 404:  # already deleted: erasure is idempotent
                    raise
