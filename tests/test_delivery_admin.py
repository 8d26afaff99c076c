"""Admins see every delivery and can retry; nobody without permission sees leads."""

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from wagtail.log_actions import registry as log_registry

from wagtail_leadgen.crm.base import TransientCRMError
from wagtail_leadgen.models import Delivery
from wagtail_leadgen.services.consent import withdraw_consent
from wagtail_leadgen.services.outbox import propagate_consent_change

from .factories import make_landing_page, make_purpose, make_staff, make_submission
from .helpers import assert_denied

pytestmark = pytest.mark.django_db

FAILING = {
    "CRM_BACKENDS": {
        "sales": {
            "BACKEND": "wagtail_leadgen.crm.locmem.LocmemBackend",
            "OPTIONS": {
                "FAIL_WITH": lambda lead: TransientCRMError("down", status=503)
            },
        }
    }
}


@pytest.fixture
def delivery():
    submission = make_submission(destinations=["sales"])
    Delivery.objects.update(
        status="failed", last_error="TransientCRMError: HTTP 503: down"
    )
    return submission.deliveries.get()


@override_settings(WAGTAIL_LEADGEN=FAILING)
def test_page_editors_without_lead_permissions_see_no_leads(client, delivery):
    client.force_login(make_staff())
    for name in ("wagtail_leadgen_leads:index", "wagtail_leadgen_deliveries:index"):
        assert_denied(client.get(reverse(name)))


@override_settings(WAGTAIL_LEADGEN=FAILING)
def test_the_lead_page_shows_its_deliveries_and_errors(client, delivery):
    client.force_login(make_staff("view_lead", "view_delivery"))
    lead_id = delivery.submission.lead_id
    html = client.get(
        reverse("wagtail_leadgen_leads:inspect", args=[lead_id])
    ).content.decode()
    assert "ann@example.com" in html
    assert "sales" in html and "HTTP 503: down" in html
    listing = client.get(reverse("wagtail_leadgen_deliveries:index")).content.decode()
    assert "HTTP 503: down" in listing


@override_settings(WAGTAIL_LEADGEN=FAILING)
def test_viewers_cannot_edit_or_retry(client, delivery):
    client.force_login(make_staff("view_lead", "view_delivery"))
    assert_denied(
        client.get(reverse("wagtail_leadgen_deliveries:edit", args=[delivery.pk]))
    )
    assert_denied(
        client.post(reverse("wagtail_leadgen_deliveries:retry", args=[delivery.pk]))
    )
    assert Delivery.objects.get().status == "failed"


@override_settings(WAGTAIL_LEADGEN=FAILING)
def test_an_admin_with_change_permission_retries_a_failed_delivery(
    client, delivery, django_capture_on_commit_callbacks
):
    client.force_login(make_staff("view_lead", "view_delivery", "change_delivery"))
    inspect = client.get(
        reverse("wagtail_leadgen_deliveries:inspect", args=[delivery.pk])
    )
    assert b"Retry now" in inspect.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("wagtail_leadgen_deliveries:retry", args=[delivery.pk])
        )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (
        delivery.status == "pending" and delivery.attempts == 1
    )  # attempted again, still down


# -- Consent changes and manual actions ---------------------------------------------
NO_UPDATES = {"CRM_BACKENDS": {"crm": {"BACKEND": "tests.helpers.NoUpdatesBackend"}}}


@pytest.fixture
def manual_change():
    """A withdrawal that the destination could not apply: staff must."""
    newsletter = make_purpose(name="Newsletter")
    page = make_landing_page(purposes=[newsletter])
    with override_settings(WAGTAIL_LEADGEN=NO_UPDATES):
        submission = make_submission(
            page, "ann@example.com", destinations=["crm"], decisions={newsletter: True}
        )
        call_command("leadgen_deliver", "--once")
        record = withdraw_consent(
            submission.lead, newsletter, language="en", channel="preferences"
        )
        (change,) = propagate_consent_change([record])
        call_command("leadgen_deliver", "--once")
    change.refresh_from_db()
    assert change.status == "manual"
    return change


@override_settings(WAGTAIL_LEADGEN=NO_UPDATES)
def test_the_deliveries_list_shows_kind_and_manual_state_but_never_an_address(
    client, manual_change
):
    client.force_login(make_staff("view_delivery"))
    html = client.get(reverse("wagtail_leadgen_deliveries:index")).content.decode()
    assert "ann@example.com" not in html
    assert f"Lead #{manual_change.lead_id}" in html
    assert "Consent change" in html and "New lead" in html
    assert "Manual action needed" in html
    assert "Newsletter — Withdrawn" in html
    filtered = client.get(
        reverse("wagtail_leadgen_deliveries:index"), {"status": "manual"}
    ).content.decode()
    lead_delivery = Delivery.objects.get(kind="lead")
    inspect = "wagtail_leadgen_deliveries:inspect"
    assert reverse(inspect, args=[manual_change.pk]) in filtered
    assert reverse(inspect, args=[lead_delivery.pk]) not in filtered


@override_settings(WAGTAIL_LEADGEN=NO_UPDATES)
def test_a_manual_change_says_what_to_do_and_can_be_marked_applied(
    client, manual_change
):
    client.force_login(make_staff("view_lead", "view_delivery", "change_delivery"))
    url = reverse("wagtail_leadgen_deliveries:inspect", args=[manual_change.pk])
    html = client.get(url).content.decode()
    assert "Manual action needed" in html
    assert "cannot apply this consent change (Newsletter — Withdrawn) itself" in html
    assert "Mark as applied by hand" in html
    assert "ann@example.com" not in html
    assert (
        reverse("wagtail_leadgen_leads:inspect", args=[manual_change.lead_id]) in html
    )

    response = client.post(
        reverse("wagtail_leadgen_deliveries:applied", args=[manual_change.pk])
    )
    assert response.status_code == 302
    manual_change.refresh_from_db()
    assert manual_change.status == "delivered"
    assert manual_change.delivered_at is not None
    entry = log_registry.get_logs_for_instance(manual_change.lead).get(
        action="wagtail_leadgen.lead.consent_change_applied"
    )
    assert entry.data == {"delivery": manual_change.pk, "destination": "crm"}
    assert "ann@example.com" not in str(entry.label) + str(entry.data)


@override_settings(WAGTAIL_LEADGEN=NO_UPDATES)
def test_only_a_manual_change_can_be_marked_applied_and_only_with_permission(
    client, manual_change
):
    lead_delivery = Delivery.objects.get(kind="lead")
    client.force_login(make_staff("view_lead", "view_delivery"))
    assert_denied(
        client.post(
            reverse("wagtail_leadgen_deliveries:applied", args=[manual_change.pk])
        )
    )
    client.force_login(make_staff("view_delivery", "change_delivery", username="boss"))
    client.post(reverse("wagtail_leadgen_deliveries:applied", args=[lead_delivery.pk]))
    assert Delivery.objects.get(pk=lead_delivery.pk).last_error == ""
    manual_change.refresh_from_db()
    assert manual_change.status == "manual"


@override_settings(WAGTAIL_LEADGEN=NO_UPDATES)
def test_the_lead_page_lists_consent_changes_too(client, manual_change):
    client.force_login(make_staff("view_lead", "view_delivery"))
    html = client.get(
        reverse("wagtail_leadgen_leads:inspect", args=[manual_change.lead_id])
    ).content.decode()
    assert "Consent change: Newsletter — Withdrawn" in html
    assert "Manual action needed" in html
