"""A submission to several destinations is one task row (``deliver_batch``),
and each of its deliveries still lives on its own: its own attempts and
retries, and one destination failing never keeps the next from its lead."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from wagtail_leadgen.crm import locmem
from wagtail_leadgen.crm.base import CRMConfigurationError, TransientCRMError
from wagtail_leadgen.models import Delivery
from wagtail_leadgen.models.delivery import DeliveryStatus
from wagtail_leadgen.tasks import deliver_batch, deliver_lead

from .factories import make_submission
from .helpers import failing, locmem_destinations

pytestmark = pytest.mark.django_db

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def task_rows(task):
    return DBTaskResult.objects.filter(task_path=task.module_path)


@pytest.fixture(autouse=True)
def empty_outbox():
    locmem.outbox.clear()


@override_settings(
    TASKS=DATABASE_QUEUE, WAGTAIL_LEADGEN=locmem_destinations(sales=None, archive=None)
)
def test_a_submission_to_two_destinations_is_one_task_row():
    submission = make_submission()
    (row,) = task_rows(deliver_batch)
    ids = submission.deliveries.values_list("pk", flat=True)
    assert sorted(row.args_kwargs["args"][0]) == sorted(ids)
    assert row.args_kwargs["kwargs"] == {}
    assert not task_rows(deliver_lead).exists()


@override_settings(
    TASKS=DATABASE_QUEUE, WAGTAIL_LEADGEN=locmem_destinations(sales=None)
)
def test_a_submission_to_one_destination_keeps_its_deliver_lead_task():
    submission = make_submission()
    (row,) = task_rows(deliver_lead)
    assert row.args_kwargs["args"] == [submission.deliveries.get().pk]
    assert not task_rows(deliver_batch).exists()


def batch_of_the_submission() -> list[int]:
    (row,) = task_rows(deliver_batch)
    # The failing destination first: it must not stop the one after it.
    return sorted(
        row.args_kwargs["args"][0],
        key=lambda pk: Delivery.objects.get(pk=pk).backend_alias,
    )


@override_settings(
    TASKS=DATABASE_QUEUE,
    WAGTAIL_LEADGEN=locmem_destinations(
        archive=failing(TransientCRMError("the CRM failed", status=503)), sales=None
    ),
)
def test_a_failing_destination_keeps_its_own_retry_and_the_next_is_delivered():
    make_submission(email="ann@example.com")
    outcomes = deliver_batch.call(batch_of_the_submission())
    assert outcomes == {DeliveryStatus.PENDING: 1, DeliveryStatus.DELIVERED: 1}
    failed = Delivery.objects.get(backend_alias="archive")
    assert failed.status == DeliveryStatus.PENDING
    assert failed.attempts == 1
    assert failed.next_attempt_at > timezone.now()
    assert failed.last_status_code == 503
    delivered = Delivery.objects.get(backend_alias="sales")
    assert delivered.status == DeliveryStatus.DELIVERED
    assert delivered.attempts == 1
    assert [alias for alias, _lead in locmem.outbox] == ["sales"]
    # Its retry is its own task, deferred to its own next attempt.
    (retry,) = task_rows(deliver_lead)
    assert retry.args_kwargs["args"] == [failed.pk]
    assert retry.run_after == failed.next_attempt_at


@override_settings(
    TASKS=DATABASE_QUEUE,
    WAGTAIL_LEADGEN=locmem_destinations(
        archive=failing(CRMConfigurationError("no API key")), sales=None
    ),
)
def test_a_misconfigured_destination_does_not_stop_the_next_either():
    make_submission(email="ann@example.com")
    outcomes = deliver_batch.call(batch_of_the_submission())
    assert outcomes == {"error": 1, DeliveryStatus.DELIVERED: 1}
    assert Delivery.objects.get(backend_alias="sales").status == (
        DeliveryStatus.DELIVERED
    )
    assert Delivery.objects.get(backend_alias="archive").status != (
        DeliveryStatus.DELIVERED
    )
