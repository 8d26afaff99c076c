"""Signed tokens, one salt per purpose, each with a maximum age.

Signed values are readable by anyone holding them, so they carry ids and
times only, never personal data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.core import signing

from .conf import leadgen_settings

FORM_SALT = "wagtail_leadgen.form-time"
# The page token of a page a shared cache holds: one for every visitor.
PAGE_FORM_SALT = "wagtail_leadgen.page-form-time"
# A page token's time is the start of its minute, so every render of one page
# revision within that minute is the same, byte for byte.
PAGE_TOKEN_BUCKET = 60
DOWNLOAD_SALT = "wagtail_leadgen.download"
PREFERENCES_SALT = "wagtail_leadgen.preferences"
MY_DATA_ACCESS_SALT = "wagtail_leadgen.my-data-api-access"
# Progressive profiling: a link from the person's own emails, and the value
# of the "remember me on this device" cookie. Two salts: neither opens the other.
PROFILE_LINK_SALT = "wagtail_leadgen.profile-link"
REMEMBER_SALT = "wagtail_leadgen.remember-device"


class InvalidToken(Exception):
    """The token was tampered with, truncated, or made for another purpose."""


class ExpiredToken(InvalidToken):
    """The token is genuine but older than its maximum age."""


@dataclass(frozen=True)
class FormToken:
    """What a rendered form remembers: which page, when, the consent purposes
    shown (each at its published version) and the request processing's version."""

    page_id: int
    issued_at: float
    purpose_versions: dict[int, int | None]
    request_version: int | None = None
    # A page token (shared by every visitor of a cached page): its time is
    # when the cache was filled, not when this visitor opened the form.
    shared: bool = False
    # The A/B test variant the form was rendered with: (test id, variant key).
    variant: tuple[int, str] | None = None

    @property
    def age(self) -> float:
        return time.time() - self.issued_at


def _variant_payload(payload: dict[str, Any], variant: Any) -> dict[str, Any]:
    if variant is not None:
        payload["x"] = [int(variant[0]), str(variant[1])]
    return payload


def make_form_token(
    page_id: int,
    purpose_versions: dict[int, int | None],
    request_version: int | None = None,
    variant: tuple[int, str] | None = None,
) -> str:
    payload = {
        "p": page_id,
        "t": round(time.time(), 3),
        "v": {str(pk): version for pk, version in purpose_versions.items()},
        "r": request_version,
    }
    return signing.dumps(
        _variant_payload(payload, variant), salt=FORM_SALT, compress=True
    )


def make_page_form_token(
    page_id: int,
    purpose_versions: dict[int, int | None],
    request_version: int | None = None,
    variant: tuple[int, str] | None = None,
) -> str:
    """The token of a page a shared cache may hold: no visitor data, and the
    same for every render of one page revision within ``PAGE_TOKEN_BUCKET``
    seconds (plain ``Signer``: ``TimestampSigner`` would add the second)."""
    issued = int(time.time()) // PAGE_TOKEN_BUCKET * PAGE_TOKEN_BUCKET
    payload = {
        "p": page_id,
        "t": issued,
        "v": {str(pk): version for pk, version in purpose_versions.items()},
        "r": request_version,
    }
    return signing.Signer(salt=PAGE_FORM_SALT).sign_object(
        _variant_payload(payload, variant), compress=True
    )


def _read_page_payload(token: str) -> Any:
    try:
        payload = signing.Signer(salt=PAGE_FORM_SALT).unsign_object(token)
    except signing.BadSignature as exc:
        raise InvalidToken from exc
    issued = payload.get("t") if isinstance(payload, dict) else None
    if isinstance(issued, bool) or not isinstance(issued, int | float):
        raise InvalidToken
    if time.time() - issued > leadgen_settings.FORM_MAX_AGE:
        raise ExpiredToken
    return payload


def read_form_token(token: str, *, page_id: int) -> FormToken:
    """Check a form token, a visitor's or a page's; raise ``ExpiredToken``
    or ``InvalidToken``."""
    shared = False
    try:
        payload = signing.loads(
            token, salt=FORM_SALT, max_age=leadgen_settings.FORM_MAX_AGE
        )
    except signing.SignatureExpired as exc:
        raise ExpiredToken from exc
    except signing.BadSignature:
        payload = _read_page_payload(token)
        shared = True
    try:
        parsed = FormToken(
            page_id=int(payload["p"]),
            issued_at=float(payload["t"]),
            purpose_versions={
                int(pk): (None if version is None else int(version))
                for pk, version in payload["v"].items()
            },
            request_version=(None if payload.get("r") is None else int(payload["r"])),
            shared=shared,
            variant=_read_variant(payload.get("x")),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidToken from exc
    if parsed.page_id != page_id:
        raise InvalidToken
    return parsed


def _read_variant(value: Any) -> tuple[int, str] | None:
    if value is None:
        return None
    test, key = value  # a malformed pair raises, and the token is invalid
    if isinstance(test, bool) or not isinstance(test, int) or not isinstance(key, str):
        raise ValueError("malformed variant")
    return test, key


def visitor_form_token(page_token: FormToken) -> str:
    """A visitor's own token for the form a page token came with: the same
    page, versions and test variant (what the cached HTML shows), issued now."""
    return make_form_token(
        page_token.page_id,
        page_token.purpose_versions,
        page_token.request_version,
        page_token.variant,
    )


def with_variant(token: str, *, page_id: int, variant: tuple[int, str]) -> str:
    """The same form token (a page's or a visitor's) naming an A/B test's
    variant, which the submission is then attributed to."""
    read = read_form_token(token, page_id=page_id)
    make = make_page_form_token if read.shared else make_form_token
    return make(page_id, read.purpose_versions, read.request_version, variant)


def make_download_token(grant_key: str) -> str:
    return signing.TimestampSigner(salt=DOWNLOAD_SALT).sign(grant_key)


_CONFIGURED = object()


def read_download_token(token: str, *, max_age: Any = _CONFIGURED) -> str:
    """Return the grant key a download token carries; raise on bad or expired ones.

    ``max_age=None`` reads an expired but genuine token (to point its holder
    back at the offer); by default the configured link lifetime applies.
    """
    if max_age is _CONFIGURED:
        max_age = leadgen_settings.DOWNLOAD_LINK_MAX_AGE
    # ``max_age``: seconds, or None to read an expired token.
    signer = signing.TimestampSigner(salt=DOWNLOAD_SALT)
    try:
        return signer.unsign(token, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise ExpiredToken from exc
    except signing.BadSignature as exc:
        raise InvalidToken from exc


@dataclass(frozen=True)
class PreferencesToken:
    """Whose preferences a link opens, and for an unsubscribe link, which purpose."""

    lead_id: int
    nonce: str
    purpose_id: int | None = None


def make_preferences_token(
    lead_id: int, nonce: str, purpose_id: int | None = None
) -> str:
    """A link for the person's own emails: no login, no expiry (an unsubscribe
    link must keep working), revoked by changing the lead's nonce."""
    payload: dict[str, object] = {"l": lead_id, "n": nonce}
    if purpose_id is not None:
        payload["p"] = purpose_id
    return signing.dumps(payload, salt=PREFERENCES_SALT)


def read_preferences_token(token: str) -> PreferencesToken:
    """Check a preferences token's signature; raise ``InvalidToken``. The
    caller compares the nonce with the lead's current one."""
    try:
        payload = signing.loads(token, salt=PREFERENCES_SALT)
        purpose = payload.get("p")
        return PreferencesToken(
            lead_id=int(payload["l"]),
            nonce=str(payload["n"]),
            purpose_id=None if purpose is None else int(purpose),
        )
    except (
        signing.BadSignature,
        KeyError,
        TypeError,
        ValueError,
        AttributeError,
    ) as exc:
        raise InvalidToken from exc


@dataclass(frozen=True)
class MyDataAccessToken:
    """Whose data an API bearer token opens, through which verified link."""

    access_request_id: int
    lead_id: int


def make_my_data_access_token(access_request_id: int, lead_id: int) -> str:
    """The bearer token of the "my data" API, issued when an emailed link is
    verified: ids only, valid for ``MY_DATA_SESSION_AGE``, and only while its
    ``AccessRequest`` stands (ending the access or erasing revokes it)."""
    return signing.dumps(
        {"a": access_request_id, "l": lead_id}, salt=MY_DATA_ACCESS_SALT
    )


def read_my_data_access_token(token: str) -> MyDataAccessToken:
    """Check a "my data" bearer token; raise ``ExpiredToken`` or ``InvalidToken``.
    The caller checks that its ``AccessRequest`` still stands."""
    try:
        payload = signing.loads(
            token,
            salt=MY_DATA_ACCESS_SALT,
            max_age=leadgen_settings.MY_DATA_SESSION_AGE,
        )
    except signing.SignatureExpired as exc:
        raise ExpiredToken from exc
    except signing.BadSignature as exc:
        raise InvalidToken from exc
    try:
        return MyDataAccessToken(
            access_request_id=int(payload["a"]), lead_id=int(payload["l"])
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidToken from exc


@dataclass(frozen=True)
class KnownVisitorToken:
    """Who a profiling link or a remember-me cookie names: a lead, the key of
    their email links (``preferences_nonce``: a new one revokes them all)
    and, for a cookie, the consent purpose it rests on."""

    lead_id: int
    nonce: str
    purpose_id: int | None = None


def make_profile_link_token(lead_id: int, nonce: str) -> str:
    """The token a profiling link carries: ids and the link key, no personal
    data; valid for ``PROFILING["LINK_MAX_AGE"]``."""
    return signing.dumps({"l": lead_id, "n": nonce}, salt=PROFILE_LINK_SALT)


def make_remember_token(lead_id: int, nonce: str, purpose_id: int) -> str:
    """The remember-me cookie's value: bound to the lead and to the consent
    purpose it rests on; valid for ``PROFILING["REMEMBER_MAX_AGE"]``."""
    return signing.dumps(
        {"l": lead_id, "n": nonce, "p": purpose_id}, salt=REMEMBER_SALT
    )


def read_known_visitor_token(token: str, *, cookie: bool) -> KnownVisitorToken:
    """Check a profiling link token (``cookie=False``) or a remember-me cookie
    value; raise ``ExpiredToken`` or ``InvalidToken``. The caller checks the
    nonce against the lead's and, for a cookie, that the consent stands."""
    salt, key = (
        (REMEMBER_SALT, "REMEMBER_MAX_AGE")
        if cookie
        else (PROFILE_LINK_SALT, "LINK_MAX_AGE")
    )
    try:
        payload = signing.loads(
            token, salt=salt, max_age=leadgen_settings.profiling[key]
        )
    except signing.SignatureExpired as exc:
        raise ExpiredToken from exc
    except signing.BadSignature as exc:
        raise InvalidToken from exc
    try:
        purpose = payload.get("p")
        parsed = KnownVisitorToken(
            lead_id=int(payload["l"]),
            nonce=str(payload["n"]),
            purpose_id=None if purpose is None else int(purpose),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidToken from exc
    if cookie and parsed.purpose_id is None:
        raise InvalidToken
    return parsed
