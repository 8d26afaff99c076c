"""CRM backends by alias, configured like Django's CACHES or TASKS.

``WAGTAIL_LEADGEN["CRM_BACKENDS"] = {"sales": {"BACKEND": "...", "OPTIONS": {...}}}``.
Backends are built lazily and dropped on ``setting_changed`` so
``override_settings`` works; ``manage.py check`` builds them all at start-up
so a misconfiguration is reported there, not at the first submission.
"""

from __future__ import annotations

from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from ..conf import SETTINGS_NAME, leadgen_settings
from .base import SETTING_PATH, BaseCRMBackend, CRMConfigurationError
from .destination import DestinationConfigError, parse_receives, parse_recipient

_backends: dict[str, BaseCRMBackend] = {}
_VALID_KEYS = {"BACKEND", "OPTIONS", "RECEIVES", "RECIPIENT"}


def build_backend(alias: str, config: Any) -> BaseCRMBackend:
    """Build one backend from its settings entry, with errors naming the setting."""
    path = f'{SETTING_PATH}["{alias}"]'
    if not isinstance(config, dict):
        raise CRMConfigurationError(f"{path} must be a dict with BACKEND and OPTIONS.")
    unknown = sorted(set(config) - _VALID_KEYS)
    if unknown:
        raise CRMConfigurationError(
            f'Unknown key {path}["{unknown[0]}"]; valid keys: '
            + ", ".join(sorted(_VALID_KEYS))
            + "."
        )
    dotted = config.get("BACKEND")
    if not dotted:
        raise CRMConfigurationError(f'{path}["BACKEND"] is required.')
    try:
        backend_class = import_string(dotted)
    except ImportError as exc:
        raise CRMConfigurationError(
            f'{path}["BACKEND"] = {dotted!r} cannot be imported: {exc}'
        ) from exc
    if not (
        isinstance(backend_class, type) and issubclass(backend_class, BaseCRMBackend)
    ):
        raise CRMConfigurationError(
            f'{path}["BACKEND"] = {dotted!r} is not a BaseCRMBackend subclass.'
        )
    options = config.get("OPTIONS") or {}
    if not isinstance(options, dict):
        raise CRMConfigurationError(f'{path}["OPTIONS"] must be a dict.')
    try:
        receives = parse_receives(config.get("RECEIVES"), path)
        recipient = parse_recipient(config.get("RECIPIENT"), path)
    except DestinationConfigError as exc:
        raise CRMConfigurationError(str(exc)) from None
    backend = backend_class(alias, options)
    backend.receives, backend.recipient = receives, recipient
    return backend


def get_backend(alias: str) -> BaseCRMBackend:
    if alias not in _backends:
        configs = leadgen_settings.CRM_BACKENDS
        if alias not in configs:
            raise CRMConfigurationError(
                f'{SETTING_PATH} has no destination "{alias}"; configured: '
                + (", ".join(configs) or "none")
            )
        _backends[alias] = build_backend(alias, configs[alias])
    return _backends[alias]


@receiver(setting_changed)
def _reset_backends(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTINGS_NAME:
        _backends.clear()
