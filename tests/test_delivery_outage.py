"""The end-to-end property: leads sent while the CRM is down all arrive, once.

A real HTTP server plays the CRM and the real webhook backend talks to it, so
timeouts, resets, Retry-After and status codes travel over real sockets.
"""

import base64
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from wagtail_leadgen.models import Delivery, PausedDestination
from wagtail_leadgen.services.consent import withdraw_consent
from wagtail_leadgen.services.outbox import propagate_consent_change

from .factories import make_landing_page, make_purpose, make_submission
from .fake_crm import verify_standard_webhook

pytestmark = pytest.mark.django_db

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
N = 12


def settings_for(fake_crm, **options):
    return {
        "CRM_BACKENDS": {
            "hooks": {
                "BACKEND": "wagtail_leadgen.crm.webhook.WebhookBackend",
                "OPTIONS": {
                    "URL": fake_crm.url,
                    "SECRET": SECRET,
                    "ALLOW_HTTP": True,
                    "ALLOW_PRIVATE_ADDRESSES": True,
                    "CONNECT_TIMEOUT": 1,
                    "READ_TIMEOUT": 0.5,
                    **options,
                },
            }
        }
    }


def submit_leads(count):
    page = make_landing_page()
    for n in range(count):
        make_submission(page, f"lead{n}@example.com", destinations=["hooks"])


def deliver_everything_now():
    call_command("leadgen_deliver", "--once", "--all")


def make_everything_due():
    Delivery.objects.update(next_attempt_at=timezone.now(), lease_expires_at=None)


def test_leads_sent_while_the_crm_is_down_arrive_exactly_once_after_it_recovers(
    fake_crm,
):
    with override_settings(WAGTAIL_LEADGEN=settings_for(fake_crm)):
        fake_crm.stop()  # connection refused
        submit_leads(N)
        call_command("leadgen_deliver", "--once")
        assert Delivery.objects.filter(status="pending", attempts=1).count() == N

        fake_crm.start()
        for behaviour in (
            ("status", 503, {"Retry-After": "1"}),
            ("hang", 2),
            ("reset",),
            ("status", 429),
        ):
            fake_crm.script(*behaviour)
        deliver_everything_now()  # a few attempts hit the scripted failures
        make_everything_due()
        deliver_everything_now()
        make_everything_due()
        deliver_everything_now()

    assert Delivery.objects.filter(status="delivered").count() == N
    assert not Delivery.objects.filter(status="failed").exists()
    assert len(fake_crm.unique_ids) == N  # every lead once, whatever the retries
    for request in fake_crm.accepted:
        verify_standard_webhook(SECRET, request)
    keys = {
        str(key) for key in Delivery.objects.values_list("idempotency_key", flat=True)
    }
    assert set(fake_crm.unique_ids) == keys


def test_a_crm_that_stored_the_lead_but_answered_too_late_gets_it_once_more_with_the_same_id(
    fake_crm,
):
    with override_settings(WAGTAIL_LEADGEN=settings_for(fake_crm)):
        submit_leads(1)
        fake_crm.script("hang", 1.5)  # stores, then answers after our read timeout
        call_command("leadgen_deliver", "--once")
        assert Delivery.objects.get().status == "pending"
        make_everything_due()
        call_command("leadgen_deliver", "--once")
    assert Delivery.objects.get().status == "delivered"
    assert len(fake_crm.requests) == 2
    assert fake_crm.requests[0].webhook_id == fake_crm.requests[1].webhook_id
    assert len(fake_crm.unique_ids) == 1


def test_retry_after_from_the_crm_schedules_the_next_attempt(fake_crm):
    with override_settings(WAGTAIL_LEADGEN=settings_for(fake_crm)):
        submit_leads(1)
        fake_crm.script("status", 503, {"Retry-After": "7200"})
        call_command("leadgen_deliver", "--once")
    delivery = Delivery.objects.get()
    assert delivery.last_status_code == 503
    assert delivery.next_attempt_at - timezone.now() > timedelta(hours=1, minutes=59)


def test_a_400_is_dead_lettered_and_a_410_pauses_the_destination(fake_crm):
    with override_settings(WAGTAIL_LEADGEN=settings_for(fake_crm)):
        submit_leads(2)
        fake_crm.script("status", 400)
        fake_crm.script("status", 410)
        call_command("leadgen_deliver", "--once")
    statuses = sorted(Delivery.objects.values_list("status", "last_status_code"))
    assert statuses == [("failed", 400), ("pending", 410)]
    assert PausedDestination.objects.filter(backend_alias="hooks").exists()


def test_no_personal_data_in_errors_or_logs(fake_crm, caplog):
    with (
        override_settings(WAGTAIL_LEADGEN=settings_for(fake_crm)),
        caplog.at_level("DEBUG"),
    ):
        submit_leads(1)
        fake_crm.script("status", 500, {}, b'{"error": "lead0@example.com is invalid"}')
        call_command("leadgen_deliver", "--once")
    delivery = Delivery.objects.get()
    assert "lead0" not in delivery.last_error
    assert "lead0" not in caplog.text
    assert SECRET not in caplog.text and SECRET not in delivery.last_error


def test_a_withdrawal_sent_while_the_crm_is_down_arrives_exactly_once_after_recovery(
    fake_crm,
):
    newsletter = make_purpose(name="Newsletter")
    page = make_landing_page(purposes=[newsletter])
    with override_settings(WAGTAIL_LEADGEN=settings_for(fake_crm)):
        submission = make_submission(
            page,
            "ann@example.com",
            destinations=["hooks"],
            decisions={newsletter: True},
        )
        deliver_everything_now()
        assert Delivery.objects.get().status == "delivered"

        fake_crm.stop()
        record = withdraw_consent(
            submission.lead, newsletter, language="en", channel="preferences"
        )
        (change,) = propagate_consent_change([record])
        call_command("leadgen_deliver", "--once")
        change.refresh_from_db()
        assert change.status == "pending" and change.attempts == 1

        fake_crm.start()
        fake_crm.script("hang", 2)  # stored, but answered after our read timeout
        fake_crm.script("status", 503)
        for _ in range(3):
            make_everything_due()
            deliver_everything_now()

    change.refresh_from_db()
    assert change.status == "delivered"
    events = [verify_standard_webhook(SECRET, r) for r in fake_crm.accepted]
    withdrawals = [e for e in events if e["type"] == "lead.consent_changed"]
    assert {e["id"] for e in withdrawals} == {str(change.idempotency_key)}
    assert len(fake_crm.unique_ids) == 2  # the lead, then the withdrawal: once each
    assert withdrawals[0]["data"]["decision"] == "withdrawn"
    assert withdrawals[0]["data"]["purpose"] == "Newsletter"
