"""Outbound HTTP for CRM backends: timeouts, no redirects, no private addresses.

Standard library only (``http.client``). The address a host name resolves to
is checked *and then used* for the connection, so a DNS answer cannot switch
to an internal address between the check and the request (DNS rebinding).

``HttpCRMBackend`` is the one owner of this transport for backends: a provider
builds ``HttpRequest`` objects and parses ``HttpResponse`` objects; the base
adds the user agent, applies the timeouts and the http/private-address
policy, calls ``post`` and validates URL options.
"""

from __future__ import annotations

import email.utils
import http.client
import ipaddress
import json
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

from .base import (
    BaseCRMBackend,
    CRMConfigurationError,
    CRMError,
    DeliveryResult,
    DestinationGone,
    LeadPayload,
    PermanentCRMError,
    TransientCRMError,
)

RETRYABLE_STATUSES = {408, 425, 429} | set(range(500, 600))
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 15.0
# Sent with every request a backend makes (a request may set its own).
USER_AGENT = "wagtail-leadgen"
_MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class HttpRequest:
    """One HTTP call a backend wants made; ``HttpCRMBackend.send`` makes it."""

    method: str
    url: str
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def json(self) -> Any:
        """The body parsed as JSON; ``None`` when it is not JSON."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return None


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int, *, allow_private: bool) -> list[str]:
    """The addresses to connect to; refuses loopback, private and link-local ones."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TransientCRMError(f"cannot resolve {host}: {exc.strerror}") from exc
    except UnicodeError as exc:  # e.g. a label longer than 63 characters
        raise PermanentCRMError(f"invalid host name {host!r}") from exc
    addresses = [str(info[4][0]) for info in infos]
    if not allow_private:
        refused = [address for address in addresses if not _is_public(address)]
        if refused:
            raise PermanentCRMError(
                f"{host} resolves to a non-public address; refused (SSRF protection)"
            )
    return list(dict.fromkeys(addresses))


def _connect_first(addresses: list[str], port: int, timeout: float) -> socket.socket:
    """Connect to the first checked address that answers (IPv6 may be unreachable)."""
    error: OSError = OSError("no address to connect to")
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as exc:
            error = exc
    raise error


class _PinnedAddresses(http.client.HTTPConnection):
    """Connects only to the checked addresses, then waits with the read timeout."""

    def __init__(
        self,
        host: str,
        port: int,
        addresses: list[str],
        connect_timeout: float,
        read_timeout: float,
        **kwargs: Any,
    ):
        super().__init__(host, port, timeout=connect_timeout, **kwargs)
        self._addresses = addresses
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout

    def _pinned_socket(self) -> socket.socket:
        return _connect_first(self._addresses, self.port, self._connect_timeout)


class _PinnedHTTPConnection(_PinnedAddresses, http.client.HTTPConnection):
    def connect(self) -> None:
        self.sock = self._pinned_socket()
        self.sock.settimeout(self._read_timeout)


class _PinnedHTTPSConnection(_PinnedAddresses, http.client.HTTPSConnection):
    def __init__(self, *args: Any) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(*args, context=self._tls)

    def connect(self) -> None:
        sock = self._pinned_socket()
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        self.sock.settimeout(self._read_timeout)


def check_url(url: str, *, allow_http: bool, setting: str) -> None:
    """Validate a configured URL at start-up; raise ``CRMConfigurationError``."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        # The URL itself is not repeated: webhook URLs often carry a token.
        raise CRMConfigurationError(f"{setting} must be an absolute https:// URL.")
    if parts.scheme == "http" and not allow_http:
        raise CRMConfigurationError(
            f"{setting} uses plain http; use https, or set ALLOW_HTTP for development."
        )


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    allow_http: bool = False,
    allow_private: bool = False,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    method: str = "POST",
) -> HttpResponse:
    """Send one request and classify the answer.

    Returns the response for 2xx; raises ``TransientCRMError`` (network errors,
    408/425/429/5xx, with ``retry_after``), ``DestinationGone`` (410) or
    ``PermanentCRMError`` (other statuses, including redirects, which are not
    followed).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PermanentCRMError("not an absolute http(s) URL")
    if parts.scheme == "http" and not allow_http:
        raise PermanentCRMError("plain http refused")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise PermanentCRMError("invalid port in URL") from exc
    addresses = resolve(parts.hostname, port, allow_private=allow_private)
    connection_class = (
        _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    )
    connection = connection_class(
        parts.hostname, port, addresses, connect_timeout, read_timeout
    )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    try:
        connection.request(method, path, body=body, headers=headers)
        raw = connection.getresponse()
        response = HttpResponse(
            status=raw.status,
            headers={name.lower(): value for name, value in raw.getheaders()},
            body=raw.read(_MAX_BODY),
        )
    except ValueError:
        # e.g. CR/LF in a header value; the message would quote it (a token?)
        raise PermanentCRMError("invalid request (bad header value)") from None
    except TimeoutError as exc:
        raise TransientCRMError("timed out") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise TransientCRMError(f"connection failed: {type(exc).__name__}") from exc
    finally:
        connection.close()
    return classify(response)


def retry_after_seconds(value: str, *, now: float | None = None) -> float | None:
    """Parse ``Retry-After`` (seconds or an HTTP date)."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def classify(response: HttpResponse) -> HttpResponse:
    status = response.status
    if 200 <= status < 300:
        return response
    if status in RETRYABLE_STATUSES:
        raise TransientCRMError(
            "the CRM asked to retry later"
            if status in (425, 429)
            else "the CRM failed",
            status=status,
            retry_after=retry_after_seconds(response.header("retry-after")),
            response=response,
        )
    if status == 410:
        raise DestinationGone(
            "the destination is gone", status=status, response=response
        )
    if 300 <= status < 400:
        raise PermanentCRMError(
            "redirects are not followed", status=status, response=response
        )
    raise PermanentCRMError(
        "the CRM refused the request", status=status, response=response
    )


class HttpCRMBackend(BaseCRMBackend[HttpRequest, HttpResponse]):
    """The transport of every backend that speaks HTTP to its CRM.

    Providers write request building and result parsing only
    (``build_delivery``, ``parse_delivery``, ``build_update``,
    ``build_erasure``...); this class
    owns the rest:

    - ``send``: the call to ``post`` with the user agent, the timeouts and the
      http/private-address policy; errors come back classified
      (``TransientCRMError``, ``PermanentCRMError``, ``DestinationGone``);
    - the options ``CONNECT_TIMEOUT`` and ``READ_TIMEOUT`` (``OPTIONS``), and
      ``ALLOW_HTTP`` / ``ALLOW_PRIVATE_ADDRESSES`` (``SELF_HOSTED_OPTIONS``)
      for providers whose receiver a site may run itself; each is validated
      once, before the provider's ``configure``;
    - ``url_option``: the validation of a URL option.

    A provider includes these in its own options:
    ``OPTIONS = {"API_KEY": HttpCRMBackend.REQUIRED, **HttpCRMBackend.OPTIONS}``.
    """

    OPTIONS: ClassVar[Mapping[str, Any]] = {
        "CONNECT_TIMEOUT": DEFAULT_CONNECT_TIMEOUT,
        "READ_TIMEOUT": DEFAULT_READ_TIMEOUT,
    }
    # Plain http and private addresses, for receivers run by the site itself
    # (a webhook); SaaS CRMs leave these out and are always https, public.
    SELF_HOSTED_OPTIONS: ClassVar[Mapping[str, Any]] = {
        "ALLOW_HTTP": False,
        "ALLOW_PRIVATE_ADDRESSES": False,
    }

    def configure_transport(self) -> None:
        """Validate the transport options this provider declares."""
        flags = HttpCRMBackend.SELF_HOSTED_OPTIONS
        timeouts = HttpCRMBackend.OPTIONS
        self.require_bool(*(name for name in flags if name in self.options))
        self.require_positive_seconds(
            *(name for name in timeouts if name in self.options)
        )

    @property
    def allow_http(self) -> bool:
        return self.options.get("ALLOW_HTTP", False)

    @property
    def allow_private_addresses(self) -> bool:
        return self.options.get("ALLOW_PRIVATE_ADDRESSES", False)

    def url_option(self, name: str, *, base: bool = False) -> str:
        """Validate the URL in option ``name`` and return it.

        An absolute https URL (http only with ``ALLOW_HTTP``), without
        ``user:password@``, with a valid host and port. A ``base`` URL, to
        which paths are appended, has no query or fragment either and loses
        its trailing slash. Messages name the setting, never the URL: it may
        carry a token.
        """
        value = self.options[name]
        setting = self.setting_path(name)
        try:
            parts = urlsplit(value) if isinstance(value, str) else None
        except ValueError:  # e.g. an unclosed IPv6 bracket
            parts = None
        if parts is None:
            raise CRMConfigurationError(f"{setting} must be an absolute https:// URL.")
        # Checked before ``check_url``, so a message never follows credentials.
        if parts.username is not None or parts.password is not None:
            raise CRMConfigurationError(
                f"{setting} must not contain credentials; secrets have options "
                "of their own."
            )
        check_url(value, allow_http=self.allow_http, setting=setting)
        try:
            parts.port  # noqa: B018 -- raises ValueError for a bad port
            (parts.hostname or "").encode("idna")
        except (ValueError, UnicodeError):
            raise CRMConfigurationError(
                f"{setting} has an invalid host name or port."
            ) from None
        if not base:
            return value
        if parts.query or parts.fragment:
            raise CRMConfigurationError(
                f"{setting} must be a plain base URL, without query or fragment."
            )
        return value.rstrip("/")

    # -- Transport ----------------------------------------------------------------
    def send(self, request: HttpRequest) -> HttpResponse:
        """Make one call; a ``CRMError`` goes through ``parse_error`` first."""
        try:
            return post(
                request.url,
                request.body,
                {"User-Agent": USER_AGENT, **request.headers},
                allow_http=self.allow_http,
                allow_private=self.allow_private_addresses,
                connect_timeout=self.options.get(
                    "CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT
                ),
                read_timeout=self.options.get("READ_TIMEOUT", DEFAULT_READ_TIMEOUT),
                method=request.method,
            )
        except CRMError as error:
            clearer = self.parse_error(error, request)
            if clearer is error:
                raise
            raise clearer from error

    def parse_error(self, error: CRMError, request: HttpRequest) -> CRMError:
        """The error to raise for a failed call. Override this to reword one
        (e.g. a 401 means an expired token); return ``error`` to keep it.

        Never copy the response body into a message: it may hold personal data.
        """
        return error

    def parse_delivery(
        self, response: HttpResponse, lead: LeadPayload
    ) -> DeliveryResult:
        """A 2xx answer; override this to read the CRM's id for the lead."""
        return DeliveryResult(detail=f"HTTP {response.status}")
