"""A call-back request in a real browser (Debian's chromium): a visitor asks
to be called, sales sees it in the admin's call-backs list with its SLA
badge, and marks it called in one click.

Launched like tests/test_browser.py (same flags, same fixture).
"""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import override_settings

from wagtail_leadgen.models import CallbackPage, CallbackRequest

from .factories import _with_form, site_root
from .test_browser import browser  # noqa: F401 - the shared browser fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("wagtail_tree"),
]

LOCMEM = {"locmem": {"BACKEND": "wagtail_leadgen.crm.locmem.LocmemBackend"}}


def test_a_callback_request_is_listed_with_its_badge_and_marked_called(
    browser,  # noqa: F811
    live_server,
):
    from playwright.sync_api import expect

    get_user_model().objects.create_superuser("sales", "sales@example.com", "pw")
    callback_page = _with_form(
        site_root().add_child(
            instance=CallbackPage(title="Call me back", slug="call-me-back")
        ),
        (),
        False,
    )
    mail.outbox = []
    settings = {
        "FORM_MIN_FILL_SECONDS": 0,
        "CRM_BACKENDS": LOCMEM,
        "CALLBACK": {"SALES_EMAIL": "sales@example.com"},
    }
    with override_settings(WAGTAIL_LEADGEN=settings):
        context = browser.new_context(java_script_enabled=False)
        page = context.new_page()
        page.goto(live_server.url + callback_page.url)
        page.get_by_label("Email").fill("ann@example.com")
        page.get_by_label("Phone").fill("06 12 34 56 78")
        page.get_by_label("As soon as possible").check()
        page.get_by_role("button", name="Send").click()
        expect(page.locator(".leadgen-callback-promise")).to_contain_text(
            "within 5 minutes"
        )
        callback = CallbackRequest.objects.get()
        assert callback.phone == "+33612345678"
        assert [message.to for message in mail.outbox] == [["sales@example.com"]]

        admin = browser.new_context(viewport={"width": 1280, "height": 900})
        staff = admin.new_page()
        staff.goto(live_server.url + "/admin/login/")
        staff.get_by_label("Username").fill("sales")
        staff.get_by_label("Password").fill("pw")
        staff.get_by_role("button", name="Sign in").click()
        staff.wait_for_url("**/admin/")
        staff.goto(live_server.url + "/admin/leadgen/callbacks/")
        row = staff.locator(f'tr[data-callback="{callback.pk}"]')
        expect(row.locator(".leadgen-sla")).to_contain_text("due in")
        expect(row).to_contain_text("+33612345678")
        row.get_by_role("button", name="Reached").click()
        staff.wait_for_url("**/admin/leadgen/callbacks/")
        expect(staff.get_by_text("Marked called.")).to_be_visible()
        expect(staff.locator(f'tr[data-callback="{callback.pk}"]')).to_have_count(0)
        staff.goto(live_server.url + "/admin/leadgen/callbacks/?show=all")
        done = staff.locator(f'tr[data-callback="{callback.pk}"]')
        expect(done.locator(".leadgen-sla")).to_contain_text("called in time")
        expect(done).to_contain_text("sales: Reached")
        callback.refresh_from_db()
        assert callback.outcome == "reached"
        assert callback.called_by.get_username() == "sales"
