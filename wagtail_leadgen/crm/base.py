"""The small interface every CRM backend follows (modelled on django-anymail).

A backend receives a normalised ``LeadPayload`` and either returns a
``DeliveryResult`` or raises one of the errors below. The delivery service
decides what an error means for the delivery row: retry later, dead-letter,
or pause the destination. Configuration errors are *not* ``CRMError``
subclasses, so a retry loop can never swallow a misconfiguration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from django.core.exceptions import ImproperlyConfigured

from ..field_kinds import FORM_FIELD_KINDS

SETTING_PATH = 'WAGTAIL_LEADGEN["CRM_BACKENDS"]'


# -- Errors -------------------------------------------------------------------
class CRMConfigurationError(ImproperlyConfigured):
    """A backend is misconfigured; the message names the exact setting."""


class MissingDependency(CRMConfigurationError):
    """An optional package is missing; the message names the extra to install."""


class CRMError(Exception):
    """A delivery attempt failed at run time.

    ``status`` and ``detail`` describe the remote answer without personal data
    or secrets: they end up in ``Delivery.last_error`` for admins to read.
    """

    def __init__(
        self,
        detail: str,
        *,
        backend: str = "",
        status: int | None = None,
        retry_after: float | None = None,
        response: Any = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.backend = backend
        self.status = status
        self.retry_after = retry_after
        # The raw answer, for code that handles the error; never shown to admins.
        self.response = response

    def __str__(self) -> str:
        status = f"HTTP {self.status}: " if self.status else ""
        return f"{status}{self.detail}"


class TransientCRMError(CRMError):
    """Worth retrying: timeouts, resets, 408/425/429/5xx."""


class PermanentCRMError(CRMError):
    """Retrying will not help (other 4xx): the delivery is dead-lettered."""


class DestinationGone(PermanentCRMError):
    """HTTP 410: the destination asks not to be called again; it is paused."""


# -- Payload and result ---------------------------------------------------------
@dataclass(frozen=True)
class ConsentItem:
    """One purpose as shown to the person, and their answer."""

    purpose_id: int
    purpose_name: str
    legal_basis: str
    granted: bool
    wording: str
    wording_sha256: str
    version: int | None
    decided_at: datetime
    # The purpose is the very thing requested (e.g. "send me the e-book").
    is_offer: bool = False


@dataclass(frozen=True)
class LeadPayload:
    """What every backend receives: the same facts, whatever the CRM.

    ``idempotency_key`` is stable across retries of one delivery, so a CRM
    that saw an attempt whose answer was lost can recognise the repeat.
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

    def granted_purposes(self) -> list[ConsentItem]:
        return [consent for consent in self.consents if consent.granted]


@dataclass(frozen=True)
class DeliveryResult:
    """A successful delivery: the CRM's own id for the lead, when it gives one."""

    remote_id: str = ""
    detail: str = ""


# -- Backend --------------------------------------------------------------------
class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


class BaseCRMBackend:
    """Subclass this, declare options, implement ``deliver`` (and ``erase``).

    ``OPTIONS`` lists every option the backend accepts, with its default
    (``REQUIRED`` for options without one); an unknown or missing option is a
    configuration error naming the exact setting path.
    """

    REQUIRED: ClassVar[object] = _Required()
    OPTIONS: ClassVar[Mapping[str, Any]] = {}
    supports_erasure: ClassVar[bool] = False
    supports_update: ClassVar[bool] = False

    def __init__(self, alias: str, options: Mapping[str, Any] | None = None) -> None:
        self.alias = alias
        self.options = self._resolve_options(dict(options or {}))
        self.configure()

    def __repr__(self) -> str:
        # Options may hold secrets: never part of a repr (debug pages print reprs).
        return f"<{type(self).__name__} {self.alias!r}>"

    def setting_path(self, option: str | None = None) -> str:
        path = f'{SETTING_PATH}["{self.alias}"]'
        return f'{path}["OPTIONS"]["{option}"]' if option else path

    def _resolve_options(self, given: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(given) - set(self.OPTIONS))
        if unknown:
            raise CRMConfigurationError(
                f"Unknown option {self.setting_path(unknown[0])} for "
                f"{type(self).__name__}; valid options: {', '.join(sorted(self.OPTIONS)) or 'none'}."
            )
        resolved = {}
        for name, default in self.OPTIONS.items():
            if name in given and not (
                default is self.REQUIRED and given[name] in (None, "")
            ):
                resolved[name] = given[name]
            elif default is self.REQUIRED:
                raise CRMConfigurationError(
                    f"{self.setting_path(name)} is required for {type(self).__name__}."
                )
            else:
                resolved[name] = default
        return resolved

    def configure(self) -> None:
        """Validate option values; raise ``CRMConfigurationError`` naming the setting."""

    # Validators shared by backends' ``configure``.
    def require_bool(self, *names: str) -> None:
        for name in names:
            if not isinstance(self.options[name], bool):
                raise CRMConfigurationError(
                    f"{self.setting_path(name)} must be True or False."
                )

    def answer_field_map(
        self, name: str, *, remote: str, reserved: frozenset[str] = frozenset()
    ) -> dict[str, str]:
        """Validate an option mapping answer kinds to the CRM's field names.

        Only mapped answers are sent (processors receive what the purpose
        needs); two answers never go to one field, nor onto a ``reserved`` one.
        """
        setting = self.setting_path(name)
        value = self.options[name]
        if not isinstance(value, Mapping):
            raise CRMConfigurationError(
                f"{setting} must be a dict of answer kind -> {remote} field name."
            )
        seen: set[str] = set()
        for kind, field_name in value.items():
            if kind not in FORM_FIELD_KINDS:
                raise CRMConfigurationError(
                    f"{setting} has an unknown answer kind {kind!r}; valid kinds: "
                    f"{', '.join(FORM_FIELD_KINDS)}."
                )
            if not isinstance(field_name, str) or not field_name.strip():
                raise CRMConfigurationError(
                    f'{setting}["{kind}"] must be a {remote} field name.'
                )
            if field_name in reserved or field_name in seen:
                raise CRMConfigurationError(
                    f'{setting}["{kind}"] = {field_name!r} is already sent by the backend.'
                )
            seen.add(field_name)
        return dict(value)

    def purpose_keyed_option(self, name: str, *, values: str) -> Mapping[Any, Any]:
        """An option mapping consent purposes (by id or name) to CRM values."""
        setting = self.setting_path(name)
        value = self.options[name]
        if not isinstance(value, Mapping):
            raise CRMConfigurationError(
                f"{setting} must be a dict of consent purpose (id or name) -> {values}."
            )
        for purpose in value:
            if isinstance(purpose, bool) or not isinstance(purpose, int | str):
                raise CRMConfigurationError(
                    f"{setting} keys must be consent purpose ids or names."
                )
        return value

    def require_positive_seconds(self, *names: str) -> None:
        for name in names:
            value = self.options[name]
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or value <= 0
            ):
                raise CRMConfigurationError(
                    f"{self.setting_path(name)} must be a positive number of seconds."
                )

    def deliver(self, lead: LeadPayload) -> DeliveryResult:
        """Hand one lead over. Raise ``TransientCRMError`` or ``PermanentCRMError``."""
        raise NotImplementedError

    def erase(self, email: str) -> None:
        """Erase a person at the CRM (R15). Only called when ``supports_erasure``."""
        raise NotImplementedError(f"{type(self).__name__} cannot erase people.")
