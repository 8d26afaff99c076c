"""Optional proof of work on lead forms, for sites under attack (ASVS 2.4.1).

The challenge follows ALTCHA's format (the ``altcha`` package builds it): the
SHA-256 of a random salt, which carries the challenge's expiry, followed by
a secret number below ``MAX_NUMBER``, signed with an HMAC key derived from
``SECRET_KEY``. The visitor's browser finds the number with the plugin's own
script (``static/wagtail_leadgen/pow.js``, no third-party origin), so each
submission costs a bot that runs JavaScript that much CPU. The server checks
the signature in constant time, the expiry, and that the challenge was never
used before (a key in Django's cache, so it holds across processes).

A form posted without a solution (a visitor without JavaScript) is not
refused: the honeypot and a stricter time trap (``NO_JS_MIN_FILL_SECONDS``)
decide, see ``services.intake``.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import enum
import hashlib
import json
from typing import Any, Literal
from urllib.parse import parse_qs

from django.core.cache import cache
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from ..conf import leadgen_settings

FIELD = "leadgen_pow"
ALGORITHM: Literal["SHA-256"] = "SHA-256"
_KEY_SALT = "wagtail_leadgen.proof-of-work"
_MAX_PAYLOAD = 2000


class Verdict(enum.StrEnum):
    SOLVED = "solved"
    MISSING = "missing"  # no JavaScript, or submitted before it was solved
    INVALID = "invalid"  # forged, expired, tampered or replayed


def enabled() -> bool:
    return leadgen_settings.proof_of_work is not None


def altcha() -> Any:
    """The ``altcha`` package, an optional dependency (the system check
    ``wagtail_leadgen.E008`` names the extra when it is missing)."""
    import altcha  # optional: imported only when the option is on

    return altcha


def _hmac_key() -> str:
    return salted_hmac(_KEY_SALT, "altcha", algorithm="sha256").hexdigest()


def new_challenge() -> dict[str, Any] | None:
    """A fresh challenge for one rendered form, or None when the option is off."""
    config = leadgen_settings.proof_of_work
    if config is None:
        return None
    expires = timezone.now() + datetime.timedelta(seconds=leadgen_settings.FORM_MAX_AGE)
    library = altcha()
    challenge = library.create_challenge_v1(
        library.ChallengeOptionsV1(
            algorithm=ALGORITHM,
            max_number=config["MAX_NUMBER"],
            hmac_key=_hmac_key(),
            expires=expires,
        )
    )
    return challenge.to_dict()


def _decode(payload: str) -> dict[str, Any] | None:
    if len(payload) > _MAX_PAYLOAD:
        return None
    try:
        data = json.loads(base64.b64decode(payload, validate=True).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    number = data.get("number")
    fields_are_text = all(
        isinstance(data.get(name), str) for name in ("challenge", "salt", "signature")
    )
    if (
        data.get("algorithm") != ALGORITHM
        or not fields_are_text
        or isinstance(number, bool)
        or not isinstance(number, int)
        or number < 0
    ):
        return None
    return data


def check(payload: str) -> Verdict:
    """Whether a posted solution proves the work; a valid one is spent at once."""
    if not payload:
        return Verdict.MISSING
    data = _decode(payload)
    if data is None:
        return Verdict.INVALID
    salt = data["salt"] if data["salt"].endswith("&") else data["salt"] + "&"
    query = data["salt"].partition("?")[2]
    expires = parse_qs(query).get("expires", [""])[0]
    if not expires.isdigit() or int(expires) < timezone.now().timestamp():
        return Verdict.INVALID
    library = altcha()
    expected = library.hash_hex(ALGORITHM, f"{salt}{data['number']}".encode())
    signature = library.hmac_hex(ALGORITHM, expected.encode(), _hmac_key())
    if not (
        constant_time_compare(expected, data["challenge"])
        and constant_time_compare(signature, data["signature"])
    ):
        return Verdict.INVALID
    spent = hashlib.sha256(expected.encode()).hexdigest()
    lifetime = max(1, int(expires) - int(timezone.now().timestamp()))
    if not cache.add(f"wagtail_leadgen:pow:{spent}", 1, timeout=lifetime):
        return Verdict.INVALID  # replayed
    return Verdict.SOLVED
