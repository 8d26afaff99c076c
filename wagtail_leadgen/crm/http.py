"""Outbound HTTP for CRM backends: timeouts, no redirects, no private addresses.

Standard library only (``http.client``). The address a host name resolves to
is checked *and then used* for the connection, so a DNS answer cannot switch
to an internal address between the check and the request (DNS rebinding).
"""

from __future__ import annotations

import email.utils
import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from .base import (
    CRMConfigurationError,
    DestinationGone,
    PermanentCRMError,
    TransientCRMError,
)

RETRYABLE_STATUSES = {408, 425, 429} | set(range(500, 600))
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 15.0
_MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


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
    addresses = [info[4][0] for info in infos]
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


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(
        self,
        host: str,
        port: int,
        addresses: list[str],
        connect_timeout: float,
        read_timeout: float,
    ):
        super().__init__(host, port, timeout=connect_timeout)
        self._addresses = addresses
        self._read_timeout = read_timeout

    def connect(self) -> None:
        self.sock = _connect_first(self._addresses, self.port, self.timeout)
        self.sock.settimeout(self._read_timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(
        self,
        host: str,
        port: int,
        addresses: list[str],
        connect_timeout: float,
        read_timeout: float,
    ):
        super().__init__(
            host, port, timeout=connect_timeout, context=ssl.create_default_context()
        )
        self._addresses = addresses
        self._read_timeout = read_timeout

    def connect(self) -> None:
        sock = _connect_first(self._addresses, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)
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
