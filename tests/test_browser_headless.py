"""The decoupled demo front end (example_site/frontend/) in Debian's chromium,
served from a second origin and calling the site through its APIs with CORS.

The listing reads Wagtail's page API v2; the form journey the plugin's form
endpoints (GET forms/{id}, POST forms/{id}/submissions).
"""

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.test import override_settings

from wagtail_leadgen.models import ConsentRecord, Lead

from .factories import PDF_BYTES, make_ebook_page, make_landing_page, make_purpose
from .test_browser import browser  # noqa: F401 - the shared chromium fixture

FRONTEND = Path(__file__).resolve().parent.parent / "example_site" / "frontend"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("wagtail_tree"),
]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@pytest.fixture
def front_end():
    """example_site/frontend/ served by a tiny static server on a free port:
    another origin than the live server's, as `make demo` serves it."""
    handler = functools.partial(_QuietHandler, directory=str(FRONTEND))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def open_front_end(browser, front_end, live_server, **query):  # noqa: F811
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    extra = "".join(f"&{name}={value}" for name, value in query.items())
    page.goto(f"{front_end}/?api={live_server.url}{extra}")
    return context, page


def test_the_front_end_lists_the_landing_pages(browser, front_end, live_server):  # noqa: F811
    make_landing_page(title="Free audit", intro="Book a free audit.")
    make_ebook_page(title="The guide")

    with override_settings(CORS_ALLOWED_ORIGINS=[front_end]):
        context, page = open_front_end(browser, front_end, live_server)
        link = page.get_by_role("link", name="Free audit")
        link.wait_for()
        assert page.get_by_text("Book a free audit.").is_visible()
        assert page.get_by_role("link", name="The guide").count() == 0
        context.close()


def test_an_origin_the_site_does_not_allow_cannot_read_it(
    browser,  # noqa: F811
    front_end,
    live_server,
):
    make_landing_page(title="Free audit")

    with override_settings(CORS_ALLOWED_ORIGINS=["http://127.0.0.1:1"]):
        context, page = open_front_end(browser, front_end, live_server)
        alert = page.get_by_role("alert")
        alert.wait_for()
        assert "could not be read" in alert.inner_text()
        assert page.get_by_role("link", name="Free audit").count() == 0
        context.close()


def test_a_visitor_gets_the_ebook_through_the_apis(browser, front_end, live_server):  # noqa: F811
    newsletter = make_purpose(checkbox_label="Send me the newsletter")
    partners = make_purpose(checkbox_label="Share my details with partners")
    ebook = make_ebook_page(
        title="The guide",
        purposes=[newsletter, partners],
        form_fields=[("first_name", {"label": "", "required": False, "help_text": ""})],
    )
    thanks = ebook.thank_you_page.specific
    thanks.message = "<p>Enjoy the read.</p>"
    thanks.save_revision().publish()

    with override_settings(CORS_ALLOWED_ORIGINS=[front_end]):
        context, page = open_front_end(browser, front_end, live_server, page=ebook.pk)
        page.get_by_role("heading", name="The guide", level=1).wait_for()
        # The form, from the schema: fields, then one unticked box per purpose
        # with its exact wording.
        email = page.get_by_label("Email")
        email.wait_for()
        assert page.locator("input[type=checkbox]:checked").count() == 0
        assert page.get_by_text("We send news number").first.is_visible()
        email.fill("ann@example.com")
        page.get_by_label("First name").fill("Ann")
        page.get_by_label("Send me the newsletter").check()
        page.get_by_role("button", name="Send").click()

        # The 201: the thank-you page's content, read through /api/v2/pages/.
        page.get_by_role("heading", name=thanks.title).wait_for()
        assert page.get_by_text("Enjoy the read.").is_visible()
        with page.expect_download() as download_info:
            page.get_by_role("link", name="Download your copy").click()
        with open(download_info.value.path(), "rb") as downloaded:
            assert downloaded.read() == PDF_BYTES
        context.close()

    lead = Lead.objects.get(email="ann@example.com")
    records = ConsentRecord.objects.filter(lead=lead)
    assert {r.purpose_id: r.decision for r in records} == {
        newsletter.pk: "granted",
        partners.pk: "refused",
    }
    assert {r.channel for r in records} == {"api"}


def test_field_errors_are_announced_and_focused(browser, front_end, live_server):  # noqa: F811
    landing = make_landing_page(title="Free audit")

    with override_settings(CORS_ALLOWED_ORIGINS=[front_end]):
        context, page = open_front_end(browser, front_end, live_server)
        page.get_by_role("link", name="Free audit").click()
        email = page.get_by_label("Email")
        email.wait_for()
        email.fill("not-an-address")
        page.get_by_role("button", name="Send").click()

        summary = page.get_by_role("alert")
        summary.wait_for()
        assert page.evaluate("document.activeElement.id") == "error-summary"
        assert email.get_attribute("aria-invalid") == "true"
        summary.get_by_role("link").first.click()
        assert page.evaluate("document.activeElement.id") == "field-email"
        context.close()

    assert not Lead.objects.exists()
    assert landing.live
