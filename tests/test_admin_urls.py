"""Every admin URL of the plugin follows one scheme (set out in ``wagtail_hooks``).

A section ``<name>`` is served at ``<admin>/leadgen/<name>/`` in the namespace
``wagtail_leadgen_<name>``; the names inside are snake case. Consent purposes
and calls to action are Wagtail snippets and keep Wagtail's snippet URLs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver, reverse

SECTIONS = {
    "callbacks",
    "leads",
    "deliveries",
    "erasures",
    "hints",
    "kpis",
    "quarantine",
    "register",
    "tests",
}
NAMESPACE_RE = re.compile(r"^wagtail_leadgen_(?P<section>[a-z]+)$")
NAME_RE = re.compile(r"^[a-z]+(_[a-z]+)*$")


def walk(
    patterns, route: str = "", namespaces: tuple[str, ...] = ()
) -> Iterator[tuple[str, tuple[str, ...], URLPattern]]:
    """Every URL pattern with its full route and the namespaces it sits in."""
    for entry in patterns:
        full = route + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from walk(entry.url_patterns, full, inner)
        else:
            yield full, namespaces, entry


def view_module(pattern: URLPattern) -> str:
    view = getattr(pattern.callback, "view_class", pattern.callback)
    return view.__module__


def plugin_admin_urls() -> list[tuple[str, tuple[str, ...], URLPattern]]:
    """The admin URLs whose namespace or view is the plugin's."""
    admin_root = reverse("wagtailadmin_home").lstrip("/")
    return [
        (route, namespaces, pattern)
        for route, namespaces, pattern in walk(get_resolver().url_patterns)
        if route.startswith(admin_root)
        and (
            any(ns.startswith("wagtail_leadgen") for ns in namespaces)
            or view_module(pattern).startswith("wagtail_leadgen.")
        )
    ]


def test_every_admin_url_of_the_plugin_follows_the_one_scheme():
    admin_root = reverse("wagtailadmin_home").lstrip("/")
    urls = plugin_admin_urls()
    sections = set()
    for route, namespaces, pattern in urls:
        where = f"{route} ({':'.join(namespaces)}:{pattern.name})"
        assert len(namespaces) == 1, f"{where}: not in one namespace"
        match = NAMESPACE_RE.match(namespaces[0])
        assert match, f"{where}: namespace outside wagtail_leadgen_<section>"
        section = match["section"]
        sections.add(section)
        assert route.startswith(f"{admin_root}leadgen/{section}/"), (
            f"{where}: not under leadgen/{section}/"
        )
        assert pattern.name and NAME_RE.match(pattern.name), f"{where}: URL name"
    assert sections == SECTIONS


def test_the_main_admin_urls_reverse_to_their_section():
    assert reverse("wagtail_leadgen_leads:index") == "/admin/leadgen/leads/"
    assert reverse("wagtail_leadgen_leads:inspect", args=[3]) == (
        "/admin/leadgen/leads/inspect/3/"
    )
    assert reverse("wagtail_leadgen_deliveries:index") == "/admin/leadgen/deliveries/"
    assert reverse("wagtail_leadgen_erasures:erase", args=[3]) == (
        "/admin/leadgen/erasures/erase/3/"
    )
    assert reverse("wagtail_leadgen_deliveries:retry", args=[3]) == (
        "/admin/leadgen/deliveries/retry/3/"
    )
    assert reverse("wagtail_leadgen_deliveries:applied", args=[3]) == (
        "/admin/leadgen/deliveries/applied/3/"
    )
    assert reverse("wagtail_leadgen_deliveries:resume", args=["crm"]) == (
        "/admin/leadgen/deliveries/resume/crm/"
    )
    assert reverse("wagtail_leadgen_hints:report") == "/admin/leadgen/hints/report/"
    assert reverse("wagtail_leadgen_hints:page", args=[3]) == (
        "/admin/leadgen/hints/page/3/"
    )
    assert reverse("wagtail_leadgen_kpis:report") == "/admin/leadgen/kpis/"
    assert reverse("wagtail_leadgen_callbacks:index") == "/admin/leadgen/callbacks/"
    assert reverse("wagtail_leadgen_callbacks:called", args=[3]) == (
        "/admin/leadgen/callbacks/called/3/"
    )
    assert reverse("wagtail_leadgen_quarantine:index") == "/admin/leadgen/quarantine/"
    assert reverse("wagtail_leadgen_quarantine:release", args=[3]) == (
        "/admin/leadgen/quarantine/release/3/"
    )
