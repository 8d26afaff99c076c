"""``webhook``: POSTs each lead as a signed JSON event (Standard Webhooks v1).

The receiver verifies the ``webhook-signature`` header with the shared
``whsec_…`` secret and de-duplicates on ``webhook-id``, which is the delivery's
idempotency key: every retry of one delivery carries the same id and the same
body. Events: ``lead.created``, ``lead.consent_changed`` (a consent granted or
withdrawn after the lead was delivered), ``lead.updated`` (the person's
details corrected) and ``lead.erased``. Only the answers listed in ``FIELDS``
are sent. See ``docs/backends/webhook.md`` for the format.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from ..field_kinds import FORM_FIELD_KINDS
from .base import (
    ConsentItem,
    CRMConfigurationError,
    DeliveryResult,
    LeadPayload,
    Steps,
    UpdateSteps,
)
from .http import HttpCRMBackend, HttpRequest, HttpResponse

EVENT_VERSION = 1
SECRET_PREFIX = "whsec_"  # noqa: S105 -- the format's prefix, not a secret
# Standard Webhooks: a symmetric signing secret has at least 24 random bytes.
MIN_SECRET_BYTES = 24
_MAX_REMOTE_ID = 255
# How to make a secret (shown in error messages and the docs).
_KEYGEN_COMMAND = (
    "python -c \"import base64, secrets; print('whsec_' + "
    'base64.b64encode(secrets.token_bytes(32)).decode())"'
)


def decode_secret(secret: str | bytes) -> bytes:
    """The HMAC key in a ``whsec_<base64>`` secret (raw bytes are used as is).

    Raises ``ValueError`` with a message that never contains the secret.
    """
    if isinstance(secret, bytes):
        key = secret
    elif isinstance(secret, str):
        encoded = secret.removeprefix(SECRET_PREFIX)
        # Some tools print the base64 part without its padding.
        encoded += "=" * (-len(encoded) % 4)
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("the secret is not valid base64 after 'whsec_'") from None
    else:
        raise ValueError("the secret must be a string")
    if not key:
        raise ValueError("the secret is empty")
    return key


def sign(secret: str | bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one message (Standard Webhooks v1).

    ``v1,`` followed by the base64 HMAC-SHA256 of ``{msg_id}.{timestamp}.{body}``,
    keyed with the base64-decoded part of a ``whsec_`` secret. ``body`` is the
    exact bytes sent: re-serialised JSON would not verify.
    """
    if "." in msg_id:
        # The spec forbids it: a dot would make the signed content ambiguous.
        raise ValueError("a webhook id cannot contain '.'")
    signed = f"{msg_id}.{int(timestamp)}.".encode() + body
    digest = hmac.new(decode_secret(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment


class WebhookBackend(HttpCRMBackend):
    """POSTs ``lead.created``, ``lead.consent_changed``, ``lead.updated`` and
    ``lead.erased`` events to one URL, signed.

    Builds the events and their Standard Webhooks headers; ``HttpCRMBackend``
    sends them. Retries are not done here: errors propagate as
    ``TransientCRMError`` / ``PermanentCRMError`` / ``DestinationGone`` and the
    delivery service decides what to do with the delivery row.
    """

    OPTIONS = {
        "URL": HttpCRMBackend.REQUIRED,
        "SECRET": HttpCRMBackend.REQUIRED,
        **HttpCRMBackend.SELF_HOSTED_OPTIONS,  # ALLOW_HTTP, ALLOW_PRIVATE_ADDRESSES
        **HttpCRMBackend.OPTIONS,  # CONNECT_TIMEOUT, READ_TIMEOUT
        # The answer kinds sent in ``data.answers``: none by default, so the
        # receiver (a processor) gets only what it needs.
        "FIELDS": [],
    }
    REMOVED_OPTIONS = {
        "INCLUDE_ANSWERS": (
            "list the answers the receiver needs in FIELDS instead, e.g. "
            '["company", "phone"] (the default, [], sends none).'
        ),
    }
    supports_erasure = True
    supports_update = True
    supports_correction = True

    # -- Configuration ------------------------------------------------------------
    def configure(self) -> None:
        self.fields = self._configure_fields()
        self.url = self.url_option("URL")
        self._key = self._configure_secret()

    def _configure_fields(self) -> list[str]:
        setting = self.setting_path("FIELDS")
        value = self.options["FIELDS"]
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise CRMConfigurationError(
                f'{setting} must be a list of answer kinds, e.g. ["company", "phone"].'
            )
        for kind in value:
            if kind not in FORM_FIELD_KINDS:
                raise CRMConfigurationError(
                    f"{setting} has an unknown answer kind {kind!r}; valid kinds: "
                    f"{', '.join(FORM_FIELD_KINDS)} (the email is always sent)."
                )
        if len(set(value)) != len(value):
            raise CRMConfigurationError(f"{setting} lists an answer kind twice.")
        return list(value)

    def _configure_secret(self) -> bytes:
        secret = self.options["SECRET"]
        setting = self.setting_path("SECRET")
        if not secret:
            raise CRMConfigurationError(f"{setting} is required for WebhookBackend.")
        if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
            raise CRMConfigurationError(
                f"{setting} must be a Standard Webhooks secret: 'whsec_' followed "
                f"by base64. Generate one with: {_KEYGEN_COMMAND}"
            )
        try:
            key = decode_secret(secret)
        except ValueError as exc:
            raise CRMConfigurationError(f"{setting}: {exc}.") from None
        if len(key) < MIN_SECRET_BYTES:
            raise CRMConfigurationError(
                f"{setting} is too short: a signing secret needs at least "
                f"{MIN_SECRET_BYTES} random bytes. Generate one with: {_KEYGEN_COMMAND}"
            )
        return key

    # -- Events -------------------------------------------------------------------
    @staticmethod
    def get_consent_data(consent: ConsentItem) -> dict[str, Any]:
        """One consent as events carry it: the SHA-256 of the wording shown,
        not the wording itself."""
        return {
            "purpose_id": consent.purpose_id,
            "purpose": consent.purpose_name,
            "legal_basis": consent.legal_basis,
            "decision": consent.decision,
            "granted": consent.granted,
            "version": consent.version,
            "wording_sha256": consent.wording_sha256,
            "decided_at": _utc(consent.decided_at),
        }

    def get_lead_data(self, lead: LeadPayload) -> dict[str, Any]:
        """The ``data`` of a ``lead.created`` event. Override this to add fields.

        ``answers`` holds the answers whose kind is in ``FIELDS``, nothing else.
        """
        return {
            "submission_id": lead.submission_id,
            "submitted_at": _utc(lead.submitted_at),
            "email": lead.email,
            "answers": {
                kind: lead.answers[kind] for kind in self.fields if kind in lead.answers
            },
            "page": {
                "id": lead.page_id,
                "title": lead.page_title,
                "url": lead.page_url,
            },
            "language": lead.language,
            "utm": dict(lead.utm),
            "referrer": lead.referrer,
            "consents": [self.get_consent_data(consent) for consent in lead.consents],
        }

    def get_change_data(self, lead: LeadPayload) -> dict[str, Any]:
        """The ``data`` of a ``lead.consent_changed`` event: who (the address and
        the submission this receiver got in ``lead.created``) and the change.
        Override this to add fields."""
        assert lead.change is not None  # ``update`` checks it
        return {
            "email": lead.email,
            "submission_id": lead.submission_id,
            **self.get_consent_data(lead.change),
        }

    def get_correction_data(self, lead: LeadPayload) -> dict[str, Any]:
        """The ``data`` of a ``lead.updated`` event: who (as in
        ``lead.consent_changed``), when, and the corrected answers whose kind
        is in ``FIELDS``. Override this to add fields."""
        correction = lead.correction
        assert correction is not None  # ``correct`` checks it
        return {
            "email": lead.email,
            "submission_id": lead.submission_id,
            "corrected_at": _utc(correction.corrected_at),
            "answers": {
                kind: correction.values[kind]
                for kind in self.fields
                if kind in correction.values
            },
        }

    def get_event(
        self,
        event_type: str,
        event_id: str,
        occurred_at: datetime,
        data: dict[str, Any],
    ) -> dict[str, Any]:
        """The envelope around ``data``. Override this to add top-level metadata."""
        return {
            "type": event_type,
            "version": EVENT_VERSION,
            "id": event_id,
            "timestamp": _utc(occurred_at),
            "data": data,
        }

    @staticmethod
    def serialise(event: dict[str, Any]) -> bytes:
        """Deterministic JSON: the same lead always gives the same bytes.

        ASCII-only (``ensure_ascii``), so any string, even a lone surrogate,
        encodes; receivers must verify the raw bytes before parsing.
        """
        return json.dumps(
            event, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":")
        ).encode("ascii")

    def get_headers(self, msg_id: str, body: bytes) -> dict[str, str]:
        """Standard Webhooks headers, signed as the request is built."""
        timestamp = int(time.time())
        return {
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(self._key, msg_id, timestamp, body),
        }

    def event_request(self, msg_id: str, event: dict[str, Any]) -> HttpRequest:
        """The signed POST of one event to ``URL``."""
        body = self.serialise(event)
        return HttpRequest("POST", self.url, body, self.get_headers(msg_id, body))

    # -- Steps --------------------------------------------------------------------
    def build_delivery(self, lead: LeadPayload) -> HttpRequest:
        # The event time is the submission time, so every retry sends the same
        # body; only ``webhook-timestamp`` and the signature change.
        event = self.get_event(
            "lead.created",
            lead.idempotency_key,
            lead.submitted_at,
            self.get_lead_data(lead),
        )
        return self.event_request(lead.idempotency_key, event)

    def parse_delivery(
        self, response: HttpResponse, lead: LeadPayload
    ) -> DeliveryResult:
        return DeliveryResult(
            remote_id=self.parse_remote_id(response), detail=f"HTTP {response.status}"
        )

    def build_update(self, lead: LeadPayload) -> UpdateSteps[HttpRequest, HttpResponse]:
        """One ``lead.consent_changed`` event, whose id is the delivery's
        idempotency key and whose time is the decision's, so every retry sends
        the same body."""
        assert lead.change is not None  # ``update`` checks it
        event = self.get_event(
            "lead.consent_changed",
            lead.idempotency_key,
            lead.change.decided_at,
            self.get_change_data(lead),
        )
        response = yield self.event_request(lead.idempotency_key, event)
        return self.parse_delivery(response, lead)

    def needs_correction(self, kinds: Collection[str]) -> bool:
        """Only the answers in ``FIELDS`` were ever sent to the receiver."""
        return any(kind in self.fields for kind in kinds)

    def build_correction(
        self, lead: LeadPayload
    ) -> UpdateSteps[HttpRequest, HttpResponse]:
        """One ``lead.updated`` event, whose id is the delivery's idempotency
        key and whose time is the correction's, so every retry sends the same
        body."""
        assert lead.correction is not None  # ``correct`` checks it
        event = self.get_event(
            "lead.updated",
            lead.idempotency_key,
            lead.correction.corrected_at,
            self.get_correction_data(lead),
        )
        response = yield self.event_request(lead.idempotency_key, event)
        return self.parse_delivery(response, lead)

    def build_erasure(
        self, email: str, *, idempotency_key: str
    ) -> Steps[HttpRequest, HttpResponse]:
        """One ``lead.erased`` event whose id is the erasure delivery's
        idempotency key, as for every other event: a retry after a timeout is
        the same event, which the receiver de-duplicates on ``webhook-id``.
        Without a key (a call outside a delivery), an id of its own."""
        event_id = idempotency_key or str(uuid.uuid4())
        yield self.event_request(
            event_id,
            self.get_event(
                "lead.erased", event_id, datetime.now(UTC), {"email": email}
            ),
        )

    @staticmethod
    def parse_remote_id(response: HttpResponse) -> str:
        """The ``id`` of a JSON object answer, if any; "" for anything else."""
        answer = response.json()
        remote_id = answer.get("id") if isinstance(answer, dict) else None
        if isinstance(remote_id, bool) or not isinstance(remote_id, str | int):
            return ""
        remote_id = str(remote_id)
        return remote_id if len(remote_id) <= _MAX_REMOTE_ID else ""
