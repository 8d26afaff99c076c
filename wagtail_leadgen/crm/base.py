"""The small interface every CRM backend follows (modelled on django-anymail).

A backend receives a normalised ``LeadPayload``. ``deliver`` runs a fixed
sequence, the same for every backend: ``build_delivery`` (what to send) ->
``send`` (the transport: HTTP, mail, ...) -> ``parse_delivery`` (what the
answer means) -> ``DeliveryResult``. ``update`` (a consent change for a
person the destination already has), ``correct`` (a correction of their
details) and ``erase`` are conversations: the backend yields each request and
gets its answer back. They are guarded by the capability flags
``supports_update``, ``supports_correction`` and ``supports_erasure``. A ``CRMError``
raised by any step is tagged with the backend's alias in one place.

The delivery service decides what an error means for the delivery row: retry
later, dead-letter, or pause the destination. Configuration errors are *not*
``CRMError`` subclasses, so a retry loop can never swallow a misconfiguration.
"""

from __future__ import annotations

import inspect
from collections.abc import Collection, Generator, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar, Generic, TypeVar, final

from django.core.exceptions import ImproperlyConfigured

from ..field_kinds import FORM_FIELD_KINDS
from .destination import Receives, Recipient

# The payload and result are defined in ``payload`` and re-exported here,
# where backends import the rest of the interface from.
from .payload import ConsentItem as ConsentItem
from .payload import CorrectionItem as CorrectionItem
from .payload import DeliveryResult as DeliveryResult
from .payload import LeadPayload as LeadPayload
from .payload import RequestItem as RequestItem

SETTING_PATH = 'WAGTAIL_LEADGEN["CRM_BACKENDS"]'


# -- Errors -------------------------------------------------------------------
class CRMConfigurationError(ImproperlyConfigured):
    """A backend is misconfigured; the message names the exact setting."""


class MissingDependency(CRMConfigurationError):
    """An optional package is missing; the message names the extra to install."""


class UnsupportedFeature(CRMConfigurationError, NotImplementedError):
    """The backend cannot do this: its ``supports_<feature>`` flag is False.

    A configuration error, so a retry loop never retries it, and a
    ``NotImplementedError``, which is what Python code expects from an
    optional operation a class does not provide. When an option would enable
    the feature, the message names its exact setting.
    """


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


class ManualActionNeeded(CRMError):
    """The destination cannot apply this change itself: staff must.

    Never retried: the delivery is marked "manual action needed" with this
    message, which says what to do (no personal data: the admin links the
    delivery to its lead).
    """


# -- Backend --------------------------------------------------------------------
class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


# What each backend's transport takes and gives back (``HttpRequest`` and
# ``HttpResponse`` for HTTP backends, an ``EmailMessage`` for mail, ...).
RequestT = TypeVar("RequestT")
ResponseT = TypeVar("ResponseT")
# ``build_erasure`` yields requests and receives each one's response.
Steps = Generator[RequestT, ResponseT, None]
# ``build_update`` too, and returns what the change came to (None: "updated").
UpdateSteps = Generator[RequestT, ResponseT, DeliveryResult | None]

# Feature -> what it does, for flags (``supports_<feature>``) and messages.
FEATURES = {
    "erasure": "erase people",
    "update": "apply consent changes",
    "correction": "apply corrections of a person's details",
}


class requires_options:  # noqa: N801 -- used like ``property``
    """A capability flag that follows the options: True when each one is set.

    ``supports_erasure = requires_options("ACCESS_TOKEN", to="erase people from
    HubSpot")``. Read on the class it is False, the cautious answer for code
    that inspects classes; read on a backend it says whether that backend, as
    configured, can. It cannot be assigned. When the feature is asked for
    anyway, the error names the settings to set (``missing``).
    """

    def __init__(self, *options: str, to: str) -> None:
        self.options = options
        self.to = to
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(
        self, backend: BaseCRMBackend | None, owner: type | None = None
    ) -> bool:
        if backend is None:
            return False
        return all(backend.options.get(option) for option in self.options)

    def __set__(self, backend: BaseCRMBackend, value: object) -> None:
        raise AttributeError(
            f"{self.name} follows the options {', '.join(self.options)}; "
            "it cannot be set."
        )

    def missing(self, backend: BaseCRMBackend) -> str:
        paths = [backend.setting_path(option) for option in self.options]
        verb = "is" if len(paths) == 1 else "are"
        return f"{' and '.join(paths)} {verb} needed to {self.to}."


class BaseCRMBackend(Generic[RequestT, ResponseT]):
    """Subclass this (or ``http.HttpCRMBackend``), declare options, fill in steps.

    ``deliver``, ``update`` and ``erase`` are final: each runs a fixed
    sequence around ``send``, checks the capability flag first and tags
    errors with the alias. **Override the steps, not these methods:**

    - ``build_delivery(lead)``: the request for one lead (every backend);
    - ``send(request)``: the transport, usually inherited from a transport
      base (``HttpCRMBackend`` posts over HTTP); raises ``CRMError``;
    - ``parse_delivery(response, lead)``: the ``DeliveryResult``, or a
      ``CRMError`` for an answer that is a refusal in disguise;
    - ``build_erasure(email)``, when ``supports_erasure``: a generator that
      yields each request and receives its response at the ``yield`` (a
      ``CRMError`` from ``send`` is raised there, so a step may tolerate one,
      e.g. a 404 for a record already deleted);
    - ``build_update(lead)``, when ``supports_update``: the same kind of
      conversation for ``lead.change`` (a consent granted or withdrawn after
      the lead was delivered), which returns the ``DeliveryResult``;
    - ``needs_update(change)``: whether a consent change concerns this
      destination at all (False when it never received that purpose);
    - ``build_correction(lead)`` and ``needs_correction(kinds)``, when
      ``supports_correction``: the same for ``lead.correction``.

    ``OPTIONS`` lists every option the backend accepts, with its default
    (``REQUIRED`` for options without one); an unknown or missing option is a
    configuration error naming the exact setting path. ``REMOVED_OPTIONS``
    maps an option a backend no longer takes to what to use instead, so an
    old setting fails with that advice rather than a bare "unknown option".

    Capability flags are class attributes, or ``requires_options`` flags when
    an option enables the feature: ``supports_erasure`` (``erase``) and
    ``supports_update`` (``update``, e.g. a consent withdrawn after delivery;
    without it, the delivery service asks staff to apply the change by hand).
    ``sends_remotely`` says whether sending waits on another system.
    """

    REQUIRED: ClassVar[object] = _Required()
    OPTIONS: ClassVar[Mapping[str, Any]] = {}
    REMOVED_OPTIONS: ClassVar[Mapping[str, str]] = {}
    supports_erasure: bool = False
    supports_update: bool = False
    supports_correction: bool = False
    # Whether sending waits on another system (a CRM, a mail server). Backends
    # that only touch this process or its database say False, so the start-up
    # check does not warn about running them inside the visitor's request.
    sends_remotely: ClassVar[bool] = True
    # What the destination may receive and who it is (``crm.destination``),
    # set from its settings entry by ``crm.build_backend``.
    receives: Receives = Receives()
    recipient: Recipient | None = None

    def __init__(self, alias: str, options: Mapping[str, Any] | None = None) -> None:
        self.alias = alias
        self.options = self._resolve_options(dict(options or {}))
        self.configure_transport()
        self.configure()

    def __repr__(self) -> str:
        # Options may hold secrets: never part of a repr (debug pages print reprs).
        return f"<{type(self).__name__} {self.alias!r}>"

    # -- Options --------------------------------------------------------------------
    def setting_path(self, option: str | None = None) -> str:
        path = f'{SETTING_PATH}["{self.alias}"]'
        return f'{path}["OPTIONS"]["{option}"]' if option else path

    def _resolve_options(self, given: dict[str, Any]) -> dict[str, Any]:
        removed = sorted(set(given) & set(self.REMOVED_OPTIONS))
        if removed:
            raise CRMConfigurationError(
                f"{self.setting_path(removed[0])} is no longer an option of "
                f"{type(self).__name__}: {self.REMOVED_OPTIONS[removed[0]]}"
            )
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

    def configure_transport(self) -> None:
        """Validate the transport's own options; runs before ``configure``.

        Transport bases (``HttpCRMBackend``) implement this; providers
        override ``configure``.
        """

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

    # -- The fixed sequences ----------------------------------------------------------
    @final
    def deliver(self, lead: LeadPayload) -> DeliveryResult:
        """Hand one lead over: build, send, parse. Override the steps, not this.

        Raises ``TransientCRMError``, ``PermanentCRMError`` or ``DestinationGone``
        (tagged with the alias), or ``CRMConfigurationError``.
        """
        with self._errors_tagged():
            response = self.send(self.build_delivery(lead))
            return self.parse_delivery(response, lead)

    @final
    def update(self, lead: LeadPayload) -> DeliveryResult:
        """Apply ``lead.change``, a consent granted or withdrawn after the lead
        was delivered: send each request ``build_update`` yields, handing it
        the response. Override the steps, not this.

        Raises ``UnsupportedFeature`` unless ``supports_update``; the errors
        of ``deliver`` otherwise, and ``ManualActionNeeded`` when the backend
        finds it cannot apply the change itself.
        """
        self.require_feature("update")
        if lead.change is None:
            raise ValueError("update() applies a consent change: lead.change is None")
        with self._errors_tagged():
            return self._converse(self.build_update(lead)) or DeliveryResult()

    @final
    def correct(self, lead: LeadPayload) -> DeliveryResult:
        """Apply ``lead.correction``, a correction of the person's details (R15),
        as ``update`` applies a consent change. Override the steps, not this.

        Raises ``UnsupportedFeature`` unless ``supports_correction``.
        """
        self.require_feature("correction")
        if lead.correction is None:
            raise ValueError("correct() applies a correction: lead.correction is None")
        with self._errors_tagged():
            return self._converse(self.build_correction(lead)) or DeliveryResult()

    @final
    def erase(self, email: str, *, idempotency_key: str = "") -> None:
        """Erase a person at the CRM (R15): send each request ``build_erasure``
        yields (with the erasure delivery's ``idempotency_key``, the same on
        every retry), handing it the response. Override the steps, not this.

        Raises ``UnsupportedFeature`` unless ``supports_erasure``.
        """
        self.require_feature("erasure")
        with self._errors_tagged():
            self._converse(self.build_erasure(email, idempotency_key=idempotency_key))

    def require_feature(self, feature: str) -> None:
        """Raise ``UnsupportedFeature`` unless ``supports_<feature>`` is true."""
        if feature not in FEATURES:
            raise ValueError(
                f"Unknown feature {feature!r}; valid features: {', '.join(FEATURES)}."
            )
        flag_name = f"supports_{feature}"
        if getattr(self, flag_name):
            return
        flag = inspect.getattr_static(type(self), flag_name)
        if isinstance(flag, requires_options):
            raise UnsupportedFeature(flag.missing(self))
        raise UnsupportedFeature(
            f"{type(self).__name__} cannot {FEATURES[feature]} ({flag_name} is False)."
        )

    @contextmanager
    def _errors_tagged(self) -> Iterator[None]:
        """The one place a ``CRMError`` from any step gets this backend's alias."""
        try:
            yield
        except CRMError as error:
            error.backend = error.backend or self.alias
            raise

    def _converse(self, steps: Generator[RequestT, ResponseT, Any]) -> Any:
        """Send each request ``steps`` yields; give it the response, or the
        error. Returns what ``steps`` returns."""
        response: Any = None
        error: CRMError | None = None
        try:
            while True:
                try:
                    request = (
                        steps.throw(error)
                        if error is not None
                        else steps.send(response)
                    )
                except StopIteration as done:
                    return done.value
                try:
                    response, error = self.send(request), None
                except CRMError as failure:
                    response, error = None, failure
        finally:
            steps.close()

    # -- Steps (override these) ------------------------------------------------------
    def build_delivery(self, lead: LeadPayload) -> RequestT:
        """The request for one lead. Override this (every backend does)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement build_delivery()."
        )

    def send(self, request: RequestT) -> ResponseT:
        """Hand one request to the transport and return its answer.

        Transport bases implement this (``HttpCRMBackend`` posts over HTTP);
        raise ``TransientCRMError`` / ``PermanentCRMError`` / ``DestinationGone``.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement send().")

    def parse_delivery(self, response: ResponseT, lead: LeadPayload) -> DeliveryResult:
        """What the answer means. Override this to read the CRM's id for the lead,
        or to raise a ``CRMError`` for an answer that is a refusal in disguise."""
        return DeliveryResult()

    def needs_update(self, change: ConsentItem) -> bool:
        """Whether this consent change concerns this destination. Override this
        to say False for a purpose it never receives (e.g. one mapped to no
        subscription type): the change is then done without a request, and
        never needs staff either."""
        return True

    def build_update(self, lead: LeadPayload) -> UpdateSteps[RequestT, ResponseT]:
        """Yield each request that applies ``lead.change`` (with ``supports_update``);
        return the ``DeliveryResult``, or None.

        Like ``build_erasure``, the ``yield`` gives the request's response, or
        raises its ``CRMError``. Raise ``ManualActionNeeded`` for a change
        the destination cannot take (the message tells staff what to do).
        """
        raise NotImplementedError(
            f"{type(self).__name__} sets supports_update but has no build_update()."
        )

    def needs_correction(self, kinds: Collection[str]) -> bool:
        """Whether a correction of these answer kinds concerns this destination.
        Override this to say False when it never receives any of them."""
        return True

    def build_correction(self, lead: LeadPayload) -> UpdateSteps[RequestT, ResponseT]:
        """Yield each request that applies ``lead.correction`` (with
        ``supports_correction``), as ``build_update`` does for a consent change."""
        raise NotImplementedError(
            f"{type(self).__name__} sets supports_correction but has no "
            "build_correction()."
        )

    def build_erasure(
        self, email: str, *, idempotency_key: str
    ) -> Steps[RequestT, ResponseT]:
        """Yield each request that erases this person (with ``supports_erasure``):
        each ``yield`` gives the request's response, or raises its ``CRMError``."""
        raise NotImplementedError(
            f"{type(self).__name__} sets supports_erasure but has no build_erasure()."
        )
