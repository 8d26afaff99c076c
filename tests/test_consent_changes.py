"""Consent changes after capture reach every CRM that has the person (R12, R13):
through the outbox, after the lead itself, once, or as "manual action needed"
where a destination cannot apply them."""

import pytest
from django.core.management import call_command
from django.test import override_settings
from django_tasks import task_backends

from wagtail_leadgen import worker
from wagtail_leadgen.crm import locmem
from wagtail_leadgen.crm.base import TransientCRMError
from wagtail_leadgen.models import Delivery
from wagtail_leadgen.services.consent import (
    confirm_pending,
    expire_pending,
    grant_consent,
    withdraw_consent,
)
from wagtail_leadgen.services.outbox import propagate_consent_change
from wagtail_leadgen.tasks import deliver_lead

from .factories import make_landing_page, make_purpose, make_submission
from .helpers import (
    LOCMEM,
    NO_UPDATES,
    destinations,
    locmem_destinations,
)

pytestmark = pytest.mark.django_db

DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def run_due(**options):
    call_command("leadgen_deliver", "--once", **options)


def captured(*, email="ann@example.com", ticked=True, **purpose_options):
    """A delivered-to-be lead who ticked (or not) a newsletter purpose."""
    newsletter = make_purpose(name="Newsletter", **purpose_options)
    page = make_landing_page(purposes=[newsletter])
    submission = make_submission(page, email, decisions={newsletter: ticked})
    return submission, newsletter


def withdraw(submission, purpose):
    record = withdraw_consent(
        submission.lead, purpose, language="en", channel="preferences"
    )
    return propagate_consent_change([record])


def changes():
    return Delivery.objects.filter(kind="consent_change").order_by("pk")


# -- Planning ----------------------------------------------------------------------
@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None, archive=None))
def test_a_withdrawal_is_planned_for_every_destination_that_has_the_person():
    submission, newsletter = captured()
    run_due()

    planned = withdraw(submission, newsletter)

    assert sorted(d.backend_alias for d in planned) == ["archive", "sales"]
    for delivery in planned:
        assert delivery.kind == "consent_change"
        assert delivery.lead_id == submission.lead_id
        assert delivery.submission_id is None
        assert delivery.consent_record.decision == "withdrawn"
        assert delivery.status == "pending"
    assert len({d.idempotency_key for d in planned}) == 2


@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None, archive=None))
def test_a_destination_whose_lead_delivery_failed_does_not_get_the_change():
    submission, newsletter = captured()
    Delivery.objects.filter(backend_alias="archive").update(status="failed")

    planned = withdraw(submission, newsletter)

    assert [d.backend_alias for d in planned] == ["sales"]


@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None))
def test_pending_expired_and_refused_decisions_are_not_sent_to_crms():
    newsletter = make_purpose(name="Newsletter", requires_confirmation=True)
    partners = make_purpose(name="Partners")
    page = make_landing_page(purposes=[newsletter, partners])
    submission = make_submission(page, decisions={newsletter: True, partners: False})
    records = {r.purpose_id: r for r in submission.consent_records.all()}
    assert records[newsletter.pk].decision == "pending"
    assert records[partners.pk].decision == "refused"

    assert propagate_consent_change(records.values()) == []
    expired = expire_pending(submission.lead, [newsletter])
    assert propagate_consent_change(expired) == []
    assert not changes().exists()


@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None))
def test_a_confirmation_is_a_change_the_crm_hears_of():
    submission, newsletter = captured(requires_confirmation=True)
    run_due()
    assert not locmem.outbox[0][1].consents[0].granted  # pending: not granted

    confirmed = confirm_pending(
        submission.lead, [newsletter], language="en", channel="confirmation"
    )
    propagate_consent_change(confirmed)
    run_due()

    ((alias, payload),) = locmem.updated
    assert alias == "sales"
    assert payload.change.decision == "granted" and payload.change.granted


def test_a_destination_no_longer_configured_asks_for_manual_action_at_once():
    with override_settings(WAGTAIL_LEADGEN=locmem_destinations(old=None)):
        submission, newsletter = captured()
        run_due()
    with override_settings(WAGTAIL_LEADGEN=locmem_destinations(new=None)):
        (delivery,) = withdraw(submission, newsletter)
        run_due(all=True)

    delivery.refresh_from_db()
    assert delivery.backend_alias == "old"
    assert delivery.status == "manual"
    assert "no longer configured" in delivery.last_error
    assert delivery.attempts == 0


# -- Sending -------------------------------------------------------------------------
@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None))
def test_a_withdrawal_is_sent_with_the_person_the_change_and_no_answers():
    submission, newsletter = captured()
    other = make_purpose(name="Events")
    grant_consent(submission.lead, other, language="en", channel="preferences")
    run_due()

    (delivery,) = withdraw(submission, newsletter)
    run_due()

    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    ((alias, payload),) = locmem.updated
    assert payload.idempotency_key == str(delivery.idempotency_key)
    assert payload.email == "ann@example.com"
    assert payload.submission_id == submission.pk
    assert payload.answers == {}
    assert payload.change.purpose_name == "Newsletter"
    assert payload.change.decision == "withdrawn"
    assert not payload.change.granted
    # The state as the change left it: the newsletter withdrawn, events granted.
    assert {c.purpose_name: c.granted for c in payload.consents} == {
        "Newsletter": False,
        "Events": True,
    }
    assert payload.admin_url.endswith(f"/inspect/{submission.lead_id}/")


def test_a_change_waits_for_the_lead_without_an_attempt_and_follows_it():
    down = {"error": TransientCRMError("down", status=503)}
    settings = locmem_destinations(sales=lambda lead: down["error"])
    with override_settings(WAGTAIL_LEADGEN=settings):
        submission, newsletter = captured()
        run_due()  # the lead fails: still pending
        (change,) = withdraw(submission, newsletter)

        run_due(all=True)  # the lead fails again; the change waits
        change.refresh_from_db()
        assert change.status == "pending" and change.attempts == 0
        assert worker.claim(change.pk, ignore_backoff=True) is None

        down["error"] = None
        run_due(all=True)  # the lead, then the change, in one round

    change.refresh_from_db()
    assert change.status == "delivered" and change.attempts == 1
    assert [p.delivery_id for _, p in locmem.outbox] == [submission.deliveries.get().pk]
    assert [p.delivery_id for _, p in locmem.updated] == [change.pk]
    # The lead, sent after the withdrawal, carried it already.
    assert not locmem.outbox[0][1].consents[0].granted


@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None))
def test_changes_for_one_person_and_destination_go_in_order():
    submission, newsletter = captured()
    run_due()
    withdraw(submission, newsletter)
    again = grant_consent(submission.lead, newsletter, language="en", channel="prefs")
    propagate_consent_change([again])
    first, second = changes()

    assert worker.claim(second.pk) is None  # behind the withdrawal
    run_due()

    assert [p.change.decision for _, p in locmem.updated] == ["withdrawn", "granted"]


@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None), TASKS=DUMMY_TASKS)
def test_the_task_of_a_waiting_change_skips_and_is_enqueued_again_after_the_lead(
    django_capture_on_commit_callbacks,
):
    submission, newsletter = captured()
    lead_delivery = submission.deliveries.get()
    (change,) = withdraw(submission, newsletter)

    assert deliver_lead.call(change.pk) == "skipped"
    change.refresh_from_db()
    assert change.attempts == 0

    backend = task_backends["default"]
    backend.results.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver_lead.call(lead_delivery.pk) == "delivered"
    assert [r.args for r in backend.results if r.task.name == "deliver_lead"] == [
        [change.pk]
    ]
    assert deliver_lead.call(change.pk) == "delivered"


def test_a_retried_change_keeps_its_idempotency_key():
    keys = []

    def fail_once(payload):
        keys.append(payload.idempotency_key)
        return TransientCRMError("down") if len(keys) == 2 else None

    with override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=fail_once)):
        submission, newsletter = captured()
        run_due()
        (change,) = withdraw(submission, newsletter)
        run_due()
        change.refresh_from_db()
        assert change.status == "pending" and change.attempts == 1
        run_due(all=True)

    change.refresh_from_db()
    assert change.status == "delivered"
    assert keys[1:] == [str(change.idempotency_key)] * 2


# -- Manual action ---------------------------------------------------------------------
@override_settings(WAGTAIL_LEADGEN=destinations(crm={"BACKEND": NO_UPDATES}))
def test_a_destination_that_cannot_update_gets_a_manual_action_never_retried():
    submission, newsletter = captured()
    run_due()
    (change,) = withdraw(submission, newsletter)

    run_due()
    run_due(all=True)

    change.refresh_from_db()
    assert change.status == "manual"
    assert change.attempts == 1
    assert "cannot apply consent changes" in change.last_error
    assert "ann@example.com" not in change.last_error
    assert locmem.updated == []


@override_settings(
    WAGTAIL_LEADGEN=destinations(
        site={"BACKEND": "wagtail_leadgen.crm.database.DatabaseBackend"}
    )
)
def test_the_database_destination_has_the_change_already():
    submission, newsletter = captured()
    run_due()
    (change,) = withdraw(submission, newsletter)
    run_due()

    change.refresh_from_db()
    assert change.status == "delivered" and change.last_error == ""


@override_settings(WAGTAIL_LEADGEN=destinations(crm={"BACKEND": NO_UPDATES}))
def test_a_manual_change_does_not_hold_up_the_next_one():
    submission, newsletter = captured()
    run_due()
    withdraw(submission, newsletter)
    run_due()
    propagate_consent_change(
        [grant_consent(submission.lead, newsletter, language="en", channel="prefs")]
    )
    run_due()

    assert list(changes().values_list("status", flat=True)) == ["manual", "manual"]


@override_settings(WAGTAIL_LEADGEN=destinations(crm={"BACKEND": LOCMEM}))
def test_a_lead_delivery_is_never_held_up_by_an_older_one():
    first = make_submission(email="ann@example.com")
    Delivery.objects.update(lease_expires_at=None)
    second = make_submission(first.page.specific, "ann@example.com")
    assert worker.claim(second.deliveries.get().pk) is not None
