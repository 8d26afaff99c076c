"""The plugin's Content-Security-Policy covers its own layout only: in a site's
layout the site's policy governs, and the plugin's one script carries the
site's nonce, so a strict site policy breaks nothing on lead pages."""

import re

import django
import pytest
from django.core.checks import run_checks
from django.test import override_settings

from wagtail_leadgen.conf import DEFAULTS
from wagtail_leadgen.responses import (
    SCRIPT_LOADER,
    SCRIPT_LOADER_SOURCE,
    allowing_the_script_loader,
    allowing_the_stylesheet,
)

from .factories import make_landing_page
from .site_csp import site_layout

pytestmark = pytest.mark.django_db

PLUGIN_POLICY = allowing_the_script_loader(
    allowing_the_stylesheet(DEFAULTS["CONTENT_SECURITY_POLICY"])
)
POW_ON = {"PROOF_OF_WORK": {"MAX_NUMBER": 10}}


def nonce_in(header: str) -> str:
    return re.search(r"'nonce-([^']+)'", header).group(1)


def script_nonces(html: str) -> list[str]:
    return re.findall(r"<script[^>]*\bnonce=\"([^\"]*)\"", html)


def test_pages_in_the_plugins_layout_carry_the_plugins_policy(client):
    response = client.get(make_landing_page().url)
    assert response["Content-Security-Policy"] == PLUGIN_POLICY


def test_in_the_sites_layout_the_plugin_sends_no_policy_of_its_own(client):
    page = make_landing_page()
    with site_layout():
        response = client.get(page.url)
    html = response.content.decode()
    assert 'class="site-header"' in html and "leadgen-form" in html
    assert "wagtail_leadgen/leadgen.css" in html
    assert "Content-Security-Policy" not in response


def test_the_sites_policy_governs_and_allows_its_inline_script(client):
    page = make_landing_page()
    with site_layout(middleware=["tests.site_csp.SiteCSPMiddleware"]):
        response = client.get(page.url)
    header = response["Content-Security-Policy"]
    assert header != PLUGIN_POLICY and "strict-dynamic" in header
    html = response.content.decode()
    # The site's inline script, and the plugin's form script, carry its nonce.
    assert script_nonces(html) == [nonce_in(header)] * len(re.findall(r"<script", html))
    assert len(script_nonces(html)) == 2


def test_the_plugins_script_carries_the_sites_nonce(client):
    page = make_landing_page()
    with site_layout(
        middleware=["tests.site_csp.SiteCSPMiddleware"], WAGTAIL_LEADGEN=POW_ON
    ):
        response = client.get(page.url)
    html = response.content.decode()
    pow_script = re.search(r"<script[^>]*pow\.js[^>]*>", html).group(0)
    nonce = nonce_in(response["Content-Security-Policy"])
    assert f'nonce="{nonce}"' in pow_script


@override_settings(WAGTAIL_LEADGEN=POW_ON)
def test_in_the_plugins_layout_only_the_loader_is_inline_allowed_by_its_hash(client):
    response = client.get(make_landing_page().url)
    html = response.content.decode()
    # One inline script, the loader, which fetches the plugin's two scripts
    # (from 'self') in order once the page has painted.
    assert re.findall(r"<script[^>]*>[^<]*</script>", html) == [
        '<script data-src="/static/wagtail_leadgen/pow.js /static/wagtail_leadgen/form.js">'
        f"{SCRIPT_LOADER}</script>"
    ]
    assert script_nonces(html) == []
    script_src = re.search(r"script-src ([^;]*)", response["Content-Security-Policy"])
    assert script_src.group(1).split() == ["'self'", SCRIPT_LOADER_SOURCE]
    # Inline: the stylesheet, also allowed by its hash; no inline style attribute.
    assert "style=" not in html and len(re.findall("<style", html)) == 1


@override_settings(WAGTAIL_LEADGEN={**POW_ON, "LOAD_SCRIPTS_AFTER_PAINT": False})
def test_with_the_loader_off_the_scripts_are_deferred_and_nothing_else_is_allowed(
    client,
):
    response = client.get(make_landing_page().url)
    html = response.content.decode()
    assert re.findall(r"<script[^>]*>", html) == [
        '<script src="/static/wagtail_leadgen/pow.js" defer>',
        '<script src="/static/wagtail_leadgen/form.js" defer>',
    ]
    assert re.search(r"<script[^>]*>\s*[^<\s]", html) is None  # no inline code
    assert "script-src 'self';" in response["Content-Security-Policy"]


def test_in_the_sites_layout_the_scripts_are_deferred_with_its_nonce(client):
    page = make_landing_page()
    with site_layout(middleware=["tests.site_csp.SiteCSPMiddleware"]):
        response = client.get(page.url)
    html = response.content.decode()
    assert "data-src=" not in html
    nonce = nonce_in(response["Content-Security-Policy"])
    assert (
        f'<script src="/static/wagtail_leadgen/form.js" defer nonce="{nonce}">' in html
    )


@pytest.mark.skipif(django.VERSION < (6, 0), reason="Django 6's built-in CSP")
def test_djangos_own_csp_governs_the_sites_layout(client):
    from django.utils.csp import CSP

    page = make_landing_page()
    policy = {"default-src": [CSP.SELF], "script-src": [CSP.NONCE, CSP.STRICT_DYNAMIC]}
    with (
        site_layout(
            middleware=["django.middleware.csp.ContentSecurityPolicyMiddleware"],
            context_processors=["django.template.context_processors.csp"],
            WAGTAIL_LEADGEN=POW_ON,
        ),
        override_settings(SECURE_CSP=policy),
    ):
        response = client.get(page.url)
    nonce = nonce_in(response["Content-Security-Policy"])
    # The layout's inline script, pow.js, and form.js (the page may be shared).
    assert script_nonces(response.content.decode()) == [nonce, nonce, nonce]


def w030(messages):
    return [message for message in messages if message.id == "wagtail_leadgen.W030"]


def test_a_check_warns_when_the_default_policy_meets_a_site_layout():
    with site_layout():
        (warning,) = w030(run_checks())
    assert "docs/install/templates/wagtail_leadgen/base.html" in warning.msg
    assert "CONTENT_SECURITY_POLICY" in warning.hint


def test_the_check_is_quiet_in_the_plugins_layout_or_with_the_policy_off():
    assert w030(run_checks()) == []
    with site_layout(WAGTAIL_LEADGEN={"CONTENT_SECURITY_POLICY": None}):
        assert w030(run_checks()) == []


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("default-src 'self'", "default-src 'self'; script-src 'self' {hash}"),
        ("script-src 'nonce-abc' 'strict-dynamic'", "{same} {hash}"),
        # Every inline script allowed already, or none at all: unchanged.
        ("script-src 'self' 'unsafe-inline'", "{same}"),
        ("default-src 'none'", "{same}"),
        ("img-src 'self'", "{same}"),
    ],
)
def test_the_loaders_hash_goes_where_scripts_are_restricted(policy, expected):
    assert allowing_the_script_loader(policy) == expected.format(
        hash=SCRIPT_LOADER_SOURCE, same=policy
    )


@override_settings(WAGTAIL_LEADGEN={"LOAD_SCRIPTS_AFTER_PAINT": False})
def test_with_the_loader_off_its_hash_is_not_allowed():
    assert allowing_the_script_loader("default-src 'self'") == "default-src 'self'"
