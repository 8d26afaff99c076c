"""Double opt-in and one-click objection in a real browser (Debian's chromium).

Launched like tests/test_browser.py (same flags, same fixture). The journey:
tick the newsletter, open the confirmation email, confirm with the page's
button, open the unsubscribe link (the preferences page), unsubscribe in one
click as a mail provider does (a POST, no cookie), see "withdrawn".
"""

import re

import pytest
from django.core import mail
from django.test import override_settings

from wagtail_leadgen.models import Lead
from wagtail_leadgen.services.consent import current_decision

from .factories import make_landing_page, make_purpose
from .test_browser import browser  # noqa: F401 - the shared browser fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("wagtail_tree"),
]

LOCMEM = {"locmem": {"BACKEND": "wagtail_leadgen.crm.locmem.LocmemBackend"}}


def test_confirm_then_unsubscribe_in_one_click(browser, live_server):  # noqa: F811
    newsletter = make_purpose(
        checkbox_label="Send me the newsletter", requires_confirmation=True
    )
    landing = make_landing_page(purposes=[newsletter])
    mail.outbox = []
    settings = {
        "FORM_MIN_FILL_SECONDS": 0,
        "CRM_BACKENDS": LOCMEM,
        "SITE_URL": live_server.url,
    }
    with override_settings(WAGTAIL_LEADGEN=settings):
        context = browser.new_context(java_script_enabled=False)
        page = context.new_page()
        page.goto(live_server.url + landing.url)
        page.get_by_label("Email").fill("ann@example.com")
        page.get_by_label("Send me the newsletter").check()
        page.get_by_role("button", name="Send").click()
        page.wait_for_url("**" + landing.thank_you_page.url)
        lead = Lead.objects.get()
        assert current_decision(lead, newsletter).decision == "pending"

        # The confirmation email: opening its link confirms nothing yet.
        (message,) = mail.outbox
        link = re.search(r"http://\S+/leadgen/confirm/[\w-]+/", message.body).group(0)
        page.goto(link)
        assert page.get_by_text("Send me the newsletter").is_visible()
        assert current_decision(lead, newsletter).decision == "pending"
        page.get_by_role("button", name="Yes, I confirm").click()
        page.get_by_role("heading", name="Thank you, it is confirmed").wait_for()
        assert current_decision(lead, newsletter).decision == "granted"

        # The List-Unsubscribe link opens the preferences page.
        unsubscribe = re.search(
            r"<(http://[^>]+/leadgen/unsubscribe/[^>]+)>",
            message.extra_headers["List-Unsubscribe"],
        ).group(1)
        page.goto(unsubscribe)
        page.get_by_role("heading", name="Your preferences").wait_for()
        assert page.get_by_text("Given since").is_visible()

        # A mail provider's one-click POST: no cookie, no CSRF token.
        provider = browser.new_context()
        answer = provider.request.post(
            unsubscribe, form={"List-Unsubscribe": "One-Click"}
        )
        assert answer.status == 200
        provider.close()

        page.reload()
        assert page.get_by_text("Withdrawn on").is_visible()
        assert page.get_by_role("checkbox", name="Send me the newsletter").is_visible()
        context.close()
    assert current_decision(lead, newsletter).decision == "withdrawn"
