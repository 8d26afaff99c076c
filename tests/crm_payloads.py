"""Builders for the normalised payload every CRM backend receives (no database),
and the configuration-error helper the CRM backend tests share.

Each backend's test module sets only the defaults its assertions rely on.
"""

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from wagtail_leadgen.crm.base import (
    ConsentItem,
    CorrectionItem,
    CRMConfigurationError,
    CRMError,
    LeadPayload,
)

SUBMITTED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def consent_item(**kwargs) -> ConsentItem:
    kwargs.setdefault("purpose_id", 1)
    kwargs.setdefault("purpose_name", "E-book")
    kwargs.setdefault("legal_basis", "contract")
    kwargs.setdefault("granted", True)
    kwargs.setdefault("wording", "Send me the e-book")
    kwargs.setdefault("wording_sha256", "0" * 64)
    kwargs.setdefault("version", 3)
    kwargs.setdefault("decided_at", SUBMITTED_AT)
    return ConsentItem(**kwargs)


def lead_payload(**kwargs) -> LeadPayload:
    kwargs.setdefault("idempotency_key", "1b7e1a52-6d0e-4c43-9d8a-8f3f3c0f6b11")
    kwargs.setdefault("delivery_id", 7)
    kwargs.setdefault("submission_id", 5)
    kwargs.setdefault("submitted_at", SUBMITTED_AT)
    kwargs.setdefault("email", "ada@example.com")
    kwargs.setdefault(
        "answers",
        {"first_name": "Ada", "last_name": "Lovelace", "company": "Analytical Engines"},
    )
    kwargs.setdefault("consents", (consent_item(),))
    kwargs.setdefault("page_id", 3)
    kwargs.setdefault("page_title", "The e-book")
    kwargs.setdefault("page_url", "https://www.example.com/e-book/")
    kwargs.setdefault("language", "en")
    return LeadPayload(**kwargs)


def withdrawal(**kwargs) -> ConsentItem:
    """A consent withdrawn after the lead was delivered (the ``change`` of an update)."""
    kwargs.setdefault("purpose_id", 2)
    kwargs.setdefault("purpose_name", "Newsletter")
    kwargs.setdefault("legal_basis", "consent")
    kwargs.setdefault("granted", False)
    kwargs.setdefault("decision", "withdrawn")
    kwargs.setdefault("wording", "Send me the newsletter")
    kwargs.setdefault("decided_at", datetime(2026, 3, 5, 10, 0, tzinfo=UTC))
    return consent_item(**kwargs)


def change_payload(change: ConsentItem | None = None, **kwargs) -> LeadPayload:
    """The payload of a consent-change delivery: the person, the change, the
    consent in force for each purpose (the change included), no answers."""
    change = change or withdrawal()
    kwargs.setdefault("answers", {})
    kwargs.setdefault("consents", (change,))
    return lead_payload(change=change, **kwargs)


CORRECTED_AT = datetime(2026, 3, 6, 14, 30, tzinfo=UTC)


def correction_payload(values: dict[str, str] | None = None, **kwargs) -> LeadPayload:
    """The payload of a correction delivery: the person, the corrected
    answers and when, no answers nor consents."""
    correction = CorrectionItem(
        values=values or {"first_name": "Augusta Ada", "company": "Babbage & Co"},
        corrected_at=CORRECTED_AT,
    )
    kwargs.setdefault("answers", {})
    kwargs.setdefault("consents", ())
    return lead_payload(correction=correction, **kwargs)


def every_answer(**overrides: str) -> dict[str, str]:
    """An answer for each answer kind (the question on two lines)."""
    answers = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company": "Analytical Engines",
        "job_title": "Analyst",
        "phone": "+44 20 7946 0000",
        "country": "GB",
        "question": "Can I get\ntwo copies?",
    }
    return {**answers, **overrides}


def configuration_error(build: Callable[..., object], *args, **kwargs) -> str:
    """The message of the ``CRMConfigurationError`` that ``build(...)`` raises.

    Fails when nothing is raised, and when the error is also a runtime
    ``CRMError`` (a retry loop would swallow the misconfiguration).
    """
    with pytest.raises(CRMConfigurationError) as excinfo:
        build(*args, **kwargs)
    assert not isinstance(excinfo.value, CRMError)
    return str(excinfo.value)
