"""Staff: download everything stored about one person, from the lead's page (R14).

For a request the person made by post or email. Needs ``export_lead`` (a
permission of its own, R19); each download is written to Wagtail's audit log
(the lead's id, never the address). The file is streamed and kept by no cache.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from ..audit import log_subject_exported
from ..models import Lead
from ..services.subject import FILE_FORMATS, subject_file


@require_GET
def export_person(
    request: HttpRequest, pk: int, file_format: str
) -> StreamingHttpResponse:
    """The person's data as JSON or CSV, named by lead id."""
    if not request.user.has_perm("wagtail_leadgen.export_lead"):
        raise PermissionDenied
    if file_format not in FILE_FORMATS:
        raise Http404
    lead = get_object_or_404(Lead, pk=pk)
    log_subject_exported(lead, request.user, export_format=file_format, channel="admin")
    return subject_file(lead, file_format, filename=f"lead-{lead.pk}-personal-data")
