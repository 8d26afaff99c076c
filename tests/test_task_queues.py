"""Deliveries through the task queues a site deploys, with their own workers.

The rest of the suite runs tasks with django-tasks' immediate or dummy
backends. Here a lead goes through a real queue and a real worker, run
in-process: the database queue of django-tasks-db (the embedded default, as in
the demo) and RQ on Redis (the scale-out, see docs/scaling.md). Both queues
can defer a task, so a failed attempt is re-enqueued for the delivery row's
``next_attempt_at``; the task carries the delivery id only.
"""

from __future__ import annotations

import logging
import os
import signal
import uuid
from contextlib import contextmanager
from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import override_settings

from wagtail_leadgen import tasks as leadgen_tasks
from wagtail_leadgen.crm import locmem
from wagtail_leadgen.crm.base import TransientCRMError
from wagtail_leadgen.models import Delivery, DeliveryStatus

from .factories import make_landing_page, make_submission
from .helpers import failing_once, locmem_destinations

EMAIL = "queued.lead@example.com"


def submit(page) -> Delivery:
    return make_submission(page, EMAIL).deliveries.get()


@contextmanager
def restored_signals_and_loggers(*logger_names: str):
    """Workers install signal handlers and log handlers for a process of their
    own; put the test process's back afterwards."""
    signals = [signal.SIGINT, signal.SIGTERM, signal.SIGQUIT]
    saved_signals = {number: signal.getsignal(number) for number in signals}
    loggers = [logging.getLogger(name) for name in logger_names]
    saved_loggers = [(log, log.level, list(log.handlers)) for log in loggers]
    try:
        yield
    finally:
        for number, handler in saved_signals.items():
            signal.signal(number, handler)
        for log, level, handlers in saved_loggers:
            log.setLevel(level)
            log.handlers[:] = handlers


# -- The database queue (django-tasks-db), the embedded default -----------------
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
needs_db_queue = pytest.mark.skipif(
    not apps.is_installed("django_tasks_db"),
    reason="the database queue's tables need 'django_tasks_db' in "
    "tests/settings.py INSTALLED_APPS",
)


def run_db_worker() -> str:
    """``manage.py db_worker --batch``: run every ready task, then return."""
    out = StringIO()
    with restored_signals_and_loggers(
        "django_tasks", "django.tasks", "django_tasks_db"
    ):
        call_command(
            "db_worker",
            "--batch",
            "--no-reload",
            "--no-startup-delay",
            "--interval=0",
            verbosity=1,
            stdout=out,
            stderr=out,
        )
    return out.getvalue()


def our_db_tasks():
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path="wagtail_leadgen.tasks.deliver_lead")


@needs_db_queue
# The worker checks its connection between tasks (close_old_connections), as
# a worker process does: the data must be committed, so this test is transactional.
@pytest.mark.django_db(transaction=True)
def test_the_database_queue_and_db_worker_deliver_a_lead_once(wagtail_tree):
    page = make_landing_page()
    with override_settings(
        TASKS=DB_TASKS, WAGTAIL_LEADGEN=locmem_destinations(archive=None)
    ):
        delivery = submit(page)
        # Committed, enqueued on commit, not run yet: no worker has looked.
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.PENDING
        (queued,) = our_db_tasks()
        assert queued.args_kwargs == {"args": [delivery.pk], "kwargs": {}}
        assert EMAIL not in str(queued.args_kwargs)

        output = run_db_worker()

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED, output
    assert delivery.attempts == 1
    assert [(alias, lead.email) for alias, lead in locmem.outbox] == [
        ("archive", EMAIL)
    ]
    (done,) = our_db_tasks()
    assert done.status == "SUCCESSFUL"
    assert done.return_value == DeliveryStatus.DELIVERED


@needs_db_queue
@pytest.mark.django_db(transaction=True)
def test_the_database_queue_defers_a_retry_to_the_next_attempt(wagtail_tree):
    page = make_landing_page()
    with override_settings(
        TASKS=DB_TASKS,
        WAGTAIL_LEADGEN=locmem_destinations(
            archive=failing_once(TransientCRMError("timed out"))
        ),
    ):
        delivery = submit(page)
        output = run_db_worker()

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING, output
    assert delivery.attempts == 1
    assert locmem.outbox == []
    # The task re-enqueued itself for the row's next attempt; the batch worker
    # left it, as it is not due yet.
    first, retry = our_db_tasks().order_by("enqueued_at")
    assert first.status == "SUCCESSFUL" and first.return_value == "pending"
    assert retry.status == "READY"
    assert retry.args_kwargs == {"args": [delivery.pk], "kwargs": {}}
    assert abs(retry.run_after - delivery.next_attempt_at) < timedelta(seconds=1)


# -- RQ on Redis, the scale-out ---------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
needs_redis = pytest.mark.skipif(
    not REDIS_URL,
    reason="set REDIS_URL (e.g. redis://127.0.0.1:6379/0) to run the RQ tests; "
    ".ci/run does",
)


@pytest.fixture
def page(db):
    """A landing page, created before the queue settings below apply: saving a
    page enqueues Wagtail's own index tasks on the "default" queue."""
    return make_landing_page()


@pytest.fixture
def rq_queue(page, monkeypatch):
    """A queue of its own on the Redis at REDIS_URL, emptied afterwards.

    ``deliver_lead`` is declared on the "default" queue; here it is swapped for
    the same task on a uniquely named queue, so that the test neither runs
    nor leaves jobs on a queue that something else on this Redis may use.
    """
    import django_rq
    from django_tasks_rq import Job
    from rq.registry import (
        FailedJobRegistry,
        FinishedJobRegistry,
        ScheduledJobRegistry,
        StartedJobRegistry,
    )

    name = f"leadgen-test-{uuid.uuid4().hex[:12]}"
    tasks = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": [name]}}
    with override_settings(TASKS=tasks, RQ_QUEUES={name: {"URL": REDIS_URL}}):
        monkeypatch.setattr(
            leadgen_tasks,
            "deliver_lead",
            leadgen_tasks.deliver_lead.using(queue_name=name),
        )
        queue = django_rq.get_queue(name, job_class=Job)
        queue.connection.ping()
        try:
            yield queue
        finally:
            registries = [
                registry(queue=queue)
                for registry in (
                    FailedJobRegistry,
                    FinishedJobRegistry,
                    ScheduledJobRegistry,
                    StartedJobRegistry,
                )
            ]
            job_ids = set(queue.get_job_ids())
            for registry in registries:
                job_ids.update(registry.get_job_ids())
            redis = queue.connection
            for job_id in job_ids:
                redis.delete(f"rq:job:{job_id}", f"rq:results:{job_id}")
            queue.delete(delete_jobs=True)  # also leaves RQ's set of queues
            for key in redis.scan_iter(match=f"*{name}*"):
                redis.delete(key)


def run_rq_worker(queue) -> None:
    """An in-process burst worker (``rqworker --burst``): it shares the test's
    database connection, so it sees the test transaction's rows."""
    from django_tasks_rq import Job
    from rq import SimpleWorker

    worker = SimpleWorker(
        [queue],
        connection=queue.connection,
        job_class=Job,
        name=f"{queue.name}-worker",
    )
    with restored_signals_and_loggers("rq", "rq.worker"):
        worker.work(burst=True, logging_level="WARNING")


@needs_redis
@pytest.mark.django_db
def test_rq_on_redis_delivers_a_lead_once(
    page, rq_queue, django_capture_on_commit_callbacks
):
    with override_settings(WAGTAIL_LEADGEN=locmem_destinations(archive=None)):
        with django_capture_on_commit_callbacks(execute=True):
            delivery = submit(page)
        (job,) = rq_queue.get_jobs()
        assert job.func_name == "wagtail_leadgen.tasks.deliver_lead"
        assert list(job.args) == [delivery.pk] and job.kwargs == {}

        run_rq_worker(rq_queue)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 1
    assert [(alias, lead.email) for alias, lead in locmem.outbox] == [
        ("archive", EMAIL)
    ]
    assert rq_queue.count == 0
    job.refresh()
    assert job.get_status() == "finished"
    assert job.return_value() == DeliveryStatus.DELIVERED


@needs_redis
@pytest.mark.django_db
def test_rq_schedules_a_retry_for_the_next_attempt(
    page, rq_queue, django_capture_on_commit_callbacks
):
    from rq.registry import ScheduledJobRegistry

    with override_settings(
        WAGTAIL_LEADGEN=locmem_destinations(
            archive=failing_once(TransientCRMError("timed out"))
        )
    ):
        with django_capture_on_commit_callbacks(execute=True):
            delivery = submit(page)
        run_rq_worker(rq_queue)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert locmem.outbox == []
    scheduled = ScheduledJobRegistry(queue=rq_queue)
    (retry_id,) = scheduled.get_job_ids()
    retry = rq_queue.fetch_job(retry_id)
    assert list(retry.args) == [delivery.pk]
    run_at = scheduled.get_scheduled_time(retry)
    assert abs(run_at - delivery.next_attempt_at) < timedelta(seconds=1)
