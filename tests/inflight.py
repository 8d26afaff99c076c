"""Requests the live server is still answering, so a browser test's teardown can
wait for them before the database is flushed.

A page that is left sends requests of its own (Wagtail's editor releases its
editing session with a beacon on unload); flushing the shared in-memory SQLite
database while the server thread still reads `django_session` fails with
"database table is locked".
"""

import threading
import time

_lock = threading.Condition()
_in_flight = 0


class InFlightRequestsMiddleware:
    """Outermost test middleware: counts the requests being answered."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        global _in_flight
        with _lock:
            _in_flight += 1
        try:
            return self.get_response(request)
        finally:
            with _lock:
                _in_flight -= 1
                _lock.notify_all()


def wait_until_idle(quiet: float = 0.3, timeout: float = 15.0) -> None:
    """Return once no request has been in flight for `quiet` seconds; a request
    sent as the page was left may reach the server a moment later."""
    deadline = time.monotonic() + timeout
    quiet_since = time.monotonic()
    with _lock:
        while time.monotonic() < deadline:
            if _in_flight:
                _lock.wait(timeout=max(0.0, deadline - time.monotonic()))
                quiet_since = time.monotonic()
                continue
            remaining = quiet - (time.monotonic() - quiet_since)
            if remaining <= 0:
                return
            _lock.wait(timeout=remaining)
    raise TimeoutError(f"the live server still answers {_in_flight} request(s)")
