"""What a lead form shows, built once per revision and kept in the process.

A landing page's form class, its purposes and their wording, its request
processing, the site's controller settings and the information notice change
only when an editor publishes or saves something. Building them on every view
costs queries and CPU, so each process keeps them in a small bounded cache
(``FormCache``) keyed by the page and its live revision, the site and the
language.

Nothing stale may ever be shown, and a process cannot hear of another
process's signals. So every entry also carries the **content stamp**: one row
(``ContentStamp``) whose random token is replaced, in the same transaction,
whenever a page, purpose, request processing, site or site setting is saved,
deleted, moved or re-linked (``connect_receivers``). Each request reads the
token once (one primary-key query) before anything it caches; when the token
differs from the one the process's entries were built under, the process drops
them all. A change committed after the token was read is therefore seen by
the next request at the latest. A random token rather than a counter: a
rolled-back transaction (a test) can never bring back a token that already
named other content.

Why a process-local cache and not Django's cache: the built form class and
purposes are Python objects (a class cannot be pickled), and Django's default
cache is per process anyway; the one fact every process must share, the
stamp, lives in the database, so it holds whatever cache a site configures.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.conf import settings
from django.core.signals import setting_changed
from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest
from wagtail.models import PageViewRestriction, Revision, Site, get_page_models
from wagtail.signals import post_page_move

from ..conf_defaults import SETTINGS_NAME
from .consent import ConsentPurpose
from .processing import RequestProcessing
from .settings import LeadgenSiteSettings

T = TypeVar("T")


#: How many built forms, notices and settings a process keeps (least
#: recently used first out): a site with more lead pages than this rebuilds
#: the rarely seen ones.
MAX_ENTRIES = 512

_STAMP_PK = 1
_REQUEST_ATTRIBUTE = "_leadgen_content_stamp"


class ContentStamp(models.Model):
    """One row: a token replaced whenever content a lead form shows changes."""

    # Internal: never shown in the admin, so its names are not translated.
    token = models.CharField("token", max_length=32)

    class Meta:
        verbose_name = "content stamp"
        verbose_name_plural = "content stamps"

    def __str__(self) -> str:
        return self.token


def read_stamp() -> str | None:
    """The current token (one query); None when the row is missing."""
    return (
        ContentStamp.objects.filter(pk=_STAMP_PK)
        .values_list("token", flat=True)
        .first()
    )


def request_stamp(request: HttpRequest | None) -> str | None:
    """The token, read once per request (None: no request, nothing cached)."""
    if request is None:
        return None
    if not hasattr(request, _REQUEST_ATTRIBUTE):
        setattr(request, _REQUEST_ATTRIBUTE, read_stamp())
    return getattr(request, _REQUEST_ATTRIBUTE)


def bump_stamp() -> None:
    """Replace the token: every process rebuilds what it cached."""
    token = uuid.uuid4().hex
    if not ContentStamp.objects.filter(pk=_STAMP_PK).update(token=token):
        ContentStamp.objects.update_or_create(pk=_STAMP_PK, defaults={"token": token})
    form_cache.clear()


class FormCache:
    """A bounded, thread-safe, least-recently-used map valid for one stamp."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._stamp: str | None = None
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_build(
        self, stamp: str | None, key: Hashable, build: Callable[[], T]
    ) -> T:
        """The value cached under ``key`` for ``stamp``, else ``build()``
        (kept when the stamp is still current). No stamp: never cached."""
        if stamp is None:
            return build()
        with self._lock:
            if stamp != self._stamp:
                self._entries.clear()
                self._stamp = stamp
            elif key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        value = build()
        with self._lock:
            if stamp == self._stamp:
                self._entries[key] = value
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._stamp = None

    def __len__(self) -> int:
        return len(self._entries)


form_cache = FormCache()


_settings_key: str | None = None


def settings_key() -> str:
    """The plugin's settings as they are now, as part of every key: what is
    built depends on them (destinations, scoring, lengths...). Recomputed
    when ``override_settings`` changes them (tests), so that switching back
    finds what was built under them."""
    global _settings_key
    if _settings_key is None:
        _settings_key = repr(getattr(settings, SETTINGS_NAME, None))
    return _settings_key


def cached(request: HttpRequest | None, key: Hashable, build: Callable[[], T]) -> T:
    """``build()``, cached for this request's content stamp under ``key``.

    Without a request, or in a preview (the page is a draft there), nothing
    is cached."""
    if request is None or getattr(request, "is_preview", False):
        return build()
    return form_cache.get_or_build(request_stamp(request), (settings_key(), key), build)


# -- What changes the stamp -----------------------------------------------------
# Receivers are connected to the watched models only: a listener on every
# model would also listen to a lead's rows, which erasure deletes in bulk,
# without delete signals (it refuses models with listeners).
def _on_save_or_delete(sender: Any, instance: Any = None, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    if isinstance(instance, Revision) and not _is_form_content_revision(instance):
        return  # a page draft changes nothing served (the page row does)
    if kwargs.get("created") and _is_default_settings(instance):
        return  # what the first view of a site creates: shows what no row showed
    bump_stamp()


def _is_default_settings(instance: Any) -> bool:
    """A site settings row with every field at its default."""
    if not isinstance(instance, LeadgenSiteSettings):
        return False
    return all(
        field.primary_key
        or field.name == "site"
        or getattr(instance, field.attname) == field.get_default()
        for field in instance._meta.concrete_fields
    )


def _is_form_content_revision(revision: Any) -> bool:
    model = revision.base_content_type.model_class()
    return model is not None and issubclass(model, ConsentPurpose | RequestProcessing)


def _on_m2m_changed(sender: Any, action: str, **kwargs: Any) -> None:
    if action.startswith("post_"):
        bump_stamp()


def _on_page_move(**kwargs: Any) -> None:
    bump_stamp()


def _on_setting_changed(setting: str = "", **kwargs: Any) -> None:
    global _settings_key
    _settings_key = None
    if setting != SETTINGS_NAME:  # URLs, languages, templates...: start over
        form_cache.clear()


def watched_models() -> list[type[models.Model]]:
    """The models whose saves and deletes replace the stamp: every page type
    (a lead page's fields, a thank-you or privacy page's URL; publishing,
    unpublishing and deleting save or delete the page row, moving sends
    ``post_page_move``), sites, the pages' view restrictions (what the form
    endpoint must enforce, ``views/forms.py``), purposes, request
    processings, their revisions and the site settings."""
    return [
        *get_page_models(),
        Site,
        PageViewRestriction,
        Revision,
        ConsentPurpose,
        RequestProcessing,
        LeadgenSiteSettings,
    ]


def purpose_links() -> list[type[models.Model]]:
    """The through models linking pages to the purposes their form shows,
    and view restrictions to the groups they admit."""
    return [
        PageViewRestriction.groups.through,
        *(
            field.remote_field.through
            for model in get_page_models()
            for field in model._meta.local_many_to_many
            if field.related_model is ConsentPurpose
        ),
    ]


def connect_receivers() -> None:
    """Called from ``AppConfig.ready``."""
    for model in watched_models():
        uid = f"leadgen-stamp-{model._meta.label_lower}"
        post_save.connect(_on_save_or_delete, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(
            _on_save_or_delete, sender=model, dispatch_uid=f"{uid}-delete"
        )
    for through in purpose_links():
        m2m_changed.connect(
            _on_m2m_changed,
            sender=through,
            dispatch_uid=f"leadgen-stamp-{through._meta.label_lower}",
        )
    post_page_move.connect(_on_page_move, dispatch_uid="leadgen-stamp-move")
    setting_changed.connect(_on_setting_changed, dispatch_uid="leadgen-stamp-settings")
