"""The "my data" journey in a real browser (Debian's chromium), without JavaScript.

Launched like tests/test_browser.py (same flags, same fixture). The journey:
a visitor sends a form, follows the notice's "your data page" link, asks for
a link, opens it from the email and presses the button, sees their answers,
downloads the JSON, then erases everything and is left with no data stored.
"""

import json
import re
from pathlib import Path

import pytest
from django.core import mail
from django.test import override_settings

from wagtail_leadgen.models import Lead

from .factories import make_landing_page, make_purpose, set_controller
from .helpers import sweep
from .test_browser import browser  # noqa: F401 - the shared browser fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("wagtail_tree"),
]

LOCMEM = {"locmem": {"BACKEND": "wagtail_leadgen.crm.locmem.LocmemBackend"}}


def test_from_the_notice_to_the_json_download_and_the_erasure(browser, live_server):  # noqa: F811
    set_controller(controller_name="Acme SAS", contact_email="privacy@acme.example")
    newsletter = make_purpose(checkbox_label="Send me the newsletter")
    landing = make_landing_page(
        purposes=[newsletter],
        form_fields=[("company", {"label": "", "required": False, "help_text": ""})],
    )
    mail.outbox = []
    settings = {
        "FORM_MIN_FILL_SECONDS": 0,
        "CRM_BACKENDS": LOCMEM,
        "SITE_URL": live_server.url,
    }
    with override_settings(WAGTAIL_LEADGEN=settings):
        context = browser.new_context(java_script_enabled=False, accept_downloads=True)
        page = context.new_page()
        page.goto(live_server.url + landing.url)
        page.get_by_label("Email").fill("ann@example.com")
        page.get_by_label("Company").fill("Globex")
        page.get_by_label("Send me the newsletter").check()
        page.get_by_role("button", name="Send").click()
        page.wait_for_url("**" + landing.thank_you_page.url)

        # The notice under the form links to the page.
        page.goto(live_server.url + landing.url)
        page.locator("#leadgen-notice-first").get_by_role(
            "link", name="your data page"
        ).click()
        page.get_by_role("heading", name="Your data").wait_for()
        page.get_by_label("Your email address").fill("ann@example.com")
        page.get_by_role("button", name="Send me a link").click()
        page.get_by_role("heading", name="Check your inbox").wait_for()

        # The email's link shows a button; the button opens the data.
        (message,) = mail.outbox
        link = re.search(r"http://\S+/leadgen/my-data/verify/[\w-]+/", message.body)
        page.goto(link.group(0))
        page.get_by_role("button", name="Open my data").click()
        page.get_by_role("heading", name="Forms you sent").wait_for()
        assert page.get_by_text("Globex").first.is_visible()
        assert page.get_by_text("Send me the newsletter").first.is_visible()

        with page.expect_download() as download_info:
            page.get_by_role("link", name="Download my data (JSON)").click()
        data = json.loads(Path(download_info.value.path()).read_text(encoding="utf-8"))
        assert data["person"]["email"] == "ann@example.com"
        assert data["submissions"][0]["answers"]["company"] == "Globex"

        page.get_by_role("link", name="Erase my data").first.click()
        page.get_by_role("button", name="Yes, erase everything").click()
        page.get_by_role("heading", name="Your data is erased").wait_for()
        context.close()
    assert not Lead.objects.exists()
    assert sweep("ann@example.com", "Globex") == []
