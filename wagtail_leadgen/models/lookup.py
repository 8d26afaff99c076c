"""Finding a live lead page by id, once per content stamp: what the form
endpoint and the JSON API serve and post to."""

from __future__ import annotations

import copy
from typing import Any

import swapper
from django.http import HttpRequest

from .freshness import cached
from .mixins import LeadCaptureMixin


class _NotALeadPage(Exception):
    pass


def live_lead_page(
    request: HttpRequest, page_id: int, *, public_only: bool = False
) -> Any | None:
    """The live lead page ``page_id`` (specific), a copy of this request's
    own (serving may set attributes on it); None when there is none.

    Kept per content stamp, which every page save, move or deletion and every
    view restriction change replaces, so no answer goes stale, with its view
    restrictions (``get_view_restrictions``, which Wagtail's privacy hook
    reads, answers from memory); a missing page
    is never kept, so made-up ids cannot fill the cache. ``public_only``: not
    behind a view restriction on itself or an ancestor (what anonymous API
    clients may see)."""

    def build() -> Any:
        pages = swapper.load_model("wagtailcore", "Page").objects.live()
        if public_only:
            pages = pages.public()
        page = pages.filter(pk=page_id).first()
        page = page.specific if page is not None else None
        if not isinstance(page, LeadCaptureMixin):
            raise _NotALeadPage
        # What Wagtail's privacy hook reads on every post (the ancestors, for
        # aliases, then their restrictions: two queries), read once: every
        # restriction change, page save and move replaces the stamp.
        restrictions = list(page.get_view_restrictions())
        page.get_view_restrictions = lambda: restrictions
        return page

    try:
        page = cached(request, ("lead-page", page_id, public_only), build)
    except _NotALeadPage:
        return None
    return copy.copy(page)
