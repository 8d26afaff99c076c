"""The plugin's layout blocks no paint on a stylesheet request: leadgen.css is
inline in the head, and the plugin's Content-Security-Policy allows exactly
that text by its hash (R1: a landing page must load fast)."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from django.conf import settings
from django.test import override_settings

from wagtail_leadgen.conf import DEFAULTS
from wagtail_leadgen.responses import (
    allowing_the_script_loader,
    allowing_the_stylesheet,
    inline_stylesheet,
)

from .factories import make_landing_page

pytestmark = pytest.mark.django_db

STYLE = re.compile(r"<style([^>]*)>(.*?)</style>", re.DOTALL)


def style_source(text: str) -> str:
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return f"'sha256-{digest}'"


def style_src(policy: str) -> list[str]:
    (directive,) = [
        part.split() for part in policy.split(";") if part.split()[0] == "style-src"
    ]
    return directive[1:]


def test_the_stylesheet_is_inline_and_allowed_by_the_hash_of_its_text(client):
    response = client.get(make_landing_page().url)
    html = response.content.decode()
    head = html.split("</head>")[0]
    assert '<link rel="stylesheet"' not in head  # nothing blocks the first paint
    ((attributes, css),) = STYLE.findall(head)
    assert attributes == ""
    assert ".leadgen-form{" in css and "/*" not in css
    policy = response["Content-Security-Policy"]
    assert style_src(policy) == ["'self'", style_source(css)]
    # The rest of the plugin's policy is as configured (with the script
    # loader's hash, tests/test_csp.py).
    assert policy.replace(f" {style_source(css)}", "") == (
        allowing_the_script_loader(DEFAULTS["CONTENT_SECURITY_POLICY"])
    )


def test_a_shared_page_is_the_same_bytes_with_the_stylesheet_inline(client):
    page = make_landing_page()
    first = client.get(page.url)
    second = client.get(page.url)
    assert "<style>" in first.content.decode()
    assert first.content == second.content
    assert "public" in first["Cache-Control"]


def test_under_a_sites_nonce_policy_the_stylesheet_carries_the_nonce(client):
    """The plugin's own layout, the plugin's policy off and the site's
    middleware sending its own, with a nonce."""
    page = make_landing_page()
    with override_settings(
        MIDDLEWARE=["tests.site_csp.SiteCSPMiddleware", *settings.MIDDLEWARE],
        WAGTAIL_LEADGEN={"CONTENT_SECURITY_POLICY": None},
    ):
        response = client.get(page.url)
    header = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", header).group(1)
    ((attributes, _css),) = STYLE.findall(response.content.decode())
    assert attributes == f' nonce="{nonce}"'


@override_settings(WAGTAIL_LEADGEN={"INLINE_STYLESHEET": False})
def test_with_inlining_off_the_file_is_linked_and_the_policy_is_as_configured(
    client,
):
    response = client.get(make_landing_page().url)
    html = response.content.decode()
    assert '<link rel="stylesheet" href="/static/wagtail_leadgen/leadgen.css">' in html
    assert "<style" not in html
    assert response["Content-Security-Policy"] == allowing_the_script_loader(
        DEFAULTS["CONTENT_SECURITY_POLICY"]
    )


def test_the_sites_own_stylesheet_is_the_one_inlined(client, tmp_path):
    folder = tmp_path / "wagtail_leadgen"
    folder.mkdir()
    (folder / "leadgen.css").write_text("/* ours */\n.site-form { color: #123; }\n")
    with override_settings(STATICFILES_DIRS=[tmp_path]):
        response = client.get(make_landing_page().url)
        ((_attributes, css),) = STYLE.findall(response.content.decode())
        assert css == ".site-form{color: #123;}"
        assert style_source(css) in response["Content-Security-Policy"]
    assert ".leadgen-form{" in inline_stylesheet()[0]  # forgotten with the setting


def test_a_stylesheet_that_could_close_its_element_is_linked(client, tmp_path):
    folder = tmp_path / "wagtail_leadgen"
    folder.mkdir()
    (folder / "leadgen.css").write_text("a::after { content: '</style><script>'; }")
    with override_settings(STATICFILES_DIRS=[tmp_path]):
        response = client.get(make_landing_page().url)
    html = response.content.decode()
    assert "<style" not in html and "<script>" not in html
    assert '<link rel="stylesheet"' in html
    assert "sha256" not in style_src(response["Content-Security-Policy"])


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        # No style-src: one copied from default-src, with the hash.
        ("default-src 'self'", "default-src 'self'; style-src 'self' {hash}"),
        ("default-src 'self'; img-src 'self'", "{same}; style-src 'self' {hash}"),
        # No style at all: a hash beside 'none' would cancel it.
        ("default-src 'none'; img-src 'self'", "{same}"),
        ("style-src 'none'", "{same}"),
        # Every inline style allowed already: a hash would turn that off.
        ("style-src 'self' 'unsafe-inline'", "{same}"),
        # No style restricted at all.
        ("img-src 'self'", "{same}"),
        ("STYLE-SRC 'self'", "STYLE-SRC 'self' {hash}"),
    ],
)
def test_the_hash_goes_where_styles_are_restricted(policy, expected):
    hash_source = inline_stylesheet()[1]
    assert allowing_the_stylesheet(policy) == expected.format(
        hash=hash_source, same=policy
    )
