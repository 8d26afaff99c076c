"""System checks for where the site runs: gated files reachable as plain media
files (on every machine), and hazards that are harmless on a developer's
machine but wrong in production (``manage.py check --deploy``).

Kept apart from ``checks.py``, which checks the plugin's own settings and
content: these look at the site around it (URLs, cache, storage).
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from django.urls import Resolver404, ResolverMatch, resolve
from django.views.static import serve
from wagtail.documents import get_document_model
from wagtail.models import Site

from .conf import SETTINGS_NAME, leadgen_settings
from .models.publishing import site_for_page
from .models.settings import LeadgenSiteSettings
from .services.kpis import lead_page_models

# A file name no site has: only its folder matters to the URL patterns.
_PROBE_NAME = "wagtail-leadgen-probe.pdf"
# Where Wagtail writes uploaded images and their renditions under MEDIA_ROOT.
_IMAGE_FOLDERS = ("original_images", "images")


def _resolve(path: str) -> ResolverMatch | None:
    try:
        return resolve(path)
    except Resolver404:
        return None


def serves_files_from_disk(path: str, file: Path | None = None) -> bool:
    """Whether this site answers ``path`` with a view handing out files from a
    folder (Django's ``static.serve``, or any view given a ``document_root``);
    with ``file``, only when that folder is where ``file`` lies."""
    match = _resolve(path)
    if match is None:
        return False
    root = (match.kwargs or {}).get("document_root")
    if root is None:
        return match.func is serve
    if file is None:
        return True
    served = Path(root) / str(match.kwargs.get("path", ""))
    return os.path.normpath(served) == os.path.normpath(file)


def document_probe() -> tuple[str, Path | None] | None:
    """The URL path of a document file in the documents' storage and where it
    lies on disk (None: not on this machine's disk), when that storage hands
    out URLs on this site (a path, not another host)."""
    field: Any = get_document_model()._meta.get_field("file")
    folder = field.upload_to if isinstance(field.upload_to, str) else "documents"
    name = f"{folder.strip('/')}/{_PROBE_NAME}"
    try:
        url = field.storage.url(name)
    except (ValueError, NotImplementedError):  # a storage without URLs
        return None
    if not url.startswith("/") or url.startswith("//"):
        return None
    try:
        return url, Path(field.storage.path(name))
    except NotImplementedError:  # not a local folder: any file-serving route is suspect
        return url, None


@register(Tags.security)
def check_documents_not_served_as_media(app_configs, **kwargs) -> list[CheckMessage]:
    """A media route over the documents' folder hands out every gated file
    without the form, whatever the collection's privacy: refused on every
    machine, since DEBUG is where the stock ``static()`` route is on."""
    probe = document_probe()
    if probe is None or not serves_files_from_disk(*probe):
        return []
    folder = probe[0].rsplit("/", 1)[0] + "/"
    return [
        Error(
            f"{folder} is served straight from disk (django.views.static.serve or a "
            "view with a document_root): gated documents there can be downloaded "
            "without the form.",
            hint="Serve only the image folders under MEDIA_URL (original_images/, "
            "images/), or keep documents in a private storage that no URL reaches; "
            "see the plugin's docs, 'Gated files'.",
            id="wagtail_leadgen.E020",
        )
    ]


@register(Tags.security, deploy=True)
def check_shared_cache_for_rate_limit(app_configs, **kwargs) -> list[CheckMessage]:
    """The rate limit counts in the default cache: a per-process cache gives
    each worker process its own count, and the dummy cache counts nothing."""
    if not (
        leadgen_settings.RATE_LIMIT_SUBMISSIONS or leadgen_settings.COUNT_PAGE_VIEWS
    ):
        return []
    cache = caches[DEFAULT_CACHE_ALIAS]
    if not isinstance(cache, LocMemCache | DummyCache):
        return []
    return [
        Warning(
            f"The default cache is {type(cache).__name__}: the lead forms' rate "
            f"limit ({SETTINGS_NAME}['RATE_LIMIT_SUBMISSIONS']) and the page view "
            "counters are kept per process, or not at all, so the limit does not "
            "hold across workers and views counted by another process may be lost.",
            hint="Configure a shared cache in CACHES['default']: Redis or "
            "Memcached (Django's database cache holds the rate limit but writes "
            "to the database on every counted view).",
            id="wagtail_leadgen.W020",
        )
    ]


@register(Tags.security, deploy=True)
def check_media_not_served_by_django(app_configs, **kwargs) -> list[CheckMessage]:
    """In production the web server or the storage serves uploads; Django's
    ``static.serve`` is for development and checks nothing."""
    media_url = settings.MEDIA_URL or ""
    if not media_url.startswith("/") or media_url.startswith("//"):
        return []
    served = [
        f"{media_url}{folder}/"
        for folder in _IMAGE_FOLDERS
        if serves_files_from_disk(f"{media_url}{folder}/{_PROBE_NAME}")
    ]
    if not served:
        return []
    return [
        Warning(
            "Uploaded files are served by Django (" + ", ".join(served) + "): "
            "django.views.static.serve is not meant for production.",
            hint="Serve MEDIA_ROOT's image folders from the web server or the "
            "storage, and add the media route only when DEBUG is on.",
            id="wagtail_leadgen.W021",
        )
    ]


def sites_without_controller() -> list[Site]:
    """Sites with at least one live lead page whose data controller settings
    are incomplete (their notices would name no one)."""
    sites: dict[int, Site] = {}
    for model in lead_page_models():
        for page in model.objects.live():
            site = site_for_page(page)
            if site is not None and site.pk not in sites:
                sites[site.pk] = site
    return [
        site
        for site in sites.values()
        if not LeadgenSiteSettings.for_site(site).is_complete
    ]


@register(Tags.database, deploy=True)
def check_live_sites_name_their_controller(
    app_configs, databases=None, **kwargs
) -> list[CheckMessage]:
    """Run by ``manage.py check --deploy --database default``: filling in the
    data controller is an install step, not something a first lead reveals."""
    if not databases:
        return []
    try:
        sites = sites_without_controller()
    except DatabaseError:  # not migrated yet (``migrate`` runs this check first)
        return []
    return [
        Warning(
            f"Site {site.pk} ({site.hostname}) has live lead pages but no data "
            "controller name and contact email: their information notices name "
            "no one.",
            hint="Fill in Settings → Lead generation: data controller for this site.",
            obj=site,
            id="wagtail_leadgen.W022",
        )
        for site in sites
    ]


def is_loopback_host(hostname: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1: an address only this machine reaches."""
    host = hostname.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@register(Tags.database, deploy=True)
def check_links_have_a_public_root(
    app_configs, databases=None, **kwargs
) -> list[CheckMessage]:
    """Run by ``manage.py check --deploy --database default``: links in emails
    and share links start with ``SITE_URL``, else the Site's root URL, which a
    fresh project leaves at localhost."""
    if not databases:
        return []
    try:
        if leadgen_settings.site_url:
            return []
    except ImproperlyConfigured:
        return []  # reported by checks.check_editorial_settings (E007)
    try:
        sites = [site for site in Site.objects.all() if is_loopback_host(site.hostname)]
    except DatabaseError:  # not migrated yet (``migrate`` runs this check first)
        return []
    return [
        Warning(
            f"Site {site.pk} has the root URL {site.root_url} and "
            f"{SETTINGS_NAME}['SITE_URL'] is not set: links in emails and share "
            "links would point to this machine.",
            hint=f"Set {SETTINGS_NAME}['SITE_URL'] to the site's public root "
            "(https://www.example.com), or correct the Site's hostname and port "
            "(Settings → Sites).",
            obj=site,
            id="wagtail_leadgen.W023",
        )
        for site in sites
    ]


@register(Tags.security, deploy=True)
def check_api_docs(app_configs, **kwargs) -> list[CheckMessage]:
    """The JSON API's interactive docs and OpenAPI document map every
    endpoint: fine while developing, a decision to make in production."""
    try:
        docs = leadgen_settings.api["DOCS"]
    except ImproperlyConfigured:
        return []  # reported by check_editorial_settings (E007)
    if docs and not settings.DEBUG:
        return [
            Warning(
                "The JSON API's docs (docs/ and openapi.json) are on while DEBUG "
                "is off.",
                hint=f'Set {SETTINGS_NAME}["API"] = {{"DOCS": False}} in production, '
                "or keep them on knowingly.",
                id="wagtail_leadgen.W040",
            )
        ]
    return []
