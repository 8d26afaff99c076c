"""A scriptable fake CRM: a real HTTP server on 127.0.0.1 for delivery tests.

Standard library only, no Django. Each request takes the next scripted
behaviour, or the default one when the script is empty::

    with FakeCRM() as crm:                 # listens on 127.0.0.1, a free port
        crm.script("status", 503, {"Retry-After": "7"})
        crm.script("hang", 3)              # answers only after 3 s
        crm.script("reset")                # closes the socket, no answer
        ...                                # then the default: "ok"
        backend = WebhookBackend("hooks", {"URL": crm.url, ...})
        crm.requests                       # every request received, in order
        crm.unique_ids                     # accepted webhook-ids, de-duplicated
        crm.wait_for_accepted(2)           # blocks until 2 requests were stored

As a pytest fixture::

    @pytest.fixture
    def crm():
        with FakeCRM() as server:
            yield server

Behaviours (for ``script``, ``set_default`` and the constructor's ``default``):

- ``"ok"`` [, remote_id]: 200 with ``{"id": remote_id}``. Without a remote id,
  the id is stable per ``webhook-id`` (``"crm-1"``, ``"crm-2"``, ...), as a CRM
  that de-duplicates would answer.
- ``"status", code [, headers [, body]]``: that status; body defaults to a small
  JSON object. A 2xx counts as accepted.
- ``"hang", seconds [, then]``: waits (interrupted by ``close()``), then behaves
  as ``then`` (a behaviour tuple, default ``("ok",)``), which is how a CRM that
  stored the lead but answered too late looks to the client.
- ``"reset"``: reads the request, then closes the connection with a TCP RST.
- a callable ``f(request) -> (status, headers, body)`` for anything else.

A request is *accepted* when the server answers it with a 2xx (recorded before
the answer is written, like a CRM that commits and then replies: the client may
still time out). ``accepted`` lists them; ``unique_ids`` de-duplicates them by
the ``webhook-id`` header, so "every lead exactly once" is
``len(crm.unique_ids) == N`` whatever the number of retries.

``stop()`` and ``start()`` take the receiver down (connections are refused)
and bring it back on the same port, for "the CRM was down" scenarios.

``verify_standard_webhook`` checks a received request as a receiver would,
independently of the code under test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Behaviour = tuple[Any, ...]
Responder = Callable[["RecordedRequest"], tuple[int, dict[str, str], bytes]]

_JSON = {"Content-Type": "application/json"}


@dataclass
class RecordedRequest:
    """One request as the fake CRM received it (header names lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    behaviour: str = ""
    received_at: float = field(default_factory=time.time)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @property
    def webhook_id(self) -> str:
        return self.header("webhook-id")

    def json(self) -> Any:
        return json.loads(self.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeCRM


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: test output stays readable."""

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = RecordedRequest(
            method=self.command,
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        self.server.fake._handle(self, request)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    # -- Answers ----------------------------------------------------------------
    def answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up (timeout) before the answer
        self.close_connection = True

    def reset(self) -> None:
        """Close at once with SO_LINGER 0: the client sees a connection reset."""
        self.connection.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )
        self.connection.close()
        self.close_connection = True


class FakeCRM:
    """A scriptable HTTP receiver on 127.0.0.1; see the module docstring."""

    def __init__(self, default: Behaviour | str = "ok", *, path: str = "/webhook"):
        self._path = path
        self._default: Behaviour = (default,) if isinstance(default, str) else default
        self._queue: deque[Behaviour] = deque()
        self._lock = threading.Condition()
        self._closing = threading.Event()
        self._remote_ids: dict[str, str] = {}
        self.requests: list[RecordedRequest] = []
        self.accepted: list[RecordedRequest] = []
        self.port = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- Life cycle -----------------------------------------------------------
    def start(self) -> FakeCRM:
        """Listen (again) on 127.0.0.1; the port is kept across stop/start."""
        if self._server is not None:
            return self
        self._closing.clear()
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.fake = self
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: new connections are refused. Hanging requests end."""
        self._closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    close = stop

    def __enter__(self) -> FakeCRM:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """Where to deliver (plain http: backends need their allow-http option)."""
        return f"{self.base_url}{self._path}"

    # -- Scripting ------------------------------------------------------------
    def script(self, kind: str | Responder, *args: Any) -> FakeCRM:
        """Queue the behaviour of the next request not yet scripted."""
        with self._lock:
            self._queue.append((kind, *args))
        return self

    def set_default(self, kind: str | Responder, *args: Any) -> FakeCRM:
        """The behaviour once the scripted ones are used up."""
        with self._lock:
            self._default = (kind, *args)
        return self

    # -- What was received ----------------------------------------------------
    @property
    def unique_ids(self) -> list[str]:
        """``webhook-id`` of accepted requests, de-duplicated, first seen first."""
        with self._lock:
            return list(dict.fromkeys(r.webhook_id for r in self.accepted))

    @property
    def duplicates(self) -> int:
        """Accepted requests that repeated an already accepted ``webhook-id``."""
        with self._lock:
            return len(self.accepted) - len({r.webhook_id for r in self.accepted})

    def wait_for(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until ``count`` requests were received; AssertionError on timeout."""
        return self._wait(self.requests, count, "received", timeout)

    def wait_for_accepted(
        self, count: int, timeout: float = 5.0
    ) -> list[RecordedRequest]:
        """Block until ``count`` requests were accepted (stored), e.g. a ``hang``
        that has run out; AssertionError on timeout."""
        return self._wait(self.accepted, count, "accepted", timeout)

    def _wait(
        self, seen: list[RecordedRequest], count: int, what: str, timeout: float
    ) -> list[RecordedRequest]:
        with self._lock:
            if not self._lock.wait_for(lambda: len(seen) >= count, timeout):
                raise AssertionError(
                    f"the fake CRM {what} {len(seen)} requests, expected {count}"
                )
            return list(seen)

    def clear(self) -> None:
        """Forget received requests and scripted behaviours (not the default)."""
        with self._lock:
            self.requests.clear()
            self.accepted.clear()
            self._queue.clear()
            self._remote_ids.clear()

    # -- Request handling (server threads) ------------------------------------
    def _handle(self, handler: _Handler, request: RecordedRequest) -> None:
        with self._lock:
            behaviour = self._queue.popleft() if self._queue else self._default
            request.behaviour = (
                behaviour[0] if isinstance(behaviour[0], str) else "custom"
            )
            self.requests.append(request)
            self._lock.notify_all()
        self._run(handler, request, behaviour)

    def _run(
        self, handler: _Handler, request: RecordedRequest, behaviour: Behaviour
    ) -> None:
        kind, *args = behaviour
        if kind == "reset":
            handler.reset()
            return
        if kind == "hang":
            seconds, *then = args
            if self._closing.wait(seconds):
                handler.close_connection = True
                return
            self._run(handler, request, tuple(then[0]) if then else ("ok",))
            return
        if callable(kind):
            status, headers, body = kind(request)
        elif kind == "ok":
            status, headers = 200, dict(_JSON)
            body = json.dumps(
                {"id": args[0] if args else self._remote_id(request)}
            ).encode()
        elif kind == "status":
            status, headers, body = args[0], dict(_JSON), b'{"status":"scripted"}'
            if len(args) > 1 and args[1]:
                headers.update(args[1])
            if len(args) > 2:
                body = args[2]
        else:
            raise ValueError(f"unknown fake CRM behaviour {kind!r}")
        if 200 <= status < 300:
            with self._lock:
                self.accepted.append(request)
                self._lock.notify_all()
        handler.answer(status, headers, body)

    def _remote_id(self, request: RecordedRequest) -> str:
        with self._lock:
            key = request.webhook_id or f"anonymous-{len(self.requests)}"
            return self._remote_ids.setdefault(key, f"crm-{len(self._remote_ids) + 1}")


def verify_standard_webhook(
    secret: str, request: RecordedRequest, *, tolerance: float = 300
) -> Any:
    """Verify a request as a Standard Webhooks receiver would; return its JSON.

    Written from the spec, independently of the code under test: HMAC-SHA256
    over ``{webhook-id}.{webhook-timestamp}.{raw body}`` keyed with the
    base64-decoded part of ``whsec_…``, compared in constant time, with the
    timestamp within ``tolerance`` seconds. Raises AssertionError otherwise.
    """
    msg_id = request.header("webhook-id")
    timestamp = request.header("webhook-timestamp")
    signatures = request.header("webhook-signature")
    assert msg_id and timestamp and signatures, "missing Standard Webhooks headers"
    assert abs(time.time() - int(timestamp)) <= tolerance, "timestamp out of tolerance"
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + request.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in signatures.split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return json.loads(request.body)
    raise AssertionError("no valid v1 signature")
