"""Admins see every delivery and can retry; nobody without permission sees leads."""

import pytest
from django.test import override_settings
from django.urls import reverse

from wagtail_leadgen.crm.base import TransientCRMError
from wagtail_leadgen.models import Delivery

from .factories import make_staff, make_submission
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
