"""The site's base page model, while the models load.

Wagtail 8 lets a site swap its base page (``WAGTAIL_PAGE_MODEL``, a subclass
of ``wagtail.models.AbstractPage``); the plugin's concrete pages are built on
whichever base is configured. Code that runs once the app registry is ready
uses ``swapper.load_model("wagtailcore", "Page")`` as Wagtail does; a class
statement runs while the models load, so it needs this function instead.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

import swapper
from django.apps import apps
from django.apps.config import MODELS_MODULE_NAME
from django.core.exceptions import ImproperlyConfigured


def configured_page_model() -> Any:
    """The class named by ``WAGTAIL_PAGE_MODEL`` (Wagtail's ``Page`` by default).

    Safe to call while the models load: when the base page's app comes after
    the caller's in ``INSTALLED_APPS``, its models module is imported first,
    as a ``from myapp.models import BasePage`` would. The one thing that
    cannot work is a cycle: the module defining the base page importing
    ``wagtail_leadgen.models`` before it defines that base page.
    """
    label = swapper.get_model_name("wagtailcore", "Page")
    app_label, model_name = swapper.split(label)
    try:
        return apps.get_model(app_label, model_name, require_ready=False)
    except LookupError:
        pass
    try:
        app_config = apps.get_app_config(app_label)
    except LookupError:
        raise ImproperlyConfigured(
            f"WAGTAIL_PAGE_MODEL is {label!r}, but no app labelled {app_label!r} "
            "is in INSTALLED_APPS."
        ) from None
    module_name = f"{app_config.name}.{MODELS_MODULE_NAME}"
    module = import_module(module_name)
    try:
        return apps.get_model(app_label, model_name, require_ready=False)
    except LookupError:
        # A module still executing (partly initialised) is one that imported us.
        if getattr(getattr(module, "__spec__", None), "_initializing", False):
            hint = (
                f"{module_name} imports wagtail_leadgen.models before it defines "
                f"{model_name}: define the base page in a module that does not "
                "import wagtail_leadgen (your page types built from the plugin's "
                "mixins can live in another module, imported after it)"
            )
        else:
            hint = f"{module_name} defines no model named {model_name!r}"
        raise ImproperlyConfigured(
            f"wagtail_leadgen builds its pages on WAGTAIL_PAGE_MODEL ({label!r}), "
            f"which is not defined: {hint}."
        ) from None
