"""Erasure (R15): the person leaves every table; the CRMs that had them are asked once."""

from unittest import mock

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db.models.signals import pre_delete
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from wagtail_leadgen import worker
from wagtail_leadgen.audit import log_lead_viewed, log_leads_exported
from wagtail_leadgen.crm import locmem
from wagtail_leadgen.crm.base import PermanentCRMError
from wagtail_leadgen.erasure_worker import NOTHING_TO_ERASE
from wagtail_leadgen.models import (
    AccessRequest,
    CallbackRequest,
    ConfirmationRequest,
    ConsentRecord,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    DownloadGrant,
    Erasure,
    Lead,
    Rectification,
    RenewalRequest,
    Submission,
    Suppression,
)
from wagtail_leadgen.sealing import BrokenSeal, seal, unseal
from wagtail_leadgen.services.capture import SubmissionContext, quarantine_spam
from wagtail_leadgen.services.consent import withdraw_consent
from wagtail_leadgen.services.erased_rows import erasable_tables
from wagtail_leadgen.services.erasure import AlreadyErased, erase_address, erase_lead
from wagtail_leadgen.services.outbox import propagate_consent_change, retry_now
from wagtail_leadgen.services.suppression import suppress
from wagtail_leadgen.tasks import (
    deliver_lead,
    send_confirmation_and_deliver,
    send_confirmation_email,
)

from .factories import make_landing_page, make_lead, make_purpose, make_staff
from .helpers import (
    LOCMEM,
    NO_UPDATES,
    SWITCHABLE,
    SwitchableBackend,
    destinations,
    locmem_destinations,
    sweep,
)

pytestmark = pytest.mark.django_db

EMAIL = "zoe.quintana@example.com"
FIRST, LAST, PHONE = "Zoelle", "Quintanilla", "+33 6 98 76 54 32"
ANSWERS = {"first_name": FIRST, "last_name": LAST, "phone": PHONE}


@pytest.fixture(autouse=True)
def _all_destinations_up():
    SwitchableBackend.down.clear()
    yield
    SwitchableBackend.down.clear()


def deliver_all():
    call_command("leadgen_deliver", "--once", "--all")


def capture(*aliases, email=EMAIL, **kwargs):
    kwargs.setdefault("answers", ANSWERS)
    return make_lead(email, destinations=list(aliases), **kwargs)


def spam(answers):
    context = SubmissionContext(page=make_landing_page(), language="en")
    return quarantine_spam(context=context, answers=answers, reason="honeypot")


def erased_at(alias=None):
    return [email for name, email in locmem.erased if alias in (None, name)]


@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None))
def test_nothing_about_the_person_is_left_after_erasure(client):
    purpose = make_purpose(requires_confirmation=True)
    capture("sales", decisions={purpose: True})
    capture("sales", answers={**ANSWERS, "company": "Quintanilla SA"})
    deliver_all()
    spam({"email": "  Zoe.Quintana@Example.COM ", "leadgen_hp": "x"})
    lead = Lead.objects.get()
    log_lead_viewed(lead, make_staff("view_lead"))
    log_leads_exported([lead.pk], None, export_format="csv", filters={"search": True})
    assert sweep(EMAIL, FIRST, LAST, PHONE)  # the sweep finds what is there

    erase_address(EMAIL, reason=Erasure.Reason.STAFF, requested_by="dpo")
    assert sweep(EMAIL, FIRST, LAST, PHONE) == []  # even with the CRM not asked yet
    deliver_all()

    assert sweep(EMAIL, FIRST, LAST, PHONE) == []
    assert erased_at("sales") == [EMAIL]


@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None))
def test_an_objection_outlives_the_erasure():
    lead = capture("sales").lead
    suppress(EMAIL, None, source="preferences")

    erase_lead(lead, reason=Erasure.Reason.PERSON, requested_by="self-service")

    assert Suppression.objects.count() == 1
    assert sweep(EMAIL) == []


@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None, archive=None))
def test_the_tombstone_says_what_went_and_which_crms_were_asked():
    capture("sales", "archive")
    capture("sales")
    deliver_all()

    erasure = erase_address(
        EMAIL,
        reason=Erasure.Reason.STAFF,
        requested_by="dpo",
        note="Letter from the heirs",
    )

    assert erasure.reason == "staff" and erasure.requested_by == "dpo"
    assert erasure.removed["wagtail_leadgen.lead"] == 1
    assert erasure.removed["wagtail_leadgen.submission"] == 2
    assert erasure.removed["wagtail_leadgen.delivery"] == 3
    assert erasure.destinations == ["archive", "sales"]
    assert erasure.completed_at is None
    deliver_all()
    erasure.refresh_from_db()
    assert erasure.completed_at is not None
    assert sorted(erased_at()) == [EMAIL, EMAIL]


@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None))
def test_a_person_with_no_crm_delivery_is_erased_and_the_erasure_is_complete():
    erasure = erase_lead(capture().lead, reason=Erasure.Reason.PERSON)

    assert erasure.destinations == [] and erasure.completed_at is not None
    assert not Lead.objects.exists()


def test_quarantined_spam_carrying_the_address_goes_without_a_lead():
    kept = spam({"email": "someone.else@example.com"})
    spam({"email": "ZOE.QUINTANA@example.com", "message": "hi"})
    spam({"message": f"write to {EMAIL} please"})

    erasure = erase_address(EMAIL, reason=Erasure.Reason.SPAM)

    assert erasure.removed == {"wagtail_leadgen.submission": 2}
    assert list(Submission.objects.all()) == [kept]


def test_an_address_nothing_is_stored_about_erases_nothing():
    spam({"email": "someone.else@example.com"})

    assert erase_address(EMAIL, reason=Erasure.Reason.PERSON) is None
    assert not Erasure.objects.exists()


@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None))
def test_erasing_twice_does_nothing_the_second_time():
    lead = capture("sales").lead
    deliver_all()
    erase_lead(lead, reason=Erasure.Reason.STAFF)

    assert erase_address(EMAIL, reason=Erasure.Reason.STAFF) is None
    with pytest.raises(AlreadyErased):
        erase_lead(lead, reason=Erasure.Reason.STAFF)
    deliver_all()
    assert Erasure.objects.count() == 1
    assert erased_at() == [EMAIL]


@override_settings(
    WAGTAIL_LEADGEN=destinations(
        up={"BACKEND": SWITCHABLE},
        flaky={"BACKEND": SWITCHABLE},
        never={"BACKEND": SWITCHABLE},
    )
)
def test_an_erasure_while_a_crm_is_down_completes_after_recovery_once_per_destination():
    SwitchableBackend.down.add("never")  # this one never gets the lead
    capture("up", "flaky", "never")
    deliver_all()
    SwitchableBackend.down.add("flaky")

    erasure = erase_address(EMAIL, reason=Erasure.Reason.PERSON)
    deliver_all()
    deliver_all()
    erasure.refresh_from_db()
    assert erased_at() == [EMAIL] and erasure.completed_at is None

    SwitchableBackend.down.clear()
    deliver_all()
    deliver_all()

    erasure.refresh_from_db()
    assert sorted(locmem.erased) == [("flaky", EMAIL), ("up", EMAIL)]
    assert erasure.destinations == ["flaky", "up"]
    assert erasure.completed_at is not None
    assert not erasure.deliveries.exclude(sealed_address="").exists()


@override_settings(
    WAGTAIL_LEADGEN=destinations(
        sales={"BACKEND": LOCMEM}, legacy={"BACKEND": "tests.test_erasure.NoErasure"}
    )
)
def test_a_crm_that_cannot_erase_is_shown_as_manual_without_keeping_the_address():
    capture("sales", "legacy")
    deliver_all()
    erasure = erase_address(EMAIL, reason=Erasure.Reason.STAFF)
    deliver_all()

    manual = erasure.deliveries.get(backend_alias="legacy")
    assert manual.status == DeliveryStatus.MANUAL
    assert manual.sealed_address == "" and manual.remote_id.startswith("locmem-")
    assert "by hand" in manual.last_error
    assert erased_at() == [EMAIL]


class NoErasure(locmem.LocmemBackend):
    supports_erasure = False


@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None))
def test_the_address_waits_for_the_crm_only_sealed():
    capture("sales")
    deliver_all()
    erasure = erase_address(EMAIL, reason=Erasure.Reason.STAFF)

    (pending,) = erasure.deliveries.all()
    assert pending.sealed_address and EMAIL not in pending.sealed_address
    deliver_all()
    pending.refresh_from_db()
    assert pending.status == DeliveryStatus.DELIVERED and pending.sealed_address == ""


def erase_during_the_send(answer=None):
    """``FAIL_WITH`` for a CRM that, while it receives the lead, sees the
    person erased on the site (by another request), then answers ``answer``."""

    def receive(lead):
        erase_address(lead.email, reason=Erasure.Reason.PERSON)
        return answer

    return receive


@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=erase_during_the_send()))
def test_a_lead_delivery_in_flight_is_not_resurrected_and_is_erased_there():
    capture("sales")
    (in_flight,) = worker.claim_due()

    result = worker.attempt(in_flight)  # the CRM accepted it after the erasure

    assert [lead.email for _alias, lead in locmem.outbox] == [EMAIL]
    assert not Delivery.objects.filter(kind=DeliveryKind.LEAD).exists()
    assert result.kind == DeliveryKind.ERASURE and result.status == "pending"
    # A key of its own: a CRM de-duplicating on the lead's would drop it.
    assert result.idempotency_key != in_flight.idempotency_key
    deliver_all()
    assert erased_at("sales") == [EMAIL]
    erasure = Erasure.objects.get()
    assert erasure.completed_at is not None and erasure.destinations == ["sales"]
    assert sweep(EMAIL, FIRST) == []


@override_settings(
    WAGTAIL_LEADGEN=locmem_destinations(
        sales=erase_during_the_send(PermanentCRMError("refused"))
    )
)
def test_a_lead_refused_in_flight_leaves_nothing_to_erase():
    capture("sales")
    (in_flight,) = worker.claim_due()

    worker.attempt(in_flight)
    deliver_all()

    assert locmem.outbox == [] and erased_at() == []
    erasure = Erasure.objects.get()
    (done,) = erasure.deliveries.all()
    assert done.status == DeliveryStatus.DELIVERED
    assert done.last_error == NOTHING_TO_ERASE
    erasure.refresh_from_db()
    assert erasure.completed_at is not None


@override_settings(WAGTAIL_LEADGEN=destinations(sales={"BACKEND": NO_UPDATES}))
def test_a_consent_change_in_flight_is_dropped_when_its_person_is_erased():
    purpose = make_purpose()
    lead = capture("sales", decisions={purpose: True}).lead
    deliver_all()
    propagate_consent_change(
        [withdraw_consent(lead, purpose, language="en", channel="web")]
    )
    (change,) = worker.claim_due()

    erase_lead(lead, reason=Erasure.Reason.PERSON)
    worker.attempt(change)

    assert not Delivery.objects.filter(kind=DeliveryKind.CONSENT_CHANGE).exists()


@override_settings(
    TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}},
    WAGTAIL_LEADGEN=locmem_destinations(sales=None),
)
def test_the_queue_rows_of_the_erased_deliveries_and_emails_go_too(
    django_capture_on_commit_callbacks,
):
    purpose = make_purpose(requires_confirmation=True)
    with django_capture_on_commit_callbacks(execute=True):
        capture("sales", decisions={purpose: True})
    with django_capture_on_commit_callbacks(execute=True):
        other = capture("sales", email="someone.else@example.com").submission
    ours = DBTaskResult.objects.filter(
        task_path__in=[
            deliver_lead.module_path,
            send_confirmation_email.module_path,
            send_confirmation_and_deliver.module_path,
        ]
    )
    # The confirmation email and the delivery in one task, the other delivery.
    assert ours.count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        erasure = erase_address(EMAIL, reason=Erasure.Reason.PERSON)

    assert erasure.removed["django_tasks_database.dbtaskresult"] == 1
    (left,) = ours.all()
    assert left.args_kwargs["args"] == [other.deliveries.get().pk]


@override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None))
def test_every_attempt_of_an_erasure_carries_its_delivery_s_key():
    capture("sales")
    deliver_all()
    erase_address(EMAIL, reason=Erasure.Reason.STAFF)
    row = Delivery.objects.get(kind=DeliveryKind.ERASURE)

    with mock.patch.object(locmem.LocmemBackend, "erase") as erase:
        deliver_all()

    erase.assert_called_once_with(EMAIL, idempotency_key=str(row.idempotency_key))


def test_erasure_deletes_from_every_table_hanging_off_a_lead():
    assert {table.model for table in erasable_tables()} == {
        AccessRequest,
        CallbackRequest,
        ConfirmationRequest,
        ConsentRecord,
        Delivery,
        DownloadGrant,
        Rectification,
        RenewalRequest,
        Submission,
    }


def test_a_delete_listener_on_a_lead_s_rows_is_refused_not_skipped():
    def listener(**kwargs):
        """An extension that would miss the plain deletes."""

    pre_delete.connect(listener, sender=Submission)
    erasable_tables.cache_clear()
    try:
        with pytest.raises(ImproperlyConfigured, match="Submission.lead"):
            erasable_tables()
    finally:
        pre_delete.disconnect(listener, sender=Submission)
        erasable_tables.cache_clear()


def test_a_sealed_address_opens_only_untouched_and_with_a_known_key(settings):
    sealed = seal(EMAIL)
    assert EMAIL not in sealed and seal(EMAIL) != sealed
    assert unseal(sealed) == EMAIL

    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(BrokenSeal):
        unseal(tampered)
    with pytest.raises(BrokenSeal):
        unseal("not sealed at all")

    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-key-after-rotation"
    assert unseal(sealed) == EMAIL
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(BrokenSeal):
        unseal(sealed)


def erase_during_the_second_send():
    """``FAIL_WITH`` for a CRM that has the person's first lead, and receives
    their second one while the person is erased."""
    sends = []

    def receive(lead):
        sends.append(lead)
        if len(sends) == 2:
            erase_address(lead.email, reason=Erasure.Reason.PERSON)

    return receive


@override_settings(
    WAGTAIL_LEADGEN=locmem_destinations(sales=erase_during_the_second_send())
)
def test_a_crm_that_had_the_person_is_erased_after_a_lead_still_on_its_way():
    capture("sales")
    deliver_all()
    capture("sales")
    (in_flight,) = worker.claim_due()

    worker.attempt(in_flight)
    deliver_all()  # the erasure waits for the attempt's lease
    assert erased_at() == []

    Delivery.objects.update(lease_expires_at=None)  # the lease ran out
    deliver_all()
    assert erased_at("sales") == [EMAIL]
    assert len(locmem.outbox) == 2 and sweep(EMAIL) == []


@override_settings(
    WAGTAIL_LEADGEN={
        **destinations(sales={"BACKEND": SWITCHABLE}),
        "DELIVERY_MAX_ATTEMPTS": 1,
    }
)
def test_a_failed_erasure_retried_by_hand_asks_staff_since_its_address_is_gone():
    capture("sales")
    deliver_all()
    SwitchableBackend.down.add("sales")
    erasure = erase_address(EMAIL, reason=Erasure.Reason.PERSON)
    deliver_all()  # the only attempt fails: the erasure is dead
    (failed,) = erasure.deliveries.all()
    assert failed.status == DeliveryStatus.FAILED and failed.sealed_address == ""

    SwitchableBackend.down.clear()
    retry_now([failed])
    deliver_all()

    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.MANUAL and "by hand" in failed.last_error
    assert erased_at() == []
