"""End-to-end journeys in a real browser: Debian's chromium driven by Playwright.

The browser is never downloaded: the test command installs Debian's package.
"""

import os
import shutil

import pytest
from django.test import override_settings

from wagtail_leadgen.models import ConsentRecord, Lead, Submission

from .factories import PDF_BYTES, make_ebook_page, make_landing_page, make_purpose

CHROMIUM = os.environ.get("LEADGEN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("wagtail_tree"),
]


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs it.")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls of
    # the tests (and the database set-up) are still synchronous and safe.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_FLAGS
            )
            yield browser
            browser.close()


def test_visitor_gets_the_ebook_without_javascript(browser, live_server):
    newsletter = make_purpose(checkbox_label="Send me the newsletter")
    partners = make_purpose(checkbox_label="Share my details with partners")
    ebook = make_ebook_page(
        purposes=[newsletter, partners],
        form_fields=[("first_name", {"label": "", "required": False, "help_text": ""})],
    )

    context = browser.new_context(java_script_enabled=False, accept_downloads=True)
    page = context.new_page()
    page.goto(live_server.url + ebook.url)
    assert page.locator("input[type=checkbox]:checked").count() == 0

    page.get_by_label("Email").fill("ann@example.com")
    page.get_by_label("First name").fill("Ann")
    page.get_by_label("Send me the newsletter").check()
    page.get_by_role("button", name="Send").click()

    page.wait_for_url("**/?download=*")
    assert page.get_by_role("heading", name="Thank you").is_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download “The guide”").click()
    download = download_info.value
    assert download.suggested_filename == "the-guide.pdf"
    with open(download.path(), "rb") as downloaded:
        assert downloaded.read() == PDF_BYTES
    context.close()

    lead = Lead.objects.get(email="ann@example.com")
    decisions = {
        r.purpose_id: r.decision for r in ConsentRecord.objects.filter(lead=lead)
    }
    assert decisions == {newsletter.pk: "granted", partners.pk: "refused"}


def test_errors_are_summarised_and_focused(browser, live_server):
    ebook = make_ebook_page()
    context = browser.new_context()
    page = context.new_page()
    page.goto(live_server.url + ebook.url)
    page.get_by_label("Email").fill("not-an-address")
    page.get_by_role("button", name="Send").click()

    summary = page.get_by_role("alert")
    summary.wait_for()
    assert page.evaluate("document.activeElement.id") == "leadgen-errors"
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "id_email"
    assert page.get_by_label("Email").get_attribute("aria-invalid") == "true"
    context.close()


def test_the_browser_solves_the_proof_of_work_before_posting(browser, live_server):
    landing = make_landing_page()
    settings = {"FORM_MIN_FILL_SECONDS": 0, "PROOF_OF_WORK": {"MAX_NUMBER": 5000}}
    with override_settings(WAGTAIL_LEADGEN=settings):
        context = browser.new_context()
        page = context.new_page()
        page.goto(live_server.url + landing.url)
        page.get_by_label("Email").fill("ann@example.com")
        page.get_by_role("button", name="Send").click()
        page.wait_for_url("**" + landing.thank_you_page.url)
        context.close()
    assert Lead.objects.get().email == "ann@example.com"
    assert not Submission.objects.filter(is_spam=True).exists()


def test_the_script_swaps_the_page_token_for_the_visitors_own(browser, live_server):
    """The page a CDN holds carries a page token; the deferred script fetches
    the visitor's own (the time trap's start), and the form posts it."""
    landing = make_landing_page()
    context = browser.new_context()
    page = context.new_page()
    with page.expect_response("**/token/?t=*") as fetched:
        page.goto(live_server.url + landing.url)
    assert fetched.value.status == 200
    own = fetched.value.json()["token"]
    token_field = page.locator("input[name=leadgen_token]")
    page.wait_for_function(
        "token => document.querySelector('input[name=leadgen_token]').value === token",
        arg=own,
    )
    assert token_field.input_value() == own
    page.get_by_label("Email").fill("ann@example.com")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url("**" + landing.thank_you_page.url)
    context.close()
    assert Lead.objects.get().email == "ann@example.com"
    assert not Submission.objects.filter(is_spam=True).exists()
