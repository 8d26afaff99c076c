"""A stand-in for ``wagtail_leadgen.crm.http.post`` in unit tests: no socket.

In the spirit of django-anymail's ``mock_requests_backend``: every call
``HttpCRMBackend.send`` makes is recorded, answers come from a script, and an
unscripted call gets a 200 with an empty body::

    @pytest.fixture
    def fake_http(monkeypatch) -> FakeHTTP:
        return FakeHTTP.install(monkeypatch)

    def test_something(fake_http):
        fake_http.answers.append(json_response({"id": "1"}))  # or an error to raise
        backend.deliver(lead)
        fake_http.last["url"], fake_http.last["method"], fake_http.json()

What only a real socket shows (timeouts, resets, SSRF refusals, headers on
the wire) is tested against ``tests.fake_crm.FakeCRM`` instead.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest

from wagtail_leadgen.crm import http


def json_response(data: Any, status: int = 200) -> http.HttpResponse:
    return http.HttpResponse(
        status, {"content-type": "application/json"}, json.dumps(data).encode()
    )


class FakeHTTP:
    """Records every call to ``http.post`` and answers from ``answers``."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        # HttpResponse to return, or an exception to raise, one per call.
        self.answers: list[http.HttpResponse | Exception] = []

    @classmethod
    def install(cls, monkeypatch: pytest.MonkeyPatch) -> FakeHTTP:
        """Replace ``http.post`` for the test; returns the fake."""
        fake = cls()
        monkeypatch.setattr(http, "post", fake)
        return fake

    def __call__(self, url, body, headers, **kwargs) -> http.HttpResponse:
        self.calls.append({"url": url, "body": body, "headers": headers, **kwargs})
        answer = (
            self.answers.pop(0) if self.answers else http.HttpResponse(200, {}, b"")
        )
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def last(self) -> dict[str, Any]:
        return self.calls[-1]

    def json(self, index: int = -1) -> Any:
        """The body of a call, parsed as JSON."""
        return json.loads(self.calls[index]["body"].decode("utf-8"))

    def form(self, index: int = -1) -> list[tuple[str, str]]:
        """The body of a call, parsed as a form (strictly, blanks kept)."""
        return parse_qsl(
            self.calls[index]["body"].decode("ascii"),
            keep_blank_values=True,
            strict_parsing=True,
        )
