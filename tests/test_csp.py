"""The plugin's Content-Security-Policy covers its own layout only: in a site's
layout the site's policy governs, and the plugin's one script carries the
site's nonce, so a strict site policy breaks nothing on lead pages."""

import re

import django
import pytest
from django.core.checks import run_checks
from django.test import override_settings

from wagtail_leadgen.conf import DEFAULTS
from wagtail_leadgen.responses import allowing_the_stylesheet

from .factories import make_landing_page
from .site_csp import site_layout

pytestmark = pytest.mark.django_db

PLUGIN_POLICY = allowing_the_stylesheet(DEFAULTS["CONTENT_SECURITY_POLICY"])
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
def test_without_a_site_policy_the_script_has_no_nonce_and_nothing_is_inline(client):
    html = client.get(make_landing_page().url).content.decode()
    assert re.findall(r"<script[^>]*>", html) == [
        '<script src="/static/wagtail_leadgen/pow.js" defer>',
        '<script src="/static/wagtail_leadgen/form.js" defer>',
    ]
    assert "nonce=" not in html
    # Inline: the stylesheet only, which the policy allows by its hash.
    assert "style=" not in html and len(re.findall("<style", html)) == 1
    assert re.search(r"<script[^>]*>\s*[^<\s]", html) is None  # no inline code


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
