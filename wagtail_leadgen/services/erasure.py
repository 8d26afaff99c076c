"""Erasing a person (R15): every row about them, then each CRM that has them.

One transaction: a tombstone (``Erasure``) is written first, then one
erasure delivery is planned for each destination that received the lead
(a lead delivery marked delivered there) or is receiving it right now (a
lead delivery claimed by a worker), and only then is everything deleted:
the lead, its submissions and answers, consent records with their wording
copies, confirmation requests, download grants, its deliveries with their
errors, quarantined spam carrying the address, the task-queue rows of the
deleted deliveries and the per-address email throttle. An objection stays
on the suppression list (a keyed hash, so it is honoured for good).

The address a CRM must erase survives in one place only: the erasure
delivery's ``sealed_address``, encrypted (``wagtail_leadgen.sealing``) and
cleared by the worker as soon as that delivery ends.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import partial

from django.apps import apps
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import mailer
from ..conf import leadgen_settings
from ..crm import get_backend
from ..crm.base import CRMConfigurationError
from ..erasure_worker import close_if_done
from ..models.delivery import Delivery, DeliveryKind, DeliveryStatus
from ..models.erasure import Erasure
from ..models.leads import Lead, Submission
from ..models.privacy import ConfirmationRequest
from ..sealing import seal
from ..tasks import deliver_lead, enqueue_deliveries, send_confirmation_email
from ..validators import normalise_email

logger = logging.getLogger("wagtail_leadgen.privacy")


class AlreadyErased(LookupError):
    """The lead was erased meanwhile (e.g. by a second click): nothing left to do."""


def erase_lead(
    lead: Lead, *, reason: str, requested_by: str = "", note: str = ""
) -> Erasure:
    """Erase this person everywhere and ask each CRM that has them to erase.

    Raises ``AlreadyErased`` when the lead no longer exists.
    """
    with transaction.atomic():
        if not Lead.objects.select_for_update().filter(pk=lead.pk).exists():
            raise AlreadyErased(f"lead {lead.pk} no longer exists")
        erasure = Erasure.objects.create(
            reason=reason, requested_by=requested_by, note=note
        )
        asked = _ask_destinations(erasure, lead)
        removed = _delete_person(lead.email, lead_pk=lead.pk)
        return _finish(erasure, removed, asked)


def erase_address(
    email: str, *, reason: str, requested_by: str = "", note: str = ""
) -> Erasure | None:
    """Erase the lead with this address, if any, and quarantined spam carrying
    it; None when nothing is stored about the address."""
    address = normalise_email(email)
    lead = Lead.objects.filter(email=address).first()
    if lead is not None:
        try:
            return erase_lead(lead, reason=reason, requested_by=requested_by, note=note)
        except AlreadyErased:
            pass  # erased meanwhile: only spam may be left
    with transaction.atomic():
        spam = _spam_carrying(address)
        if not spam:
            return None
        erasure = Erasure.objects.create(
            reason=reason, requested_by=requested_by, note=note
        )
        removed = _delete_person(address, lead_pk=None)
        return _finish(erasure, removed, [])


# -- The CRMs -------------------------------------------------------------------
def _ask_destinations(erasure: Erasure, lead: Lead) -> list[Delivery]:
    """One erasure delivery per destination that has the lead or is receiving
    it now; destinations that never received it are never asked."""
    lead_deliveries = list(
        Delivery.objects.select_for_update()
        .filter(lead=lead, kind=DeliveryKind.LEAD)
        .order_by("-pk")
    )
    now = timezone.now()
    asked: dict[str, Delivery] = {}
    for delivery in lead_deliveries:
        if delivery.status == DeliveryStatus.DELIVERED:
            asked.setdefault(delivery.backend_alias, delivery)
    for delivery in lead_deliveries:
        in_flight = (
            delivery.status == DeliveryStatus.PENDING
            and delivery.lease_expires_at is not None
            and delivery.lease_expires_at > now
        )
        if in_flight and delivery.backend_alias not in asked:
            asked[delivery.backend_alias] = _take_over(delivery, erasure, lead.email)
    planned = [
        _erasure_delivery(erasure, alias, lead.email, delivered.remote_id)
        for alias, delivered in asked.items()
        if delivered.kind == DeliveryKind.LEAD
    ]
    Delivery.objects.bulk_create(planned)
    taken_over = [d for d in asked.values() if d.kind == DeliveryKind.ERASURE]
    return planned + taken_over


def _take_over(delivery: Delivery, erasure: Erasure, email: str) -> Delivery:
    """Turn a lead delivery a worker is sending right now into the erasure at
    that destination. It keeps the worker's lease, so it runs once that
    attempt is over; the worker, finding its row taken over, records nothing
    of the lead (see ``erasure_worker.overtaken``)."""
    Delivery.objects.filter(pk=delivery.pk).update(
        kind=DeliveryKind.ERASURE,
        erasure=erasure,
        lead=None,
        submission=None,
        consent_record=None,
        sealed_address=seal(email),
        attempts=0,
        last_error="",
        last_status_code=None,
        next_attempt_at=delivery.lease_expires_at,
    )
    delivery.refresh_from_db()
    return delivery


def _erasure_delivery(
    erasure: Erasure, alias: str, email: str, remote_id: str
) -> Delivery:
    """A pending erasure for a destination that can erase; "manual action
    needed" (and no address kept) for one that cannot or is gone."""
    reason = _cannot_erase(alias)
    if reason:
        return Delivery(
            kind=DeliveryKind.ERASURE,
            erasure=erasure,
            backend_alias=alias,
            remote_id=remote_id,
            status=DeliveryStatus.MANUAL,
            last_error=reason,
        )
    return Delivery(
        kind=DeliveryKind.ERASURE,
        erasure=erasure,
        backend_alias=alias,
        remote_id=remote_id,
        sealed_address=seal(email),
    )


def _cannot_erase(alias: str) -> str:
    """Why staff must erase the person at this destination by hand; "" if it can."""
    if alias not in leadgen_settings.configured_aliases():
        return (
            f"The destination {alias} is no longer configured: erase the person "
            "there by hand, using the CRM id of this row."
        )
    try:
        backend = get_backend(alias)
    except CRMConfigurationError:
        return ""  # planned anyway: the misconfiguration shows on the row
    if not backend.supports_erasure:
        return (
            f"{type(backend).__name__} cannot erase people: erase the person at "
            f"{alias} by hand, using the CRM id of this row."
        )
    return ""


# -- The local data ----------------------------------------------------------------
def _spam_carrying(address: str) -> list[int]:
    """Quarantined submissions (no lead) whose raw answers hold the address,
    as the quarantine stores them: cleaned, cut, never normalised."""
    candidates = Submission.objects.filter(lead__isnull=True)
    local_part = address.rpartition("@")[0]
    if local_part.isascii():  # JSON text escapes other characters
        candidates = candidates.filter(answers__icontains=local_part)
    return [
        pk
        for pk, answers in candidates.values_list("pk", "answers").iterator()
        if _carries(answers, address)
    ]


def _carries(answers: object, address: str) -> bool:
    if not isinstance(answers, Mapping):
        return False
    return any(
        address in str(value).lower() or address == normalise_email(str(value))
        for value in answers.values()
    )


def _delete_person(email: str, *, lead_pk: int | None) -> Counter[str]:
    """Delete every row about the person; how many of each model went."""
    address = normalise_email(email)
    removed: Counter[str] = Counter()
    delivery_ids: list[int] = []
    confirmation_ids: list[int] = []
    if lead_pk is not None:
        delivery_ids = list(
            Delivery.objects.filter(
                Q(lead_id=lead_pk) | Q(submission__lead_id=lead_pk)
            ).values_list("pk", flat=True)
        )
        confirmation_ids = list(
            ConfirmationRequest.objects.filter(lead_id=lead_pk).values_list(
                "pk", flat=True
            )
        )
        removed.update(Lead.objects.filter(pk=lead_pk).delete()[1])
    removed.update(
        Submission.objects.filter(pk__in=_spam_carrying(address)).delete()[1]
    )
    removed.update(_delete_task_rows(delivery_ids, confirmation_ids))
    mailer.forget_address(address)
    return Counter({label.lower(): count for label, count in removed.items() if count})


def _delete_task_rows(
    delivery_ids: Iterable[int], confirmation_ids: Iterable[int]
) -> dict[str, int]:
    """The database queue's rows for the deleted deliveries and emails: their
    arguments are ids, but a failed task's traceback may quote a backend."""
    if not apps.is_installed("django_tasks_db"):
        return {}
    task_results = apps.get_app_config("django_tasks_database").get_model(
        "DBTaskResult"
    )
    rows = Q(pk__in=[])
    for task, ids in (
        (deliver_lead, list(delivery_ids)),
        (send_confirmation_email, list(confirmation_ids)),
    ):
        if ids:
            rows |= Q(task_path=task.module_path, args_kwargs__args__0__in=ids)
    return task_results._default_manager.filter(rows).delete()[1]


def _finish(erasure: Erasure, removed: Counter[str], asked: list[Delivery]) -> Erasure:
    erasure.removed = dict(sorted(removed.items()))
    erasure.destinations = sorted({delivery.backend_alias for delivery in asked})
    erasure.save(update_fields=["removed", "destinations"])
    close_if_done(erasure.pk)
    erasure.refresh_from_db()
    for delivery in asked:
        if delivery.status == DeliveryStatus.PENDING:
            # A lead delivery taken over waits for the worker's attempt (its lease).
            transaction.on_commit(
                partial(
                    enqueue_deliveries,
                    [delivery.pk],
                    run_after=delivery.lease_expires_at,
                )
            )
    logger.info(
        "Erasure %s: %s rows removed, %s destinations asked",
        erasure.pk,
        sum(removed.values()),
        len(erasure.destinations),
    )
    return erasure
