"""CRM handoff: the outbox, retries, leases, dead letters and paused destinations."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from django_tasks import task_backends

from wagtail_leadgen import worker
from wagtail_leadgen.crm import locmem
from wagtail_leadgen.crm.base import (
    DestinationGone,
    PermanentCRMError,
    TransientCRMError,
)
from wagtail_leadgen.models import Delivery, PausedDestination, Submission
from wagtail_leadgen.services import outbox

from .factories import make_landing_page, make_purpose, make_submission
from .helpers import failing, locmem_destinations

pytestmark = pytest.mark.django_db

DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def our_tasks():
    """Tasks our code enqueued (Wagtail enqueues its own search-index tasks too)."""
    return [
        result
        for result in task_backends["default"].results
        if result.task.name == "deliver_lead"
    ]


def run_due(**options):
    call_command("leadgen_deliver", "--once", **options)


@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None, archive=None))
def test_a_submission_writes_one_delivery_per_destination(
    post_form, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_form(make_landing_page(), email="ann@example.com")
    assert response.status_code == 303
    deliveries = Delivery.objects.order_by("backend_alias")
    assert [d.backend_alias for d in deliveries] == ["archive", "sales"]
    assert all(d.status == "delivered" for d in deliveries)
    assert sorted(alias for alias, _ in locmem.outbox) == ["archive", "sales"]


@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None, archive=None))
def test_a_page_can_route_its_leads_to_some_destinations_only():
    page = make_landing_page(crm_destinations="sales")
    make_submission(page)
    assert list(Delivery.objects.values_list("backend_alias", flat=True)) == ["sales"]


@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None), TASKS=DUMMY_TASKS)
def test_rollback_leaves_no_delivery_and_enqueues_nothing(
    django_capture_on_commit_callbacks,
):
    task_backends["default"].results.clear()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        make_submission()
        raise RuntimeError("rolled back")
    assert not Delivery.objects.exists()
    assert our_tasks() == []


@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None), TASKS=DUMMY_TASKS)
def test_tasks_carry_the_delivery_id_only(django_capture_on_commit_callbacks):
    task_backends["default"].results.clear()
    with django_capture_on_commit_callbacks(execute=True):
        make_submission(email="secret.person@example.com")
    (result,) = our_tasks()
    assert result.args == [Delivery.objects.get().pk]
    assert result.kwargs == {}
    assert "secret.person" not in repr(result.args)


def test_the_payload_carries_answers_consents_and_a_stable_key():
    purpose = make_purpose(name="Newsletter")
    page = make_landing_page(purposes=[purpose])
    submission = make_submission(
        page,
        language="fr",
        utm={"utm_source": "mail"},
        answers={"company": "Acme"},
        decisions={purpose: True},
        destinations=["database"],
    )
    delivery = submission.deliveries.get()
    payload = worker.build_payload(delivery)
    assert payload.email == "ann@example.com"
    assert payload.answers == {"company": "Acme"}
    assert payload.utm == {"utm_source": "mail"}
    assert payload.language == "fr"
    assert payload.idempotency_key == str(delivery.idempotency_key)
    (consent,) = payload.consents
    assert consent.granted and consent.purpose_name == "Newsletter"
    assert payload.admin_url.endswith(f"/inspect/{submission.lead_id}/")
    assert worker.build_payload(delivery).idempotency_key == payload.idempotency_key


@override_settings(
    WAGTAIL_LEADGEN=locmem_destinations(
        sales=failing(TransientCRMError("the CRM failed", status=503))
    )
)
def test_a_transient_failure_is_retried_later_without_personal_data_in_the_error():
    make_submission(email="secret.person@example.com")
    run_due()
    delivery = Delivery.objects.get()
    assert delivery.status == "pending"
    assert delivery.attempts == 1
    assert delivery.next_attempt_at > timezone.now()
    assert delivery.last_status_code == 503
    assert "secret.person" not in delivery.last_error
    assert "TransientCRMError" in delivery.last_error
    run_due()  # not due yet: nothing happens
    assert Delivery.objects.get().attempts == 1


@override_settings(
    WAGTAIL_LEADGEN=locmem_destinations(
        sales=failing(TransientCRMError("slow down", status=429, retry_after=3600))
    )
)
def test_retry_after_is_honoured():
    make_submission()
    run_due()
    delay = Delivery.objects.get().next_attempt_at - timezone.now()
    assert delay > timedelta(minutes=59)


@override_settings(
    WAGTAIL_LEADGEN=locmem_destinations(
        sales=failing(PermanentCRMError("bad request", status=400))
    )
)
def test_a_refused_lead_is_dead_lettered_with_a_visible_error():
    make_submission()
    run_due()
    delivery = Delivery.objects.get()
    assert delivery.status == "failed"
    assert delivery.last_error == "PermanentCRMError: HTTP 400: bad request"


def test_a_transient_failure_becomes_failed_after_the_last_attempt():
    settings = locmem_destinations(sales=failing(TransientCRMError("down")))
    settings["DELIVERY_MAX_ATTEMPTS"] = 3
    with override_settings(WAGTAIL_LEADGEN=settings):
        make_submission()
        for _ in range(3):
            run_due(all=True)
    delivery = Delivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts == 3


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    delays = [worker.backoff_seconds(n) for n in range(1, 25)]
    assert 30 <= delays[0] <= 60
    assert 240 <= delays[3] <= 480
    assert max(delays) <= 6 * 3600
    assert worker.backoff_seconds(1, retry_after=7200) >= 7200


def test_a_410_pauses_the_destination_and_resuming_delivers_the_waiting_leads():
    gone = {"answer": DestinationGone("gone", status=410)}
    settings = locmem_destinations(sales=lambda lead: gone["answer"])
    with override_settings(WAGTAIL_LEADGEN=settings):
        make_submission(email="a@example.com")
        run_due()
        assert PausedDestination.objects.filter(backend_alias="sales").exists()
        make_submission(email="b@example.com")
        run_due(all=True)
        assert Delivery.objects.filter(status="pending").count() == 2
        assert not locmem.outbox
        gone["answer"] = None
        outbox.resume_destination("sales")
        run_due(all=True)
    assert Delivery.objects.filter(status="delivered").count() == 2
    assert len(locmem.outbox) == 2


@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None))
def test_a_claimed_delivery_belongs_to_one_worker_until_its_lease_expires():
    submission = make_submission()
    delivery = submission.deliveries.get()
    assert worker.claim(delivery.pk) is not None
    assert worker.claim(delivery.pk) is None
    assert worker.claim_due() == []
    Delivery.objects.filter(pk=delivery.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert [d.pk for d in worker.claim_due()] == [delivery.pk]


@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None))
def test_a_worker_crash_after_sending_is_repaired_with_the_same_key(monkeypatch):
    make_submission()
    (delivery,) = worker.claim_due()
    real_record = worker._record

    def crash(*args, **kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(worker, "_record", crash)
    with pytest.raises(SystemExit):
        worker.attempt(delivery)
    monkeypatch.setattr(worker, "_record", real_record)
    assert Delivery.objects.get().status == "pending"
    Delivery.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    run_due()
    assert Delivery.objects.get().status == "delivered"
    keys = [lead.idempotency_key for _, lead in locmem.outbox]
    assert len(keys) == 2 and len(set(keys)) == 1  # sent twice, recognisable as one


@override_settings(
    WAGTAIL_LEADGEN=locmem_destinations(sales=failing(TransientCRMError("down")))
)
def test_deliver_all_ignores_backoff_and_reports_what_it_did(capsys):
    make_submission(email="a@example.com")
    make_submission(email="b@example.com")
    run_due()
    run_due(all=True)
    out = capsys.readouterr().out
    assert "sales: 2 pending" in out
    assert Delivery.objects.filter(attempts=2).count() == 2


@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None))
def test_retry_now_requeues_a_failed_delivery():
    make_submission()
    Delivery.objects.update(status="failed")
    assert outbox.retry_now(Delivery.objects.all()) == 1
    run_due()
    assert Delivery.objects.get().status == "delivered"


def test_spam_is_never_handed_to_a_locmem_destinations(post_form):
    with override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None)):
        post_form(make_landing_page(), email="bot@example.com", leadgen_hp="x")
    assert Submission.objects.get().is_spam
    assert not Delivery.objects.exists()


def crashing_backend(lead):
    raise KeyError("secret.person@example.com")


@override_settings(
    WAGTAIL_LEADGEN=locmem_destinations(sales=lambda lead: crashing_backend(lead))
)
def test_a_crashing_backend_is_retried_and_shown_without_the_exception_text(caplog):
    make_submission()
    with caplog.at_level("DEBUG"):
        run_due()
    assert "secret.person" not in caplog.text
    assert "KeyError" in caplog.text and "Traceback" not in caplog.text
    assert all(record.exc_info is None for record in caplog.records)
    delivery = Delivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1
    assert (
        delivery.last_error == "TransientCRMError: unexpected KeyError in the backend"
    )


@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None))
def test_a_misconfiguration_at_send_time_is_not_swallowed(monkeypatch):
    from wagtail_leadgen.crm.base import CRMConfigurationError

    make_submission()
    (delivery,) = worker.claim_due()

    def misconfigured(alias):
        raise CRMConfigurationError(
            'WAGTAIL_LEADGEN["CRM_BACKENDS"]["sales"] is broken'
        )

    monkeypatch.setattr(worker, "get_backend", misconfigured)
    with pytest.raises(CRMConfigurationError):
        worker.attempt(delivery)
    assert Delivery.objects.get().status == "pending"
