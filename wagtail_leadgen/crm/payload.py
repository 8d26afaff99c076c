"""What every backend receives and gives back: the normalised payload and result.

Built by the worker from the database at send time; no Django model ever
reaches a backend. A leaf of the ``crm`` package (``base`` re-exports these
names, which is where backends usually import them from).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ConsentItem:
    """One purpose as shown to the person, and their answer.

    ``granted`` is True only for a consent in force (confirmed where the
    purpose needs double opt-in); ``decision`` says exactly what was
    recorded: granted, refused (left unticked), pending, withdrawn, expired.
    """

    purpose_id: int
    purpose_name: str
    legal_basis: str
    granted: bool
    wording: str
    wording_sha256: str
    version: int | None
    decided_at: datetime
    decision: str = "granted"


@dataclass(frozen=True)
class RequestItem:
    """The processing the request itself rests on, as shown next to the button."""

    name: str
    legal_basis: str
    wording: str
    wording_sha256: str
    version: int | None
    legitimate_interest: str = ""


@dataclass(frozen=True)
class CorrectionItem:
    """A correction of the person's details (R15): the new value of each
    corrected answer, by kind (``first_name``…), and when it was made."""

    values: Mapping[str, str]
    corrected_at: datetime


@dataclass(frozen=True)
class LeadPayload:
    """What every backend receives: the same facts, whatever the CRM.

    ``idempotency_key`` is stable across retries of one delivery, so a CRM
    that saw an attempt whose answer was lost can recognise the repeat.

    For a consent change (``update``), ``change`` is the grant or withdrawal
    to apply, ``consents`` the consent in force for every purpose the person
    ever decided on (the change included), ``answers`` is empty, and the
    submission and page are those of the lead this destination received.

    For a correction (``correct``), ``correction`` holds the corrected
    answers, ``answers`` and ``consents`` are empty, and the submission and
    page are those of the lead this destination received.
    """

    idempotency_key: str
    delivery_id: int
    submission_id: int
    submitted_at: datetime
    email: str
    answers: Mapping[str, str]
    consents: tuple[ConsentItem, ...]
    page_id: int | None
    page_title: str
    page_url: str
    language: str
    utm: Mapping[str, str] = field(default_factory=dict)
    referrer: str = ""
    admin_url: str = ""
    request: RequestItem | None = None
    change: ConsentItem | None = None
    correction: CorrectionItem | None = None

    def granted_purposes(self) -> list[ConsentItem]:
        return [consent for consent in self.consents if consent.granted]


@dataclass(frozen=True)
class DeliveryResult:
    """A successful delivery: the CRM's own id for the lead, when it gives one."""

    remote_id: str = ""
    detail: str = ""
