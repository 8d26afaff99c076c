"""What a landing page view and a submission cost in SQL, and that what is
built once per revision is never shown stale.

Query counts are deterministic (unlike times): they are pinned here. Times
are measured by ``benchmarks/request_costs.py``.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import override_settings
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from wagtail_leadgen.models import ConsentPurpose, ConsentRecord, ContentStamp, Lead
from wagtail_leadgen.models.freshness import form_cache

from .factories import (
    make_ebook_page,
    make_landing_page,
    make_purpose,
    make_submission,
    republish,
    set_controller,
)
from .helpers import form_data, ticked

pytestmark = pytest.mark.django_db

BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
)
CRAWLER = "Mozilla/5.0 (compatible; Googlebot/2.1)"
DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Wagtail's own routing of a GET or POST: the site, the root and the page,
# the page's view restrictions (two queries), as for its own form pages.
WAGTAIL_ROUTING = 5
# The capture transaction: a savepoint and its release inside a test's own
# transaction, on both databases. (Served, SQLite runs BEGIN and COMMIT as
# statements and PostgreSQL does not: benchmarks/request_costs.py.)
TRANSACTION_CONTROL = 2
# On PostgreSQL the task row is written in a savepoint of its own (a failed
# statement there would abort the capture); SQLite needs none.
ENQUEUE_SAVEPOINT = 0 if connection.vendor == "sqlite" else 2
# A first submission's writes and reads: the suppression lookup, the lead
# (with its maturity), the submission, the consent records, the deliveries
# and the one task row (``deliver_lead`` for one destination,
# ``deliver_batch`` for several). The revisions shown are read only when
# they are no longer live: a live revision's content is its object's row.
CAPTURE = 6
# The form endpoint finds its page, its site and the page's view restrictions
# in the process cache: Wagtail's privacy hook, which it runs as the page's
# own view does, reads no table there (the stamp watches the restrictions).
TWO_DESTINATIONS = {
    "FORM_MIN_FILL_SECONDS": 0,
    "CRM_BACKENDS": {
        "sales": {"BACKEND": "wagtail_leadgen.crm.locmem.LocmemBackend"},
        "archive": {"BACKEND": "wagtail_leadgen.crm.locmem.LocmemBackend"},
    },
}


@pytest.fixture
def page():
    set_controller(controller_name="Example SAS", contact_email="dpo@example.com")
    purposes = [make_purpose(), make_purpose()]
    return make_landing_page(purposes=purposes)


def get(client, url, user_agent=BROWSER):
    response = client.get(url, HTTP_USER_AGENT=user_agent)
    assert response.status_code == 200
    return response


def test_a_landing_view_costs_routing_and_the_stamp_and_writes_nothing(
    client, page, django_assert_num_queries
):
    get(client, page.url)  # the first view builds the form, notice and settings
    # Routing and the content stamp: the form, its purposes, the request
    # processing, the controller and the notice are cached, and the view is
    # counted in the cache (flushed in batches), not in the database.
    with django_assert_num_queries(WAGTAIL_ROUTING + 1):
        get(client, page.url)


@override_settings(WAGTAIL_LEADGEN={"SHARED_CACHE_MAX_AGE": 0})
def test_a_private_landing_view_counts_without_a_query_either(
    client, page, django_assert_num_queries
):
    get(client, page.url)
    with django_assert_num_queries(WAGTAIL_ROUTING + 1):
        get(client, page.url)


def test_a_view_that_is_not_counted_costs_the_same(
    client, page, django_assert_num_queries
):
    get(client, page.url, CRAWLER)
    with django_assert_num_queries(WAGTAIL_ROUTING + 1):
        get(client, page.url, CRAWLER)


def test_an_ebook_view_costs_the_same(client, django_assert_num_queries):
    set_controller(controller_name="Example SAS", contact_email="dpo@example.com")
    ebook = make_ebook_page(purposes=[make_purpose()])
    get(client, ebook.url)
    with django_assert_num_queries(WAGTAIL_ROUTING + 1):
        get(client, ebook.url)


@override_settings(TASKS=DATABASE_QUEUE)
def test_a_first_submission_reads_nothing_back(
    client, page, django_assert_num_queries, django_capture_on_commit_callbacks
):
    """Routing, the stamp; then the suppression lookup, the lead with its
    maturity (one upsert: ticked boxes make a warm lead), the submission,
    the consent records and the deliveries (one insert each, bulk), and the
    task row of the one destination, in the same transaction (the queue is
    in the same database). No revision is read: all were live."""
    purposes = list(ConsentPurpose.objects.order_by("pk"))
    client.post(page.url, form_data(client, page, email="first@example.com"))
    data = {**form_data(client, page, email="ann@example.com"), **ticked(*purposes)}
    with (
        django_assert_num_queries(
            WAGTAIL_ROUTING + 1 + CAPTURE + TRANSACTION_CONTROL + ENQUEUE_SAVEPOINT
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(page.url, data)
    assert response.status_code == 303
    lead = Lead.objects.get(email="ann@example.com")
    assert lead.maturity == "warm"
    assert lead.created_at == lead.last_contact_at
    records = ConsentRecord.objects.filter(lead=lead, decision="granted")
    # The proof names the live revisions shown, with their exact wording.
    assert sorted(
        (r.purpose_id, r.purpose_revision_id, r.wording) for r in records
    ) == [(p.pk, p.live_revision_id, p.wording) for p in purposes]
    submission = lead.submissions.get()
    assert submission.request_revision_id == page.request_processing.live_revision_id
    assert submission.request_wording == page.request_processing.wording


@override_settings(
    TASKS=DATABASE_QUEUE,
    WAGTAIL_LEADGEN={**settings.WAGTAIL_LEADGEN, **TWO_DESTINATIONS},
)
def test_a_post_to_the_form_endpoint_costs_no_routing_and_one_task_row(
    client, page, django_assert_num_queries, django_capture_on_commit_callbacks
):
    """What shared (cacheable) pages post to: the stamp, then the capture,
    with one task row for both destinations; on SQLite, served, 9
    statements with BEGIN and COMMIT."""
    purposes = list(ConsentPurpose.objects.order_by("pk"))
    url = reverse("wagtail_leadgen:form_submit", args=[page.pk])
    origin = {"HTTP_ORIGIN": "http://testserver"}
    client.post(url, form_data(client, page, email="first@example.com"), **origin)
    data = {**form_data(client, page, email="ann@example.com"), **ticked(*purposes)}
    with (
        django_assert_num_queries(
            1 + CAPTURE + TRANSACTION_CONTROL + ENQUEUE_SAVEPOINT
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(url, data, **origin)
    assert response.status_code == 303
    lead = Lead.objects.get(email="ann@example.com")
    assert lead.maturity == "warm"
    assert lead.deliveries.count() == 2
    ids = sorted(lead.deliveries.values_list("pk", flat=True))
    rows = [
        row
        for row in DBTaskResult.objects.filter(task_path__contains="deliver_")
        if set(ids) & delivery_ids(row)
    ]
    assert [(row.task_path, sorted(delivery_ids(row))) for row in rows] == [
        ("wagtail_leadgen.tasks.deliver_batch", ids)
    ]


@override_settings(TASKS=DATABASE_QUEUE)
def test_a_double_opt_in_adds_its_request_row_and_no_task_row(
    client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    """A ticked purpose that needs a confirmation adds its confirmation
    request; its email goes in the delivery's task row (one row for both)."""
    set_controller(controller_name="Example SAS", contact_email="dpo@example.com")
    purpose = make_purpose(requires_confirmation=True)
    page = make_landing_page(purposes=[purpose])
    url = reverse("wagtail_leadgen:form_submit", args=[page.pk])
    origin = {"HTTP_ORIGIN": "http://testserver"}
    client.post(url, form_data(client, page, email="first@example.com"), **origin)
    data = {**form_data(client, page, email="ann@example.com"), **ticked(purpose)}
    with (
        django_assert_num_queries(
            1 + CAPTURE + 1 + TRANSACTION_CONTROL + ENQUEUE_SAVEPOINT
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(url, data, **origin)
    assert response.status_code == 303
    lead = Lead.objects.get(email="ann@example.com")
    request, delivery = lead.confirmation_requests.get(), lead.deliveries.get()
    (row,) = DBTaskResult.objects.filter(task_path__contains="confirmation")
    assert row.task_path == "wagtail_leadgen.tasks.send_confirmation_and_deliver"
    assert row.args_kwargs["args"] == [request.pk, [delivery.pk]]
    deliver_rows = DBTaskResult.objects.filter(task_path__contains="deliver_")
    assert not any(delivery.pk in delivery_ids(row) for row in deliver_rows)


def delivery_ids(row) -> set[int]:
    """The deliveries a deliver_lead or deliver_batch task row names."""
    (argument,) = row.args_kwargs["args"]
    return set(argument) if isinstance(argument, list) else {argument}


@override_settings(TASKS=DATABASE_QUEUE)
def test_the_task_row_commits_or_rolls_back_with_the_lead(page):
    class Abandon(Exception):
        pass

    with pytest.raises(Abandon), transaction.atomic():
        make_submission(page, "gone@example.com")
        # Written with the delivery, before any commit: one transaction.
        assert DBTaskResult.objects.filter(task_path__endswith="deliver_lead").exists()
        raise Abandon
    assert not DBTaskResult.objects.filter(task_path__endswith="deliver_lead").exists()
    assert not Lead.objects.exists()


@override_settings(TASKS=DATABASE_QUEUE)
def test_a_returning_person_is_updated_not_duplicated(client, page):
    client.post(page.url, form_data(client, page, email="ann@example.com"))
    first = Lead.objects.get()
    client.post(page.url, form_data(client, page, email="ann@example.com"))
    lead = Lead.objects.get()
    assert lead.pk == first.pk
    assert lead.created_at == first.created_at
    assert lead.last_contact_at > first.last_contact_at
    assert lead.preferences_nonce == first.preferences_nonce
    assert lead.submissions.count() == 2


# -- Nothing stale is ever shown -----------------------------------------------------
def test_a_republished_purpose_shows_its_new_wording_at_once(client, page):
    purpose = ConsentPurpose.objects.order_by("pk").first()
    assert purpose.checkbox_label in get(client, page.url).content.decode()
    republish(purpose, checkbox_label="Tell me about the new offers")
    html = get(client, page.url).content.decode()
    assert "Tell me about the new offers" in html


def test_the_proof_points_at_the_revision_shown_after_a_republish(client, page):
    purpose = ConsentPurpose.objects.order_by("pk").first()
    get(client, page.url)
    republish(purpose, checkbox_label="Tell me about the new offers")
    client.post(
        page.url, {**form_data(client, page, email="bo@example.com"), **ticked(purpose)}
    )
    record = ConsentRecord.objects.get(purpose=purpose)
    purpose.refresh_from_db()
    assert record.purpose_revision_id == purpose.live_revision_id
    assert "Tell me about the new offers" in record.wording


def test_changed_site_settings_show_at_once(client, page):
    assert "Example SAS" in get(client, page.url).content.decode()
    set_controller(controller_name="Other Owner SARL")
    html = get(client, page.url).content.decode()
    assert "Other Owner SARL" in html
    assert "Example SAS" not in html


def test_a_changed_request_processing_shows_in_the_notice_at_once(client, page):
    get(client, page.url)
    processing = page.request_processing
    processing.summary = "We call you back within a day."
    processing.save_revision().publish()
    assert "We call you back within a day." in get(client, page.url).content.decode()


def test_another_process_change_is_seen_through_the_stamp(client, page):
    """A change made by another process sends no signal here: the stamp row,
    replaced in that process's transaction, is what this one checks."""
    purpose = ConsentPurpose.objects.order_by("pk").first()
    get(client, page.url)
    assert len(form_cache)
    # As another process: the row changed and the stamp replaced, no signal here.
    ConsentPurpose.objects.filter(pk=purpose.pk).update(checkbox_label="Changed away")
    ContentStamp.objects.update(token="another-process")
    assert "Changed away" in get(client, page.url).content.decode()


def test_forms_are_built_again_under_other_settings(client, page):
    get(client, page.url)
    built = len(form_cache)
    assert built
    with override_settings(
        WAGTAIL_LEADGEN={**settings.WAGTAIL_LEADGEN, "LEAD_SCORING": False}
    ):
        assert "rate each request" not in get(client, page.url).content.decode()
        assert len(form_cache) > built
    assert "rate each request" in get(client, page.url).content.decode()


def test_another_django_setting_drops_what_was_built(client, page):
    get(client, page.url)
    assert len(form_cache)
    with override_settings(LANGUAGE_CODE="en"):
        assert len(form_cache) == 0


def test_a_page_without_a_stamp_row_is_built_on_every_view(client, page):
    ContentStamp.objects.all().delete()
    form_cache.clear()
    get(client, page.url)
    assert len(form_cache) == 0
