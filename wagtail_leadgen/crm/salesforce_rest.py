"""The Salesforce REST API as the ``salesforce`` backend uses it: calls with
the access token, and every Lead with an address, found with SOQL.

A mixin of ``SalesforceBackend`` (which validates ``INSTANCE_URL``,
``ACCESS_TOKEN`` and ``API_VERSION``); its conversations (consent changes,
corrections, erasure) ``yield from`` the queries here.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any
from urllib.parse import urlencode

from .base import PermanentCRMError
from .http import HttpRequest, HttpResponse

_RECORD_ID = re.compile(r"[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?")
# Salesforce returns at most this many records per query page (the minimum it
# accepts), which keeps each answer well under ``http``'s body size limit.
_QUERY_BATCH = 200
_MAX_QUERY_PAGES = 50


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


class SalesforceRestMixin:
    """REST calls for a backend with ``instance_url``, ``_token`` and the
    ``API_VERSION`` option."""

    instance_url: str | None
    _token: str | None
    options: dict[str, Any]

    def rest_base(self) -> str:
        return f"{self.instance_url}/services/data/{self.options['API_VERSION']}"

    def rest_request(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        *,
        body: bytes = b"",
    ) -> HttpRequest:
        """A call to the REST API with the access token."""
        return HttpRequest(
            method,
            url,
            body,
            {
                "Authorization": f"Bearer {self._token}",
                "Accept": "application/json",
                **(headers or {}),
            },
        )

    def read_json(self, response: HttpResponse) -> dict[str, Any]:
        data = response.json()
        if not isinstance(data, dict):
            raise PermanentCRMError("unexpected answer from the Salesforce query API")
        return data

    def query_lead_ids(
        self, email: str
    ) -> Generator[HttpRequest, HttpResponse, list[str]]:
        """Query the ids of every Lead with this email; ``yield from`` it, it
        returns the ids."""
        return [record["Id"] for record in (yield from self.query_leads(email))]

    def query_leads(
        self, email: str, *fields: str
    ) -> Generator[HttpRequest, HttpResponse, list[dict[str, Any]]]:
        """Query every Lead with this email (``Id`` and ``fields``), page by page
        (SOQL compares case-insensitively); ``yield from`` it, it returns the
        records. ``fields`` are the backend's own constants, never input."""
        columns = ", ".join(("Id", *fields))
        # The address is a quoted, escaped SOQL literal.
        soql = f"SELECT {columns} FROM Lead WHERE Email = {soql_string(email)}"  # noqa: S608
        url = f"{self.rest_base()}/query/?{urlencode({'q': soql})}"
        options = {"Sforce-Query-Options": f"batchSize={_QUERY_BATCH}"}
        records: list[dict[str, Any]] = []
        for _page in range(_MAX_QUERY_PAGES):
            data = self.read_json((yield self.rest_request("GET", url, options)))
            for record in data.get("records") or []:
                record_id = record.get("Id") if isinstance(record, dict) else None
                if not isinstance(record_id, str) or not _RECORD_ID.fullmatch(
                    record_id
                ):
                    raise PermanentCRMError(
                        "unexpected record id from the Salesforce query API"
                    )
                records.append(record)
            next_url = data.get("nextRecordsUrl")
            if data.get("done", True) or not next_url:
                return records
            # Only a path on the configured instance is followed.
            if not isinstance(next_url, str) or not next_url.startswith(
                "/services/data/"
            ):
                raise PermanentCRMError(
                    "unexpected next page from the Salesforce query API"
                )
            url = f"{self.instance_url}{next_url}"
        raise PermanentCRMError(
            "too many Leads for one address; handle the rest in Salesforce"
        )
