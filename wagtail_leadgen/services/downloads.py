"""Gated downloads (R2): grants bound to a submission, spent through signed links."""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from ..conf import leadgen_settings
from ..models.leads import DownloadGrant, Submission
from ..tokens import InvalidToken, make_download_token, read_download_token


class DownloadUnavailable(Exception):
    """A genuine link that no longer gives the file (used up or revoked)."""


def grant_download(submission: Submission, document) -> DownloadGrant:
    return DownloadGrant.objects.create(
        submission=submission,
        document=document,
        max_uses=leadgen_settings.DOWNLOAD_LINK_MAX_USES,
    )


def download_token(grant: DownloadGrant) -> str:
    return make_download_token(grant.key.hex)


def grant_for_token(token: str) -> DownloadGrant:
    """The grant a link points at, without spending a use.

    Raises ``ExpiredToken``/``InvalidToken`` for bad links and
    ``DownloadUnavailable`` for a grant that is used up or revoked.
    """
    key = read_download_token(token)
    grant = (
        DownloadGrant.objects.select_related("document", "submission")
        .filter(key=_as_uuid(key))
        .first()
    )
    if grant is None:
        # Signed by us but its grant is gone: the submission was erased.
        raise DownloadUnavailable
    if grant.revoked_at is not None or grant.uses >= grant.max_uses:
        raise DownloadUnavailable
    return grant


def offer_url_for(token: str) -> str:
    """Where a visitor with a spent or expired link can ask again: the offer page.

    Falls back to the site root for links that are not ours at all.
    """
    try:
        key = read_download_token(token, max_age=None)
        grant = DownloadGrant.objects.select_related("submission__page").get(
            key=_as_uuid(key)
        )
    except (InvalidToken, DownloadGrant.DoesNotExist):
        return "/"
    page = grant.submission.page
    return (page.url if page is not None and page.live else None) or "/"


def spend_download(grant: DownloadGrant) -> None:
    """Count one use atomically; two concurrent requests cannot both take the last."""
    updated = DownloadGrant.objects.filter(
        pk=grant.pk, revoked_at__isnull=True, uses__lt=F("max_uses")
    ).update(uses=F("uses") + 1)
    if not updated:
        raise DownloadUnavailable


def revoke_downloads(submission: Submission) -> int:
    return submission.download_grants.filter(revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def _as_uuid(key: str) -> str:
    if len(key) != 32 or any(char not in "0123456789abcdef" for char in key):
        raise InvalidToken
    return key
