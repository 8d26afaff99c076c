"""The content hints panel of the page editor (R5, R6).

Add ``ContentHintsPanel()`` to a page type's ``content_panels`` (the plugin's
landing, e-book and thank-you pages have it after their text). It shows the
word count, reading time, readability and hints of the page, and refreshes
them while the editor types: a small script posts the unsaved form to
``views.hints`` (debounced), which answers with JSON. Without JavaScript the
panel shows the hints of the page as last saved.

Wagtail 8 has no hook to add a side panel to the page editor (the side panels
are a fixed list in the edit view), so this is a panel inside the form.

This is the admin layer: it imports the hints services, never the reverse.
Which fields are analysed is declared on the page class
(``content_hint_fields``), where the services read it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import Panel
from wagtail.admin.userbar import ContentCheckerItem
from wagtail.models import AbstractPage, get_page_models

from .services.hints import (
    POOR,
    WARNING,
    checks_panel_rules,
    get_targets,
    leadgen_hints,
    page_hints,
)

logger = logging.getLogger(__name__)

#: How long the script waits after the last keystroke before asking for hints.
DEBOUNCE_MS = 800


class ContentHintsPanel(Panel):
    """Live content, readability and lead-form hints.

    The fields analysed are the page class's ``content_hint_fields`` (by
    default every rich text, StreamField and long text field of the page,
    except the lead form's own).

    :param content_fields: the older way to name those fields, kept for
        compatibility: at start-up it becomes the page class's
        ``content_hint_fields`` unless the class declares its own (see
        ``adopt_panel_content_fields``).
    """

    def __init__(
        self, content_fields: list[str] | tuple[str, ...] | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("heading", _("Content hints"))
        kwargs.setdefault("icon", "glasses")
        super().__init__(**kwargs)
        self.content_fields = tuple(content_fields or ())

    def clone_kwargs(self) -> dict[str, Any]:
        kwargs = super().clone_kwargs()
        kwargs["content_fields"] = self.content_fields
        return kwargs

    @property
    def clean_name(self) -> str:
        return super().clean_name or "content_hints"

    class BoundPanel(Panel.BoundPanel):
        template_name = "wagtail_leadgen/hints/panel.html"

        class Media:
            js = ["wagtail_leadgen/hints.js"]
            css = {"all": ["wagtail_leadgen/hints.css"]}

        def is_shown(self) -> bool:
            return isinstance(self.instance, AbstractPage)

        def hints_url(self) -> str:
            """The endpoint that analyses the unsaved form of this page."""
            try:
                if self.instance.pk:
                    return reverse(
                        "wagtail_leadgen_hints:page", args=[self.instance.pk]
                    )
                match = getattr(self.request, "resolver_match", None)
                kwargs = match.kwargs if match else {}
                return reverse(
                    "wagtail_leadgen_hints:new",
                    args=[
                        kwargs["content_type_app_name"],
                        kwargs["content_type_model_name"],
                        kwargs["parent_page_id"],
                    ],
                )
            except (KeyError, NoReverseMatch):
                return ""

        def get_context_data(self, parent_context: Any = None) -> dict[str, Any]:
            context = super().get_context_data(parent_context)
            context["hints_url"] = self.hints_url()
            context["debounce_ms"] = DEBOUNCE_MS
            try:
                context["result"] = page_hints(self.instance).as_dict()
            except Exception:  # the editor must open even if the hints fail
                logger.exception("Content hints failed for %r", self.instance)
                context["result"] = None
            return context


def _declared_panels(model: type) -> Iterator[Any]:
    """The panels a page model declares, nested ones included, in order.

    Read from ``edit_handler`` or the ``*_panels`` lists the way Wagtail
    builds the editor, but without building (binding) it, so that this is
    safe at start-up and cannot fail on a model whose panels do not bind.
    """
    if hasattr(model, "edit_handler"):
        roots = [model.edit_handler]
    else:
        roots = [
            *getattr(model, "content_panels", ()),
            *getattr(model, "promote_panels", ()),
            *getattr(model, "settings_panels", ()),
        ]
    stack = list(reversed(roots))
    while stack:
        panel = stack.pop()
        yield panel
        stack.extend(reversed(getattr(panel, "children", ())))


def find_hints_panel(model: type) -> ContentHintsPanel | None:
    """The ``ContentHintsPanel`` in a page model's editor, if it has one."""
    return next(
        (
            panel
            for panel in _declared_panels(model)
            if isinstance(panel, ContentHintsPanel)
        ),
        None,
    )


def adopt_panel_content_fields() -> None:
    """Turn ``ContentHintsPanel(content_fields=[...])`` into ``content_hint_fields``.

    The services read the page class's ``content_hint_fields`` only, since
    they never import this admin module. Sites that named the fields on the
    panel keep working: called once from ``AppConfig.ready()``, this copies
    them to the page class, unless the class declares ``content_hint_fields``
    itself (the declaration wins). Subclasses inherit the attribute like any
    other class attribute.
    """
    for model in get_page_models():
        if "content_hint_fields" in vars(model):
            continue
        panel = find_hints_panel(model)
        if panel is not None and panel.content_fields:
            model.content_hint_fields = list(panel.content_fields)


# -- Wagtail's Checks panel -------------------------------------------------------------
#: Selector that matches no element: the rule of a check that passes stays inapplicable.
INACTIVE_SELECTOR = "wagtail-leadgen-inactive"
#: An Axe check that always fails (no element matches its selector). Axe's own
#: ``has-descendant`` evaluation is named, so no script is sent as a string.
FAILING_CHECK = {
    "id": "leadgen-needs-attention",
    "evaluate": "has-descendant-evaluate",
    "options": {"selector": INACTIVE_SELECTOR},
}


def checks_rule_id(hint_id: str) -> str:
    return f"leadgen-{hint_id}"


def add_leadgen_checks(request: Any, items: list, page: Any) -> None:
    """Add the lead-generation checks to the content checker (Axe) items.

    The rules are computed on the server, from the page being rendered: in the
    editor's preview that is the unsaved page, so Wagtail's Checks panel
    lists the lead-generation problems of what the editor is writing. Each
    check is an Axe rule on ``body`` that always fails while its problem is
    present, and that matches nothing otherwise; its name and help text come
    from ``axe_messages``. Every rule is always defined, so that the editor's
    configuration (``runOnly``, messages) and the preview's agree.

    This only works on pages whose template renders ``{% wagtailuserbar %}``:
    that is what runs Axe inside the preview.
    """
    checkers = [item for item in items if isinstance(item, ContentCheckerItem)]
    if not checkers:
        return
    panel_rules = checks_panel_rules()
    panel_ids = {rule.id for rule in panel_rules}
    active: dict[str, str] = {}
    if isinstance(page, AbstractPage):
        try:
            hints = leadgen_hints(page, get_targets(page))
        except Exception:  # a failing check must never break the userbar
            logger.exception("Lead-generation checks failed for %r", page)
        else:
            for hint in hints:
                relevant = hint.id in panel_ids and hint.level in (
                    WARNING,
                    POOR,
                )
                if relevant and active.get(hint.id) != POOR:
                    active[hint.id] = hint.level
    rules = [
        {
            "id": checks_rule_id(rule.id),
            "impact": "serious" if active.get(rule.id) == POOR else "moderate",
            "selector": "body" if rule.id in active else INACTIVE_SELECTOR,
            "tags": ["wagtail-leadgen"],
            "all": [],
            "any": [FAILING_CHECK["id"]],
            "none": [],
            "enabled": True,
        }
        for rule in panel_rules
    ]
    messages = {
        checks_rule_id(rule.id): {
            "error_name": str(rule.title),
            "help_text": str(rule.action),
        }
        for rule in panel_rules
    }
    rule_ids = [rule["id"] for rule in rules]
    for item in checkers:
        item.axe_custom_rules = [*item.axe_custom_rules, *rules]
        item.axe_custom_checks = [*item.axe_custom_checks, FAILING_CHECK]
        item.axe_messages = {**item.axe_messages, **messages}
        # A falsy runOnly runs every rule already; a list names rules to run.
        if item.axe_run_only:
            item.axe_run_only = [*item.axe_run_only, *rule_ids]
