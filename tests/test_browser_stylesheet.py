"""In a real browser (Debian's chromium), the inline stylesheet and script
loader run under the plugin's Content-Security-Policy, which blocks nothing
else on the page: each hash is the hash of the text the browser reads; the
form's script is fetched after the first paint."""

import pytest

from .factories import make_landing_page
from .test_browser import browser  # noqa: F401 - the module's browser fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("wagtail_tree"),
]


def test_the_inline_stylesheet_applies_and_nothing_is_blocked(
    browser,  # noqa: F811
    live_server,
):
    landing = make_landing_page()
    page = browser.new_page()
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    response = page.goto(live_server.url + landing.url)
    assert "sha256-" in response.headers["content-security-policy"]
    assert page.locator("link[rel=stylesheet]").count() == 0
    # leadgen.css: the form's frame and the skip link kept off screen.
    border = page.locator(".leadgen-form").evaluate(
        "node => getComputedStyle(node).borderTopStyle"
    )
    assert border == "solid"
    assert (
        page.locator(".leadgen-skip").evaluate(
            "node => getComputedStyle(node).position"
        )
        == "absolute"
    )
    # The loader fetched form.js once the page had painted (it does not delay
    # the largest paint), and form.js swapped the page token for the visitor's.
    shared_token = (
        response.text().split('name="leadgen_token" value="')[1].split('"')[0]
    )
    page.wait_for_function(
        "token => document.querySelector('input[name=leadgen_token]').value !== token",
        arg=shared_token,
    )
    timings = page.evaluate(
        """() => ({
            paint: performance.getEntriesByName("first-contentful-paint")[0].startTime,
            script: performance.getEntriesByType("resource")
                .find(entry => entry.name.endsWith("/wagtail_leadgen/form.js")).startTime,
        })"""
    )
    assert timings["script"] > timings["paint"]
    assert violations == []
    page.close()
