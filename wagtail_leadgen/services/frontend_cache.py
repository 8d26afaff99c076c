"""Purging lead pages from the site's CDN or caching proxy when what they show changes.

A lead page a shared cache holds (``SHARED_CACHE_MAX_AGE``) shows more than
its own fields: the consent purposes' wording, the request processing's
summary and the controller's notice from ``LeadgenSiteSettings``. Wagtail's
``wagtail.contrib.frontend_cache`` already purges a page when it is published
or unpublished; this adds the pages that show a purpose or a processing when
that is published or unpublished, and every lead page of a site when its
settings are saved.

Nothing happens unless the site installed ``wagtail.contrib.frontend_cache``
(and configured ``WAGTAILFRONTENDCACHE``): without it, changes reach visitors
once ``SHARED_CACHE_MAX_AGE`` has passed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.db.models.signals import post_save
from wagtail.signals import published, unpublished

from ..models.consent import ConsentPurpose
from ..models.mixins import lead_capture_page_models
from ..models.processing import RequestProcessing
from ..models.settings import LeadgenSiteSettings

logger = logging.getLogger("wagtail_leadgen.cache")

FRONTEND_CACHE_APP = "wagtail.contrib.frontend_cache"


def frontend_cache_installed() -> bool:
    return apps.is_installed(FRONTEND_CACHE_APP)


def purge_pages(pages: Iterable[Any]) -> int:
    """Purge these pages from the frontend cache in one batch; how many."""
    if not frontend_cache_installed():
        return 0
    # Imported here: the app is optional, and its module needs it installed.
    from wagtail.contrib.frontend_cache.utils import PurgeBatch

    pages = list(pages)
    if pages:
        batch = PurgeBatch()
        batch.add_pages(pages)
        batch.purge()
    return len(pages)


def _live_lead_pages(**lookup: Any) -> list[Any]:
    return [
        page
        for model in lead_capture_page_models()
        if not model._meta.abstract
        for page in model.objects.live().filter(**lookup)
    ]


def pages_showing(obj: ConsentPurpose | RequestProcessing) -> list[Any]:
    """The live lead pages whose form shows this purpose or processing."""
    if isinstance(obj, ConsentPurpose):
        return _live_lead_pages(consent_purposes=obj)
    return _live_lead_pages(request_processing=obj)


def pages_of_site(site: Any) -> list[Any]:
    """The live lead pages of a Wagtail site (its notice is on all of them)."""
    root = site.root_page
    return _live_lead_pages(path__startswith=root.path, depth__gte=root.depth)


def _wording_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    if frontend_cache_installed():
        purge_pages(pages_showing(instance))


def _site_settings_changed(
    sender: Any, instance: LeadgenSiteSettings, **kwargs: Any
) -> None:
    if frontend_cache_installed():
        purge_pages(pages_of_site(instance.site))


def connect_receivers() -> None:
    """Called once from ``AppConfig.ready()``."""
    for model in (ConsentPurpose, RequestProcessing):
        published.connect(_wording_changed, sender=model)
        unpublished.connect(_wording_changed, sender=model)
    post_save.connect(_site_settings_changed, sender=LeadgenSiteSettings)
