"""The content hints panel in a real page editor: Debian's chromium driven by Playwright.

Launched like tests/test_browser.py (same flags, same fixtures; the browser is
never downloaded). Set LEADGEN_DOCS_SCREENSHOTS=1 to also refresh
docs/images/hints-panel.png.
"""

import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from wagtail.rich_text import RichText

from .factories import make_landing_page
from .helpers import meta_description
from .test_browser import browser  # noqa: F401 - the shared browser fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("wagtail_tree"),
]

SCREENSHOT = Path(__file__).resolve().parent.parent / "docs/images/hints-panel.png"
BODY = (
    "<h2>What the audit covers</h2>"
    "<p>We look at how fast your pages load, how search engines see them and how "
    "easily a visitor finds the offer. You get a short report with the three changes "
    "that will bring the most leads, in the order we would make them.</p>"
)


FIELD = {"label": "", "required": False, "help_text": ""}
KINDS = ["first_name", "last_name", "company", "job_title", "phone"]


def metric(page, name):
    return page.locator(f'[data-leadgen-hints] [data-hints-metric="{name}"]')


def hint(page, hint_id):
    return page.locator(f'[data-leadgen-hints] [data-hint-id="{hint_id}"]')


def test_an_editor_sees_hints_change_while_typing(browser, live_server):  # noqa: F811
    from playwright.sync_api import expect

    get_user_model().objects.create_superuser("editor", "editor@example.com", "pw")
    landing = make_landing_page(
        title="Free website audit",
        intro="Get a free audit of your website.",
        body=[("paragraph", RichText(BODY))],
        **meta_description("A free audit of your website."),
        form_fields=[(kind, FIELD) for kind in KINDS],
        thank_you=False,
    )

    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin/")

    page.goto(f"{live_server.url}/admin/pages/{landing.pk}/edit/")
    panel = page.locator("[data-leadgen-hints]")
    panel.scroll_into_view_if_needed()
    expect(metric(page, "words")).to_have_text("54")
    expect(hint(page, "offer-above-form")).to_have_count(0)
    page.evaluate("window.leadgenNotReloaded = true")

    # Emptying the introduction: the offer is no longer described above the form.
    page.locator("#id_intro").fill("")
    expect(hint(page, "offer-above-form")).to_have_count(1)
    expect(metric(page, "words")).to_have_text("47")

    # Typing in the body's rich text editor (Draftail) counts too.
    editor = page.locator(".Draftail-Editor [contenteditable=true]").first
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Every page we check gets a clear, short list of fixes." * 10)
    expect(metric(page, "words")).to_have_text("157", timeout=10_000)
    expect(hint(page, "long-paragraph")).to_have_count(1)  # now over 150 words
    assert page.evaluate("window.leadgenNotReloaded") is True

    page.locator("#id_intro").fill("Get a free audit of your website.")
    expect(hint(page, "offer-above-form")).to_have_count(0)
    expect(metric(page, "readability")).not_to_have_text("–")
    assert page.evaluate("window.leadgenNotReloaded") is True

    if os.environ.get("LEADGEN_DOCS_SCREENSHOTS"):
        section = page.get_by_role("region", name="Content hints")
        section.scroll_into_view_if_needed()
        section.screenshot(path=str(SCREENSHOT))
    # Leave the editor first: its script stops before the database is flushed.
    page.goto("about:blank")
    context.close()
