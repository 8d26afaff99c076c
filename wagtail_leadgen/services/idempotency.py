"""``Idempotency-Key`` for API submissions: a retried request never makes a second lead.

A key is reserved (a row with a unique hash) before the submission runs and
answered once it succeeded: the same key with the same body then gets the
same answer, the same key with another body a conflict. A concurrent
duplicate finds the reservation (on PostgreSQL it waits for the first
request's insert to commit) and is told to retry. Only a success is kept: a
refused submission (invalid, expired, rate limited) releases its key, so the
client may correct it and send it again under the same key. Keys are
remembered for ``API["IDEMPOTENCY_KEY_MAX_AGE"]`` seconds; the retention purge
deletes older ones.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..conf import leadgen_settings
from ..models.api import IdempotencyKey

KEY_MAX_LENGTH = 255


class KeyConflict(Exception):
    """The key was used with another body, or its first request still runs."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "reused" or "in_progress"


@dataclass(frozen=True)
class Replay:
    status: int
    body: dict[str, Any]


def is_valid_key(key: str) -> bool:
    """1 to 255 visible ASCII characters (what a UUID or a random token is)."""
    return 0 < len(key) <= KEY_MAX_LENGTH and all(33 <= ord(c) <= 126 for c in key)


def body_hash(data: Any) -> str:
    """The SHA-256 of a body's canonical JSON: key order and spacing do not count."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _key_hash(key: str, page_id: int) -> str:
    return hashlib.sha256(f"{page_id}:{key}".encode()).hexdigest()


def _cutoff(now: datetime) -> datetime:
    return now - timedelta(seconds=leadgen_settings.api["IDEMPOTENCY_KEY_MAX_AGE"])


def reserve(key: str, page: Any, digest: str) -> IdempotencyKey | Replay:
    """Reserve ``key`` for this page and body, or the stored answer to replay.

    Raises ``KeyConflict`` for another body or a request still running."""
    key_hash = _key_hash(key, page.pk)
    IdempotencyKey.objects.filter(
        key_hash=key_hash, created_at__lt=_cutoff(timezone.now())
    ).delete()
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(
                key_hash=key_hash, page=page, body_hash=digest
            )
    except IntegrityError:
        existing = IdempotencyKey.objects.filter(key_hash=key_hash).first()
    if existing is None:  # released meanwhile by a request that failed
        raise KeyConflict("in_progress")
    if existing.body_hash != digest:
        raise KeyConflict("reused")
    if existing.response_status is None or existing.response_body is None:
        raise KeyConflict("in_progress")
    return Replay(existing.response_status, existing.response_body)


def answer(record: IdempotencyKey, status: int, body: dict[str, Any]) -> None:
    """Keep the answer a reserved key's request got, for its retries."""
    record.response_status = status
    record.response_body = body
    record.save(update_fields=["response_status", "response_body"])


def release(record: IdempotencyKey) -> None:
    """Forget a key whose request was refused: it may be used again."""
    record.delete()


def delete_expired(now: datetime, *, dry_run: bool = False) -> int:
    """Delete the keys older than their period; the count."""
    old = IdempotencyKey.objects.filter(created_at__lt=_cutoff(now))
    if dry_run:
        return old.count()
    deleted, _ = old.delete()
    return deleted
