"""A local webhook receiver for the demo: verifies Standard Webhooks signatures.

    python example_site/manage.py demo_webhook_receiver [--port 8001]
                                                        [--fail-with 503]

It listens on 127.0.0.1 only, checks each request's ``webhook-signature``
against the ``whsec_…`` secret in ``LEADGEN_WEBHOOK_SECRET`` (or ``--secret``),
refuses timestamps more than five minutes away from now, and prints one line
per verified event: its type, its id and how many distinct events it has seen.
It never prints the event's data (a lead's email address is personal data).
Answers: 200 with ``{"id": ...}`` for a verified event, 401 for a missing or
bad signature or a stale timestamp, 400 for a body that is not JSON, and the
``--fail-with`` status for every request, to simulate an outage.
"""

from __future__ import annotations

import hmac
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.core.management.base import BaseCommand, CommandError

from wagtail_leadgen.crm.webhook import decode_secret, sign

TOLERANCE_SECONDS = 5 * 60
MAX_BODY = 1024 * 1024


class Receiver:
    """What the handler needs: the key, the seen ids and a way to print."""

    def __init__(self, key: bytes, fail_with: int | None, write) -> None:
        self.key = key
        self.fail_with = fail_with
        self.write = write
        self.lock = threading.Lock()
        self.remote_ids: dict[str, str] = {}  # webhook-id -> the id we answered

    def verify(self, headers, body: bytes) -> tuple[str, str]:
        """(msg_id, "") when the request is authentic, else ("", reason)."""
        msg_id = headers.get("webhook-id", "")
        timestamp = headers.get("webhook-timestamp", "")
        signatures = headers.get("webhook-signature", "")
        if not (msg_id and timestamp and signatures):
            return "", "missing webhook-id, webhook-timestamp or webhook-signature"
        try:
            sent_at = int(timestamp)
        except ValueError:
            return "", "webhook-timestamp is not a number"
        if abs(time.time() - sent_at) > TOLERANCE_SECONDS:
            return "", "webhook-timestamp is more than 5 minutes away from now"
        try:
            expected = sign(self.key, msg_id, sent_at, body)
        except ValueError:
            return "", "invalid webhook-id"
        # The header may carry several space-separated signatures (key rotation).
        for candidate in signatures.split():
            if hmac.compare_digest(candidate.encode(), expected.encode()):
                return msg_id, ""
        return "", "signature mismatch"

    def accept(self, msg_id: str) -> tuple[str, bool, int]:
        """The id to answer, whether the event is new, and the distinct count."""
        with self.lock:
            is_new = msg_id not in self.remote_ids
            if is_new:
                self.remote_ids[msg_id] = f"demo-{len(self.remote_ids) + 1}"
            return self.remote_ids[msg_id], is_new, len(self.remote_ids)


def make_handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        server_version = "demo-webhook-receiver"
        sys_version = ""

        def log_message(self, format, *args):  # noqa: A002 -- the base signature
            """Silence the default access log; ``do_POST`` prints what matters."""

        def answer(self, status: int, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self.answer(413, {"error": "body too large"})
                return
            body = self.rfile.read(length)
            if receiver.fail_with:
                receiver.write(
                    f"answered {receiver.fail_with} (simulated outage) "
                    f"to webhook-id {self.headers.get('webhook-id', '?')}"
                )
                self.answer(receiver.fail_with, {"error": "simulated outage"})
                return
            msg_id, reason = receiver.verify(self.headers, body)
            if not msg_id:
                receiver.write(f"REJECTED (401): {reason}")
                self.answer(401, {"error": reason})
                return
            try:
                event = json.loads(body)
                event_type = str(event.get("type", "?"))
            except (ValueError, AttributeError):
                receiver.write(f"REJECTED (400): {msg_id} is not a JSON object")
                self.answer(400, {"error": "not a JSON object"})
                return
            remote_id, is_new, count = receiver.accept(msg_id)
            receiver.write(
                f"verified {event_type} id={msg_id} "
                f"{'new' if is_new else 'repeat, already seen'}; "
                f"distinct events: {count}"
            )
            self.answer(200, {"id": remote_id})

    return Handler


class Command(BaseCommand):
    help = "Receive the demo's webhook events on 127.0.0.1 and verify their signatures."
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--port", type=int, default=8001, help="Port on 127.0.0.1 (8001)."
        )
        parser.add_argument(
            "--secret",
            default=os.environ.get("LEADGEN_WEBHOOK_SECRET", ""),
            help="The whsec_… secret (default: $LEADGEN_WEBHOOK_SECRET).",
        )
        parser.add_argument(
            "--fail-with",
            type=int,
            metavar="STATUS",
            help="Answer every request with this status, e.g. 503 for an outage.",
        )

    def handle(self, *args, port, secret, fail_with, **options):
        if not secret.startswith("whsec_"):
            raise CommandError(
                "Set LEADGEN_WEBHOOK_SECRET (or --secret) to the demo's whsec_… secret."
            )
        try:
            key = decode_secret(secret)
        except ValueError as exc:
            raise CommandError(f"Invalid secret: {exc}.") from None
        if fail_with is not None and not 100 <= fail_with <= 599:
            raise CommandError("--fail-with takes an HTTP status, e.g. 503.")

        def write(line: str) -> None:
            self.stdout.write(f"[{time.strftime('%H:%M:%S')}] {line}")
            self.stdout.flush()

        receiver = Receiver(key, fail_with, write)
        try:
            server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(receiver))
        except OSError as exc:
            raise CommandError(f"Cannot listen on 127.0.0.1:{port}: {exc}") from None
        mode = f", answering {fail_with} to everything" if fail_with else ""
        write(f"Listening on http://127.0.0.1:{port}/{mode}. Ctrl-C stops.")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
        write("Stopped.")
