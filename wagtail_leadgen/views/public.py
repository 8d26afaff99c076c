"""Visitor-facing views outside the page tree: the gated download."""

from __future__ import annotations

import logging
import os

from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from ..responses import private
from ..services.downloads import (
    DownloadUnavailable,
    grant_for_token,
    offer_url_for,
    spend_download,
)
from ..tokens import ExpiredToken, InvalidToken

logger = logging.getLogger("wagtail_leadgen.security")


_ERRORS = {
    "expired": (
        410,
        _("This download link has expired"),
        _(
            "Download links work for a limited time. Fill in the form again to get a new one."
        ),
    ),
    "invalid": (
        400,
        _("This download link is not valid"),
        _(
            "The link may have been cut or changed. Copy it again in full, or fill in the form again."
        ),
    ),
    "unavailable": (
        410,
        _("This download link can no longer be used"),
        _(
            "It has been used too many times or withdrawn. Fill in the form again to get a new one."
        ),
    ),
}


def _error(request: HttpRequest, kind: str, token: str) -> HttpResponse:
    """An error page that leads back to the offer, where a new link can be had."""
    status, title, message = _ERRORS[kind]
    context = {"title": title, "message": message, "back_url": offer_url_for(token)}
    response = render(
        request, "wagtail_leadgen/errors/download.html", context, status=status
    )
    return private(response)


def safe_filename(document) -> str:
    """An ASCII file name that cannot smuggle paths or header syntax."""
    base, ext = os.path.splitext(os.path.basename(document.file.name))
    stem = slugify(document.title) or slugify(base) or "download"
    ext = "".join(char for char in ext.lower() if char.isalnum() or char == ".")[:10]
    return f"{stem[:80]}{ext}"


@require_safe
def download(request: HttpRequest, token: str) -> HttpResponseBase:
    """Serve a gated document for a valid link; HEAD answers without spending a use."""
    try:
        grant = grant_for_token(token)
    except ExpiredToken:
        return _error(request, "expired", token)
    except InvalidToken:
        logger.warning("Download refused: invalid token")
        return _error(request, "invalid", token)
    except DownloadUnavailable:
        return _error(request, "unavailable", token)

    if request.method == "GET":
        try:
            spend_download(grant)
        except DownloadUnavailable:
            return _error(request, "unavailable", token)
    document = grant.document
    response = FileResponse(
        document.file.open("rb"), as_attachment=True, filename=safe_filename(document)
    )
    response["X-Content-Type-Options"] = "nosniff"
    return private(response)
