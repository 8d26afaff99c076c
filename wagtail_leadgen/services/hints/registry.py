"""The hint registry: one small function per hint, registered with its id.

Modelled on Django's system checks and Wagtail's ``ContentCheckerItem``: a
rule is a function that looks at a :class:`HintContext` and returns what it
found (``None``, one :class:`Finding` or several); the decorator carries
everything else about the hint — its id, a title, what to do about it, and
whether it also feeds Wagtail's Checks panel. The id is therefore written
once, and the Checks panel, the editor's panel and the report all read the
titles and actions from here.

Rules run in the order they were registered (the plugin's own first, in
``rules.py``), then hints are sorted worst first; sorting is stable, so
within a level the registration order holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .extract import ExtractedContent
from .text import ContentAnalysis

# -- Levels, best to worst ---------------------------------------------------------
GOOD = "good"
INFO = "info"
WARNING = "warning"
POOR = "poor"
LEVELS = (GOOD, INFO, WARNING, POOR)
WORST_FIRST = {POOR: 0, WARNING: 1, INFO: 2, GOOD: 3}

# -- Scopes: what a rule reads ---------------------------------------------------------
#: The text figures only (``context.analysis``, targets, profile): runs
#: wherever text is analysed, even without a page.
TEXT = "text"
#: The page and what it refers to (``context.page``, ``context.extracted``,
#: ``context.site``), never the text figures: runs in Wagtail's Checks panel
#: too, where the text is not analysed.
PAGE = "page"
SCOPES = (TEXT, PAGE)


@dataclass(frozen=True)
class Finding:
    """What a rule found: a level and a one-line message with the figures."""

    level: str
    message: str

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"Unknown hint level {self.level!r}; use one of {LEVELS}.")


@dataclass(frozen=True)
class Hint:
    """One piece of advice: what was found (``message``), what to do (``action``)."""

    id: str
    level: str
    message: str
    action: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "level": self.level,
            "message": self.message,
            "action": self.action,
        }


@dataclass
class HintContext:
    """What a rule may look at.

    ``analysis`` is set for text rules, ``page`` and ``extracted`` for page
    rules; ``page_hints`` sets them all. ``site`` is the page's site when
    the caller knows it (an unsaved page has none yet).
    """

    targets: Mapping[str, Any]
    profile: str
    analysis: ContentAnalysis | None = None
    page: Any = None
    extracted: ExtractedContent | None = None
    site: Any = None

    @property
    def figures(self) -> ContentAnalysis:
        """The text figures, for text rules (``page_hints`` always sets them)."""
        if self.analysis is None:
            raise RuntimeError("Text rules need context.analysis.")
        return self.analysis

    @property
    def content(self) -> ExtractedContent:
        """The extracted text and CTAs, for page rules."""
        if self.extracted is None:
            raise RuntimeError("Page rules need context.extracted.")
        return self.extracted

    @cached_property
    def purposes(self) -> list[Any]:
        """The page's consent purposes, read once for the rules that need them."""
        related = getattr(self.page, "consent_purposes", None)
        if related is None:
            return []
        try:
            return list(related.all())
        except ValueError:  # an unsaved page without in-memory selection
            return []


RuleFunction = Callable[[HintContext], "Finding | Iterable[Finding] | None"]


@dataclass(frozen=True)
class HintRule:
    """A registered hint: its function and the texts shown with it."""

    id: str
    function: RuleFunction
    title: Any
    action: Any
    scope: str = TEXT
    checks_panel: bool = False

    def findings(self, context: HintContext) -> list[Finding]:
        found = self.function(context)
        if found is None:
            return []
        if isinstance(found, Finding):
            return [found]
        return list(found)

    def hint(self, finding: Finding) -> Hint:
        """The hint for a finding; a good one needs no action."""
        action = "" if finding.level == GOOD else str(self.action)
        return Hint(self.id, finding.level, finding.message, action)


_rules: dict[str, HintRule] = {}


def hint_rule(
    id: str,
    *,
    title: Any,
    action: Any,
    scope: str = TEXT,
    checks_panel: bool = False,
) -> Callable[[RuleFunction], RuleFunction]:
    """Register the decorated function as the rule of hint ``id``.

    ``title`` names the hint and ``action`` says what to do (lazily translated
    strings: rules are registered at import time, before translations are
    ready); ``scope`` is ``TEXT`` or ``PAGE`` (see above);
    ``checks_panel=True`` also shows the hint's problems in Wagtail's Checks
    panel, which only page rules can feed.
    """
    if scope not in SCOPES:
        raise ValueError(f"Unknown hint scope {scope!r}; use one of {SCOPES}.")
    if checks_panel and scope != PAGE:
        raise ValueError(
            f"Hint {id!r}: only page rules can feed the Checks panel, which "
            "does not analyse the text."
        )

    def register(function: RuleFunction) -> RuleFunction:
        if id in _rules:
            raise ValueError(f"A hint rule with the id {id!r} is already registered.")
        _rules[id] = HintRule(id, function, title, action, scope, checks_panel)
        return function

    return register


def unregister_hint_rule(id: str) -> None:
    """Remove a hint, e.g. one of the plugin's that does not apply to a site."""
    del _rules[id]


def registered_rules(scope: str | None = None) -> list[HintRule]:
    """The rules in registration order, those of one scope if given."""
    return [rule for rule in _rules.values() if scope in (None, rule.scope)]


def get_rule(id: str) -> HintRule:
    return _rules[id]


def checks_panel_rules() -> list[HintRule]:
    """The rules whose problems Wagtail's Checks panel shows."""
    return [rule for rule in _rules.values() if rule.checks_panel]


def run_rules(scope: str, context: HintContext) -> list[Hint]:
    """The hints of every rule of ``scope``, in registration order."""
    return [
        rule.hint(finding)
        for rule in registered_rules(scope)
        for finding in rule.findings(context)
    ]


def worst_first(hints: list[Hint]) -> list[Hint]:
    """Poor, then warning, info and good; stable within a level."""
    return sorted(hints, key=lambda hint: WORST_FIRST[hint.level])
