"""Sealed values: encrypted and authenticated with a key derived from ``SECRET_KEY``.

The one use is the address a CRM must erase, which has to outlive the local
erasure until the CRM has answered. A signed value would still be readable by
anyone reading the database or a backup, so it is encrypted: an HMAC-SHA256
key stream (counter mode, a random nonce per value), then an HMAC-SHA256 tag
over nonce and cipher text (encrypt-then-MAC), two keys derived with one salt
each. Standard library only. Keys in ``SECRET_KEY_FALLBACKS`` still open
values sealed before a rotation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from django.conf import settings

_ENCRYPTION_SALT = "wagtail_leadgen.sealing.encryption"
_MAC_SALT = "wagtail_leadgen.sealing.mac"
_NONCE_BYTES = 16
_TAG_BYTES = 32


class BrokenSeal(ValueError):
    """The value was not sealed here, was altered, or its key is gone."""


def _key(salt: str, secret: str) -> bytes:
    return hashlib.sha256(f"{salt}:{secret}".encode()).digest()


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (length + 31) // 32
    return b"".join(
        hmac.new(key, nonce + counter.to_bytes(8, "big"), hashlib.sha256).digest()
        for counter in range(blocks)
    )[:length]


def _xor(data: bytes, stream: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(data, stream, strict=True))


def _tag(secret: str, nonce: bytes, cipher: bytes) -> bytes:
    return hmac.new(_key(_MAC_SALT, secret), nonce + cipher, hashlib.sha256).digest()


def seal(value: str) -> str:
    """Encrypt ``value`` with the current ``SECRET_KEY``; URL-safe text."""
    secret = settings.SECRET_KEY
    nonce = secrets.token_bytes(_NONCE_BYTES)
    plain = value.encode()
    cipher = _xor(plain, _keystream(_key(_ENCRYPTION_SALT, secret), nonce, len(plain)))
    return base64.urlsafe_b64encode(
        nonce + cipher + _tag(secret, nonce, cipher)
    ).decode()


def unseal(sealed: str) -> str:
    """The value ``seal`` encrypted; ``BrokenSeal`` if it cannot be trusted."""
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
    except ValueError as exc:
        raise BrokenSeal("not a sealed value") from exc
    if len(raw) < _NONCE_BYTES + _TAG_BYTES:
        raise BrokenSeal("not a sealed value")
    nonce, cipher, tag = (
        raw[:_NONCE_BYTES],
        raw[_NONCE_BYTES:-_TAG_BYTES],
        raw[-_TAG_BYTES:],
    )
    for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        if hmac.compare_digest(tag, _tag(secret, nonce, cipher)):
            stream = _keystream(_key(_ENCRYPTION_SALT, secret), nonce, len(cipher))
            return _xor(cipher, stream).decode()
    raise BrokenSeal("altered, or sealed with a key no longer configured")
