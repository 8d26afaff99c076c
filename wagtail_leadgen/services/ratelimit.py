"""Per-IP rate limit shared by every intake path, kept in Django's cache.

The cache is shared across processes when a shared backend (Redis, database,
Memcached) is configured; the key is a keyed hash, never the raw address.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from ..conf import leadgen_settings

logger = logging.getLogger("wagtail_leadgen.security")


def client_ip(request: HttpRequest) -> str:
    """The client's address, trusting X-Forwarded-For only behind configured proxies."""
    proxies = leadgen_settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies and _is_ip(forwarded[-proxies]):
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _key(ip: str) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(), ip.encode(), hashlib.sha256
    ).hexdigest()[:32]
    return f"wagtail_leadgen:rate:{digest}"


def _count(key: str, window: int) -> int:
    """Count one attempt under ``key``; the count so far in the current window."""
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def allow_submission(request: HttpRequest) -> bool:
    """Count this attempt; False once the address exceeds the configured rate."""
    key = _key(client_ip(request))
    count = _count(key, leadgen_settings.RATE_LIMIT_WINDOW)
    if count > leadgen_settings.RATE_LIMIT_SUBMISSIONS:
        logger.warning("Lead form rate limit exceeded", extra={"rate_key": key[-8:]})
        return False
    return True


def attempt_key(scope: str, identifier: str) -> str:
    """The cache key counting ``identifier``'s attempts at ``scope``: a keyed
    hash, never the identifier (erasing a person can delete it)."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"{scope}:{identifier}".encode(), hashlib.sha256
    ).hexdigest()[:32]
    return f"wagtail_leadgen:{scope}:{digest}"


def allow_attempt(scope: str, identifier: str, *, limit: int, window: int) -> bool:
    """Count one attempt of ``identifier`` (a client IP, a normalised address)
    at ``scope`` (e.g. ``"my-data-ip"``); False once it made more than
    ``limit`` in ``window`` seconds."""
    return _count(attempt_key(scope, identifier), window) <= limit


def attempts_exceeded(scope: str, identifier: str, *, limit: int) -> bool:
    """Whether ``identifier`` already made ``limit`` attempts at ``scope`` in
    the current window, without counting one (count with ``allow_attempt``)."""
    return (cache.get(attempt_key(scope, identifier)) or 0) >= limit
