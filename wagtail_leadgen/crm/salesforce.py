"""``salesforce``: Web-to-Lead for delivery, the REST API for erasure.

Each lead is posted form-encoded to ``servlet.WebToLead`` with the org id, the
email, the answers mapped in ``FIELD_MAP`` and ``LEAD_SOURCE``. Web-to-Lead
answers 200 even when it drops a lead, so a delivery marked "delivered" only
means Salesforce accepted the request. With ``INSTANCE_URL`` and
``ACCESS_TOKEN``, a person is erased by querying their Lead ids (SOQL) and
deleting each. See ``docs/backends/salesforce.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from . import http
from .base import (
    BaseCRMBackend,
    CRMConfigurationError,
    CRMError,
    DeliveryResult,
    LeadPayload,
    PermanentCRMError,
)

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
_RECORD_ID = re.compile(r"[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?")
_API_VERSION = re.compile(r"v\d{2,3}\.0")
_TOKEN = re.compile(r"[\x21-\x7e]+")
# Salesforce returns at most this many records per query page (the minimum it
# accepts), which keeps each answer well under ``http``'s body size limit.
_QUERY_BATCH = 200
_MAX_QUERY_PAGES = 50
_USER_AGENT = "wagtail-leadgen"


def soql_string(value: str) -> str:
    """A SOQL string literal: quotes, backslashes and line breaks escaped."""
    escaped = (
        value.replace("\\", "\\\\")
        .replace("'", "\\'")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f"'{escaped}'"


def _shorten(value: str, limit: int | None) -> str:
    if limit is None or len(value) <= limit:
        return value
    return value[: limit - 1] + "…"


class SalesforceBackend(BaseCRMBackend):
    """Creates a Lead through Web-to-Lead; erases Leads through the REST API.

    ``supports_erasure`` is set per instance: True only when both
    ``INSTANCE_URL`` and ``ACCESS_TOKEN`` are configured.
    """

    OPTIONS = {
        "ORG_ID": BaseCRMBackend.REQUIRED,
        "FIELD_MAP": DEFAULT_FIELD_MAP,
        "LEAD_SOURCE": "Web",
        "EXTRA_FIELDS": {},
        "CONSENT_FIELDS": {},
        "URL": WEB_TO_LEAD_URL,
        "CONNECT_TIMEOUT": http.DEFAULT_CONNECT_TIMEOUT,
        "READ_TIMEOUT": http.DEFAULT_READ_TIMEOUT,
        "INSTANCE_URL": None,
        "ACCESS_TOKEN": None,
        "API_VERSION": "v62.0",
    }
    supports_erasure = False

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
        self.require_positive_seconds("CONNECT_TIMEOUT", "READ_TIMEOUT")
        self.url = self._configure_url("URL", allow_query=True)
        self._configure_rest()

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

    def _configure_url(self, name: str, *, allow_query: bool = False) -> str:
        value = self.options[name]
        setting = self.setting_path(name)
        if not isinstance(value, str):
            raise CRMConfigurationError(f"{setting} must be an https:// URL.")
        http.check_url(value, allow_http=False, setting=setting)
        parts = urlsplit(value)
        if (
            parts.username
            or parts.password
            or parts.fragment
            or (parts.query and not allow_query)
        ):
            raise CRMConfigurationError(
                f"{setting} must be a plain https:// URL without credentials."
            )
        return value if allow_query else value.rstrip("/")

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
            instance = self._configure_url("INSTANCE_URL")
        if (token is None) != (instance is None):
            missing = "ACCESS_TOKEN" if token is None else "INSTANCE_URL"
            raise CRMConfigurationError(
                f"{self.setting_path(missing)} is needed too: erasure uses "
                "INSTANCE_URL and ACCESS_TOKEN together (set both, or neither)."
            )
        self._token: str | None = token
        self.instance_url: str | None = instance
        self.supports_erasure = token is not None and instance is not None

    # -- Payload --------------------------------------------------------------------
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
            name = self.consent_fields.get(
                consent.purpose_id
            ) or self.consent_fields.get(consent.purpose_name)
            if name:
                fields[name] = "1"
        fields.update(self.extra_fields)
        return {
            name: value if name == "email" else _shorten(value, MAX_LENGTHS.get(name))
            for name, value in fields.items()
        }

    # -- Calls ------------------------------------------------------------------------
    def _call(
        self, url: str, body: bytes, headers: dict[str, str], *, method: str = "POST"
    ) -> http.HttpResponse:
        try:
            return http.post(
                url,
                body,
                {"User-Agent": _USER_AGENT, **headers},
                connect_timeout=self.options["CONNECT_TIMEOUT"],
                read_timeout=self.options["READ_TIMEOUT"],
                method=method,
            )
        except CRMError as error:
            error.backend = error.backend or self.alias
            if error.status == 401 and type(error) is PermanentCRMError:
                clearer = PermanentCRMError(
                    "Salesforce refused the access token (expired or revoked?)",
                    backend=self.alias,
                    status=401,
                )
                clearer.response = getattr(error, "response", None)
                raise clearer from error
            raise

    def deliver(self, lead: LeadPayload) -> DeliveryResult:
        body = urlencode(list(self.get_fields(lead).items()), encoding="utf-8")
        self._call(
            self.url,
            body.encode("ascii"),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        # Web-to-Lead gives no lead id and answers 200 even when it drops a lead.
        return DeliveryResult(detail="accepted by Salesforce Web-to-Lead")

    def _rest_headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/json",
        }

    def _read_json(self, response: http.HttpResponse) -> dict[str, Any]:
        try:
            data = json.loads(response.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            data = None
        if not isinstance(data, dict):
            raise PermanentCRMError(
                "unexpected answer from the Salesforce query API", backend=self.alias
            )
        return data

    def find_lead_ids(self, email: str) -> list[str]:
        """The ids of every Lead with this email (SOQL compares case-insensitively)."""
        base = f"{self.instance_url}/services/data/{self.options['API_VERSION']}"
        # The address is a quoted, escaped SOQL literal.
        soql = f"SELECT Id FROM Lead WHERE Email = {soql_string(email)}"  # noqa: S608
        url = f"{base}/query/?{urlencode({'q': soql})}"
        headers = {
            **self._rest_headers(),
            "Sforce-Query-Options": f"batchSize={_QUERY_BATCH}",
        }
        ids: list[str] = []
        for _page in range(_MAX_QUERY_PAGES):
            data = self._read_json(self._call(url, b"", headers, method="GET"))
            for record in data.get("records") or []:
                record_id = record.get("Id") if isinstance(record, dict) else None
                if not isinstance(record_id, str) or not _RECORD_ID.fullmatch(
                    record_id
                ):
                    raise PermanentCRMError(
                        "unexpected record id from the Salesforce query API",
                        backend=self.alias,
                    )
                ids.append(record_id)
            next_url = data.get("nextRecordsUrl")
            if data.get("done", True) or not next_url:
                return ids
            # Only a path on the configured instance is followed.
            if not isinstance(next_url, str) or not next_url.startswith(
                "/services/data/"
            ):
                raise PermanentCRMError(
                    "unexpected next page from the Salesforce query API",
                    backend=self.alias,
                )
            url = f"{self.instance_url}{next_url}"
        raise PermanentCRMError(
            "too many Leads for one address; erase the rest in Salesforce",
            backend=self.alias,
        )

    def erase(self, email: str) -> None:
        """Delete every Lead with this email (they go to Salesforce's Recycle Bin)."""
        if not self.supports_erasure:
            raise CRMConfigurationError(
                f"{self.setting_path('INSTANCE_URL')} and "
                f"{self.setting_path('ACCESS_TOKEN')} are needed to erase people "
                "from Salesforce."
            )
        base = f"{self.instance_url}/services/data/{self.options['API_VERSION']}"
        for record_id in self.find_lead_ids(email):
            try:
                self._call(
                    f"{base}/sobjects/Lead/{record_id}",
                    b"",
                    self._rest_headers(),
                    method="DELETE",
                )
            except PermanentCRMError as error:
                if error.status != 404:  # already deleted: erasure is idempotent
                    raise
