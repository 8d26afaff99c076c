"""Call-back requests: phone and slot validation, business hours and the SLA
clock, the alerts ahead of any backlog, the admin's list and "called"
action, erasure and the person's export."""

from __future__ import annotations

import datetime as dt
import io
import json
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.test import override_settings
from django.urls import reverse

from wagtail_leadgen.business_hours import merge_callback
from wagtail_leadgen.callback_forms import parse_phone
from wagtail_leadgen.models import (
    CallbackPage,
    CallbackRequest,
    Delivery,
    DeliveryKind,
    Submission,
)
from wagtail_leadgen.models.delivery import DeliveryPriority
from wagtail_leadgen.services.callbacks import sla_badge, weekly_figures
from wagtail_leadgen.services.erasure import erase_lead
from wagtail_leadgen.services.subject import subject_data
from wagtail_leadgen.worker import claim_due

from .factories import _with_form, make_staff, make_submission, site_root
from .helpers import form_data, sweep

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
HOURS = {
    "HOURS": ("09:00", "18:00"),
    "DAYS": (0, 1, 2, 3, 4),
    "TIME_ZONE": "Europe/Paris",
    "HOLIDAYS": ("2026-12-25",),
}
MOBILE = "06 12 34 56 78"
MOBILE_E164 = "+33612345678"


def leadgen(**callback):
    return override_settings(
        WAGTAIL_LEADGEN={
            "FORM_MIN_FILL_SECONDS": 0,
            "CRM_BACKENDS": {
                "locmem": {"BACKEND": "wagtail_leadgen.crm.locmem.LocmemBackend"}
            },
            "CALLBACK": callback,
        }
    )


def paris(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


def make_callback_page(**kwargs) -> CallbackPage:
    kwargs.setdefault("title", "Call me back")
    kwargs.setdefault("slug", "call-me-back")
    page = site_root().add_child(instance=CallbackPage(**kwargs))
    return _with_form(page, (), False)


def post(client, page, **answers):
    answers.setdefault("email", "ann@example.com")
    return client.post(page.url, form_data(client, page, **answers))


# -- Settings -------------------------------------------------------------------
def test_bad_business_hours_are_configuration_errors():
    for bad in (
        {"HOURS": ("18:00", "09:00")},
        {"HOURS": "9-18"},
        {"DAYS": (7,), "HOURS": ("09:00", "18:00")},
        {"HOLIDAYS": ("25/12",), "HOURS": ("09:00", "18:00")},
        {"TIME_ZONE": "Mars/Olympus"},
        {"SLA_MINUTES": 0},
        {"COUNTRY_CODES": ()},
        {"SLA_MINUTE": 5},
    ):
        with pytest.raises(ImproperlyConfigured):
            merge_callback(bad)


# -- Business hours and the SLA clock --------------------------------------------
@pytest.mark.parametrize(
    ("requested", "clock_starts"),
    [
        # Wednesday 10:00: open, the clock starts at once.
        (paris(2026, 12, 2, 10, 0), paris(2026, 12, 2, 10, 0)),
        # Wednesday 20:30: closed, next opening Thursday 09:00.
        (paris(2026, 12, 2, 20, 30), paris(2026, 12, 3, 9, 0)),
        # Friday 18:00 (closing time): Monday 09:00.
        (paris(2026, 12, 4, 18, 0), paris(2026, 12, 7, 9, 0)),
        # Thursday 24 December evening: Friday 25 is a holiday, then the
        # weekend: Monday 28 at 09:00.
        (paris(2026, 12, 24, 19, 0), paris(2026, 12, 28, 9, 0)),
        # Early morning: the same day's opening.
        (paris(2026, 12, 2, 7, 15), paris(2026, 12, 2, 9, 0)),
    ],
)
def test_the_clock_starts_at_opening_time_outside_business_hours(
    client, requested, clock_starts
):
    with leadgen(**HOURS):
        page = make_callback_page()
        with time_machine.travel(requested, tick=False):
            response = post(client, page, phone=MOBILE)
        assert response.status_code == 200, response.content
        callback = CallbackRequest.objects.get()
    assert callback.requested_at == requested
    assert callback.sla_starts_at == clock_starts
    assert callback.due_at == clock_starts + dt.timedelta(minutes=5)
    assert callback.phone == MOBILE_E164


def test_outside_hours_the_visitor_is_told_when_we_will_call(client):
    with leadgen(**HOURS):
        page = make_callback_page()
        with time_machine.travel(paris(2026, 12, 24, 19, 0), tick=False):
            response = post(client, page, phone=MOBILE)
    text = response.content.decode()
    assert "closed right now" in text
    assert "Dec. 28, 2026" in text or "28" in text


def test_during_hours_the_visitor_is_promised_the_sla(client):
    with leadgen(**HOURS):
        page = make_callback_page()
        with time_machine.travel(paris(2026, 12, 2, 10, 0), tick=False):
            response = post(client, page, phone=MOBILE)
    assert "within 5 minutes" in response.content.decode()


def test_a_chosen_window_starts_the_clock_and_is_promised(client):
    with leadgen(**HOURS):
        page = make_callback_page()
        with time_machine.travel(paris(2026, 12, 2, 10, 0), tick=False):
            response = post(
                client,
                page,
                phone=MOBILE,
                callback_when="later",
                callback_at="2026-12-03T14:00",
            )
        assert response.status_code == 200, response.content
        callback = CallbackRequest.objects.get()
    assert callback.slot_start == paris(2026, 12, 3, 14, 0)
    assert callback.slot_end == paris(2026, 12, 3, 15, 0)
    assert callback.sla_starts_at == callback.slot_start
    assert "We will call you between" in response.content.decode()


# -- Bad input: a clear error, nothing stored --------------------------------------
@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"phone": "12"}, "phone number"),
        ({"phone": "not a number"}, "phone number"),
        ({"phone": "08 99 12 34 56"}, "premium-rate"),  # French premium rate
        ({"phone": "+1 202 555 0143"}, "We can only call numbers in"),
        ({"phone": "06 12\x0034 56 78"}, ""),
        ({"phone": "06 12 34 56 78\r\nBcc: x@example.com"}, ""),
        ({"phone": "9" * 5000}, ""),
        ({"phone": ""}, "required"),
        (
            {
                "phone": MOBILE,
                "callback_when": "later",
                "callback_at": "2026-12-01T09:00",
            },
            "has passed",
        ),
        ({"phone": MOBILE, "callback_when": "later", "callback_at": ""}, "Choose when"),
        (
            {"phone": MOBILE, "callback_when": "later", "callback_at": "<script>"},
            "date",
        ),
        (
            {
                "phone": MOBILE,
                "callback_when": "later",
                "callback_at": "9999-12-31T23:59-05:00",
            },
            "date",
        ),
        ({"phone": MOBILE, "callback_when": "\x00later"}, "valid choice"),
        (
            {
                "phone": MOBILE,
                "callback_when": "later",
                "callback_at": "2026-12-05T10:00",
            },
            "working days",  # a Saturday
        ),
        (
            {
                "phone": MOBILE,
                "callback_when": "later",
                "callback_at": "2027-06-01T10:00",
            },
            "within the next",
        ),
    ],
)
def test_bad_input_is_refused_with_nothing_stored(client, answers, message):
    with leadgen(**HOURS):
        page = make_callback_page()
        with time_machine.travel(paris(2026, 12, 2, 10, 0), tick=False):
            response = post(client, page, **answers)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not CallbackRequest.objects.exists()
    assert not Submission.objects.exists()
    assert not Delivery.objects.exists()


def test_phone_numbers_are_stored_as_e164():
    with leadgen(COUNTRY_CODES=("FR", "BE")):
        assert parse_phone("06.12.34.56.78") == MOBILE_E164
        assert parse_phone("+33 1 42 68 53 00") == "+33142685300"
        assert parse_phone("+32 470 12 34 56") == "+32470123456"
        with pytest.raises(ValidationError):
            parse_phone("+44 20 7946 0958")  # a country not accepted


def test_a_missing_phone_block_is_still_asked_and_required():
    page = make_callback_page()
    form_class = page.get_form_class()
    assert form_class.base_fields["phone"].required
    assert "phone" in form_class.extra_field_kinds


# -- Alerts ahead of every backlog ------------------------------------------------
def test_the_alert_is_claimed_before_a_backlog_of_1000_deliveries(client):
    with leadgen(ALERT_DESTINATIONS=("locmem",)):
        page = make_callback_page()
        lead_submission = Submission.objects.create(page=page)
        Delivery.objects.bulk_create(
            [
                Delivery(submission=lead_submission, backend_alias="locmem")
                for _ in range(1000)
            ]
        )
        response = post(client, page, phone=MOBILE)
        assert response.status_code == 200
    alert = Delivery.objects.get(kind=DeliveryKind.CALLBACK)
    assert alert.priority == DeliveryPriority.HIGH
    claimed = claim_due(limit=1)
    assert [delivery.pk for delivery in claimed] == [alert.pk]


@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}})
def test_the_alert_tasks_run_before_a_queue_of_1000_tasks(client):
    from django_tasks_db.models import DBTaskResult  # noqa: PLC0415 - optional extra

    from wagtail_leadgen.tasks import enqueue_deliveries  # noqa: PLC0415 - next to its use

    with leadgen(ALERT_DESTINATIONS=("locmem",), SALES_EMAIL="sales@example.com"):
        page = make_callback_page()
        enqueue_deliveries(range(1, 1001))
        response = post(client, page, phone=MOBILE)
        assert response.status_code == 200
    first = DBTaskResult.objects.ready()[:2]
    assert [task.priority for task in first] == [100, 100]
    assert sorted(task.task_path for task in first) == [
        "wagtail_leadgen.tasks.deliver_lead",
        "wagtail_leadgen.tasks.send_callback_email",
    ]
    assert DBTaskResult.objects.count() >= 1002


def test_sales_gets_an_email_at_once(client, django_capture_on_commit_callbacks):
    with leadgen(SALES_EMAIL="sales@example.com"):
        page = make_callback_page()
        with django_capture_on_commit_callbacks(execute=True):
            post(client, page, phone=MOBILE)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["sales@example.com"]
    assert MOBILE_E164 in message.subject
    assert "ann@example.com" in message.body
    assert CallbackRequest.objects.get().alerted_at is not None


def test_a_request_released_from_quarantine_is_recorded_and_alerts_sales(
    client, django_capture_on_commit_callbacks
):
    from wagtail_leadgen.services.quarantine import release

    with leadgen(SALES_EMAIL="sales@example.com"):
        page = make_callback_page()
        with override_settings(
            WAGTAIL_LEADGEN={"FORM_MIN_FILL_SECONDS": 3600, "CALLBACK": {}}
        ):
            post(client, page, phone=MOBILE)  # too fast: held as spam
        spam = Submission.objects.get(is_spam=True)
        assert not CallbackRequest.objects.exists()
        with django_capture_on_commit_callbacks(execute=True):
            result, _spam = release(spam.pk)
    callback = CallbackRequest.objects.get()
    assert callback.submission == result.submission
    assert callback.phone == MOBILE_E164
    assert [message.to for message in mail.outbox] == [["sales@example.com"]]


def test_a_webhook_destination_gets_a_callback_requested_event(
    client, fake_crm, django_capture_on_commit_callbacks
):
    hooks = {
        "BACKEND": "wagtail_leadgen.crm.webhook.WebhookBackend",
        "OPTIONS": {
            "URL": fake_crm.url,
            "SECRET": "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "ALLOW_HTTP": True,
            "ALLOW_PRIVATE_ADDRESSES": True,
        },
    }
    with override_settings(
        WAGTAIL_LEADGEN={
            "FORM_MIN_FILL_SECONDS": 0,
            "CRM_BACKENDS": {"hooks": hooks},
            "CALLBACK": {"ALERT_DESTINATIONS": ("hooks",)},
        }
    ):
        page = make_callback_page(crm_destinations="hooks")
        with django_capture_on_commit_callbacks(execute=True):
            post(client, page, phone=MOBILE)
    events = {request.json()["type"]: request.json() for request in fake_crm.requests}
    assert "callback.requested" in events
    data = events["callback.requested"]["data"]
    assert data["phone"] == MOBILE_E164
    assert data["email"] == "ann@example.com"
    alert = Delivery.objects.get(kind=DeliveryKind.CALLBACK)
    assert alert.status == "delivered"


# -- The admin: list, SLA badge, "called" ------------------------------------------
def _callback(client) -> CallbackRequest:
    with leadgen(**HOURS):
        page = make_callback_page()
        with time_machine.travel(paris(2026, 12, 2, 10, 0), tick=False):
            post(client, page, phone=MOBILE)
    return CallbackRequest.objects.get()


def test_sla_badge_says_due_in_then_late_by(client):
    callback = _callback(client)
    assert sla_badge(callback, paris(2026, 12, 2, 10, 2)).state == "due"
    assert sla_badge(callback, paris(2026, 12, 2, 10, 2)).minutes == 3
    late = sla_badge(callback, paris(2026, 12, 2, 10, 12))
    assert (late.state, late.minutes) == ("late", 7)


def test_staff_mark_a_callback_called_audited(client):
    callback = _callback(client)
    staff = make_staff("view_lead", "change_lead")
    client.force_login(staff)
    listing = client.get(reverse("wagtail_leadgen_callbacks:index"))
    assert listing.status_code == 200
    assert MOBILE_E164 in listing.content.decode()
    with time_machine.travel(paris(2026, 12, 2, 10, 3), tick=False):
        response = client.post(
            reverse("wagtail_leadgen_callbacks:called", args=[callback.pk]),
            {
                "outcome": "reached",
                "notes": "Wants a demo on Friday",
                "next": "//evil.example",
            },
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtail_leadgen_callbacks:index")
    callback.refresh_from_db()
    assert callback.notes == "Wants a demo on Friday"
    assert callback.first_called_at == paris(2026, 12, 2, 10, 3)
    assert callback.called_by == staff
    assert callback.outcome == "reached"
    assert sla_badge(callback).state == "met"
    from wagtail.models import ModelLogEntry  # noqa: PLC0415 - the audit log's table

    entry = ModelLogEntry.objects.get(action="wagtail_leadgen.lead.callback_called")
    assert MOBILE_E164 not in str(entry.data)


def test_marking_called_needs_change_lead_and_post(client):
    callback = _callback(client)
    client.force_login(make_staff("view_lead"))
    url = reverse("wagtail_leadgen_callbacks:called", args=[callback.pk])
    assert client.post(url, {"outcome": "reached"}).status_code in (302, 403)
    callback.refresh_from_db()
    assert callback.first_called_at is None
    client.force_login(make_staff("view_lead", "change_lead", username="boss"))
    assert client.get(url).status_code == 405
    client.post(url, {"outcome": "<b>hostile</b>"})
    callback.refresh_from_db()
    assert callback.first_called_at is None


def test_the_list_needs_view_lead(client):
    client.force_login(make_staff())
    response = client.get(reverse("wagtail_leadgen_callbacks:index"))
    assert response.status_code in (302, 403)


# -- Weekly time to first call -------------------------------------------------------
def test_median_p90_and_share_within_target_per_week():
    start = paris(2026, 11, 30, 10, 0)  # a Monday
    callbacks = [
        CallbackRequest(
            sla_starts_at=start,
            first_called_at=start + dt.timedelta(minutes=minutes),
        )
        for minutes in (1, 2, 3, 4, 5, 6, 7, 8, 9, 30)
    ] + [CallbackRequest(sla_starts_at=start, first_called_at=None)]
    (week,) = weekly_figures(callbacks, target_minutes=5)
    assert week.week == dt.date(2026, 11, 30)
    assert (week.requests, week.called) == (11, 10)
    assert week.median_minutes == 5.5
    assert week.p90_minutes == 9
    assert week.within_target == 0.5


# -- The person's rights ----------------------------------------------------------
def test_the_export_lists_the_callbacks_and_erasure_leaves_nothing(client):
    callback = _callback(client)
    data = subject_data(callback.lead)
    (exported,) = data["callback_requests"]
    assert exported["phone"] == MOBILE_E164
    erase_lead(callback.lead, requested_by="test", reason="request")
    assert not CallbackRequest.objects.exists()
    assert sweep(MOBILE_E164, "ann@example.com") == []


# -- Editor hints -------------------------------------------------------------------
def _hint_ids(page) -> set[str]:
    from wagtail_leadgen.services.hints import page_hints  # noqa: PLC0415 - next to its use

    return {hint.id for hint in page_hints(page).hints}


def test_a_callback_page_without_business_hours_gets_a_hint():
    page = make_callback_page()
    assert {"callback-hours", "callback-alert"} <= _hint_ids(page)
    with leadgen(SALES_EMAIL="sales@example.com", **HOURS):
        assert not {"callback-hours", "callback-alert"} & _hint_ids(page)


# -- Checks ----------------------------------------------------------------------------
def test_alert_destinations_must_be_webhook_destinations():
    from wagtail_leadgen.callback_checks import (  # noqa: PLC0415 - the checks under test
        check_callback_alert_destinations,
    )

    with leadgen(ALERT_DESTINATIONS=("nowhere", "locmem")):
        ids = [message.id for message in check_callback_alert_destinations(None)]
    assert ids == ["wagtail_leadgen.E030", "wagtail_leadgen.E031"]


def test_live_callback_pages_without_hours_or_alerts_are_warned():
    from wagtail_leadgen.callback_checks import (  # noqa: PLC0415 - the checks under test
        check_live_callback_pages,
    )

    make_callback_page()
    ids = [message.id for message in check_live_callback_pages(None, ["default"])]
    assert ids == ["wagtail_leadgen.W050", "wagtail_leadgen.W051"]
    with leadgen(SALES_EMAIL="sales@example.com", **HOURS):
        assert check_live_callback_pages(None, ["default"]) == []


# -- The JSON API: the same form, the same verdicts ------------------------------------
def _api_body(client, page, answers):
    schema = client.get(f"/api/leadgen/v1/forms/{page.pk}").json()
    names = [field["name"] for field in schema["fields"]]
    assert names[:2] == ["email", "phone"]
    assert {"callback_when", "callback_at"} <= set(names)
    return {"answers": answers, "consents": {}, "token": schema["anti_spam"]["token"]}


def _api_post(client, page, body):
    return client.post(
        f"/api/leadgen/v1/forms/{page.pk}/submissions",
        json.dumps(body),
        content_type="application/json",
    )


def test_the_api_takes_a_callback_request(client):
    with leadgen(**HOURS):
        page = make_callback_page()
        with time_machine.travel(paris(2026, 12, 2, 10, 0), tick=False):
            body = _api_body(
                client,
                page,
                {
                    "email": "ann@example.com",
                    "phone": MOBILE,
                    "callback_when": "later",
                    "callback_at": "2026-12-03T11:00",
                },
            )
            response = _api_post(client, page, body)
    assert response.status_code == 201, response.content
    callback = CallbackRequest.objects.get()
    assert callback.phone == MOBILE_E164
    assert callback.slot_start == paris(2026, 12, 3, 11, 0)
    assert callback.submission.channel == "api"


def test_the_api_refuses_a_premium_number_with_nothing_stored(client):
    with leadgen(**HOURS):
        page = make_callback_page()
        with time_machine.travel(paris(2026, 12, 2, 10, 0), tick=False):
            body = _api_body(
                client, page, {"email": "ann@example.com", "phone": "0899123456"}
            )
            response = _api_post(client, page, body)
    assert response.status_code == 422, response.content
    assert "phone" in response.content.decode()
    assert not Submission.objects.exists()


def test_the_dashboard_shows_time_to_first_call_against_the_target(client):
    callback = _callback(client)
    callback.first_called_at = callback.sla_starts_at + dt.timedelta(minutes=3)
    callback.save()
    client.force_login(make_staff("view_lead", "change_lead"))
    with time_machine.travel(paris(2026, 12, 3, 10, 0), tick=False):
        response = client.get(
            reverse("wagtail_leadgen_kpis:report"),
            {"start": "2026-11-20", "end": "2026-12-03"},
        )
    assert response.status_code == 200, response.content
    text = response.content.decode()
    assert "Call-backs: time to first call" in text
    assert "Within 5 minutes" in text
    assert "3.0" in text
    assert "100 %" in text


def test_leadgen_deliver_sends_a_sales_email_the_queue_left_unsent(client):
    from django.core.management import call_command  # noqa: PLC0415 - next to its use

    with leadgen(SALES_EMAIL="sales@example.com"):
        page = make_callback_page()
        with time_machine.travel(paris(2026, 12, 2, 10, 0), tick=False):
            post(client, page, phone=MOBILE)  # on_commit never runs here: no email
        assert mail.outbox == []
        with time_machine.travel(paris(2026, 12, 2, 10, 0, 30), tick=False):
            call_command("leadgen_deliver", "--once", stdout=io.StringIO())
        assert mail.outbox == []  # the queue's minute is not over
        with time_machine.travel(paris(2026, 12, 2, 10, 2), tick=False):
            call_command("leadgen_deliver", "--once", stdout=io.StringIO())
            call_command("leadgen_deliver", "--once", stdout=io.StringIO())
    assert len(mail.outbox) == 1


def test_an_erasure_asks_the_destination_that_only_had_the_alert(
    client, fake_crm, django_capture_on_commit_callbacks
):
    hooks = {
        "BACKEND": "wagtail_leadgen.crm.webhook.WebhookBackend",
        "OPTIONS": {
            "URL": fake_crm.url,
            "SECRET": "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "ALLOW_HTTP": True,
            "ALLOW_PRIVATE_ADDRESSES": True,
        },
    }
    with override_settings(
        WAGTAIL_LEADGEN={
            "FORM_MIN_FILL_SECONDS": 0,
            "CRM_BACKENDS": {
                "locmem": {"BACKEND": "wagtail_leadgen.crm.locmem.LocmemBackend"},
                "hooks": hooks,
            },
            "CALLBACK": {"ALERT_DESTINATIONS": ("hooks",)},
        }
    ):
        page = make_callback_page(crm_destinations="locmem")
        with django_capture_on_commit_callbacks(execute=True):
            post(client, page, phone=MOBILE)
        assert not Delivery.objects.filter(
            kind=DeliveryKind.LEAD, backend_alias="hooks"
        )
        lead = CallbackRequest.objects.get().lead
        with django_capture_on_commit_callbacks(execute=True):
            erasure = erase_lead(lead, reason="request")
    assert "hooks" in erasure.destinations
    types = [request.json()["type"] for request in fake_crm.requests]
    assert types == ["callback.requested", "lead.erased"]
    assert sweep(MOBILE_E164) == []


def test_the_leads_inbox_filters_leads_to_call_back(client):
    callback = _callback(client)
    other = make_submission(email="bob@example.com")
    client.force_login(make_staff("view_lead"))
    url = reverse("wagtail_leadgen_leads:index")
    waiting = client.get(url, {"callback": "waiting"}).content.decode()
    assert "ann@example.com" in waiting and "bob@example.com" not in waiting
    callback.first_called_at = callback.due_at
    callback.save()
    assert (
        "ann@example.com"
        not in client.get(url, {"callback": "waiting"}).content.decode()
    )
    assert "ann@example.com" in client.get(url, {"callback": "any"}).content.decode()
    everyone = client.get(url).content.decode()
    assert "ann@example.com" in everyone and other.lead.email in everyone
    assert client.get(url, {"callback": "<script>"}).status_code == 200


def test_the_person_sees_their_callback_requests_on_their_data_page(client):
    from wagtail_leadgen.views.my_data_display import for_display  # noqa: PLC0415

    callback = _callback(client)
    callback.first_called_at = callback.due_at
    callback.outcome = "voicemail"
    callback.save()
    (shown,) = for_display(subject_data(callback.lead))["callback_requests"]
    assert shown["phone"] == MOBILE_E164
    assert shown["called_at"] == callback.due_at
    assert shown["outcome_label"] == "Voicemail"
