"""The local side of an erasure (R15): every row about some people, deleted
table by table, with a count per person for their tombstones.

Django's delete collector loads every row it cascades through into Python
(about a millisecond per lead): a retention purge erasing 100,000 leads
cannot afford it. Here the tables hanging off ``Lead`` are found once from
the models, each lead's rows are counted with one aggregate query per
relation and deleted with one plain ``DELETE``, children before parents,
so that foreign keys hold at every step. That is only sound if deleting a
lead means deleting those rows and nothing else: every relation on the way
must cascade (the data-protection rule for any model holding personal data)
and no delete signal may listen but Wagtail's reference index, whose rows
go too; ``erasable_tables`` refuses otherwise.

Quarantined spam carrying a person's address, the task-queue rows of their
deleted deliveries and emails, and the per-address email throttle go too.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import cast

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import CASCADE, CharField, Count, Model, Q, QuerySet
from django.db.models.deletion import get_candidate_relations_to_delete
from django.db.models.expressions import RawSQL
from django.db.models.fields.reverse_related import ForeignObjectRel
from django.db.models.functions import Cast
from django.db.models.signals import post_delete, pre_delete
from wagtail.models import ReferenceIndex

from .. import mailer
from ..models.callbacks import CallbackRequest
from ..models.delivery import Delivery
from ..models.leads import Lead, Submission
from ..models.privacy import ConfirmationRequest
from ..tasks import (
    deliver_lead,
    send_callback_email,
    send_confirmation_and_deliver,
    send_confirmation_email,
)
from ..validators import normalise_email

Removed = dict[int, Counter[str]]
"""Per lead id, how many rows of each model (``app_label.model``) went."""


@dataclass(frozen=True)
class Table:
    """A table hanging off ``Lead``: the lookups from its rows to the lead
    id, and its distance from the lead (the longest way), for the order."""

    model: type[Model]
    paths: tuple[str, ...]
    depth: int


@cache
def erasable_tables() -> tuple[Table, ...]:
    """The tables a lead's erasure deletes from, deepest first."""
    paths: dict[type[Model], list[str]] = defaultdict(list)
    depth: dict[type[Model], int] = {}

    def walk(model: type[Model], path: str, level: int) -> None:
        for candidate in get_candidate_relations_to_delete(model._meta):
            relation = cast(ForeignObjectRel, candidate)
            child, field = relation.related_model, relation.field
            if relation.on_delete is not CASCADE or _listened_to(child):
                raise ImproperlyConfigured(
                    f"{child._meta.label}.{field.name} must cascade, without "
                    "delete signals, for erasure to delete it with its person."
                )
            lookup = f"{field.name}__{path}" if path else field.name
            paths[child].append(lookup)
            depth[child] = max(depth.get(child, 0), level + 1)
            walk(child, lookup, level + 1)

    if _listened_to(Lead):
        raise ImproperlyConfigured("Erasure deletes leads without delete signals.")
    walk(Lead, "", 0)
    tables = [Table(model, tuple(paths[model]), depth[model]) for model in paths]
    return tuple(sorted(tables, key=lambda table: -table.depth))


def _listened_to(model: type[Model]) -> bool:
    """A delete signal listens, other than Wagtail's reference index (which
    tracks the models shown in the admin): ``_delete`` does its work."""
    if ReferenceIndex.is_indexed(model):
        return pre_delete.has_listeners(model)
    return pre_delete.has_listeners(model) or post_delete.has_listeners(model)


def delete_leads(emails: Mapping[int, str]) -> Removed:
    """Delete these leads (id → address) and everything about them; what
    went, per lead. Call it inside a transaction."""
    lead_ids = list(emails)
    removed: Removed = {pk: Counter({Lead._meta.label_lower: 1}) for pk in lead_ids}
    leads = _written_once(lead_ids)
    queue_rows = _queue_rows(leads)
    for table in erasable_tables():
        label = table.model._meta.label_lower
        for path in table.paths:
            rows = _reached(table.model, path, leads)
            counted = rows.values_list(path).annotate(n=Count("pk")).order_by()
            for lead_id, count in counted:
                removed[lead_id][label] += count
            _delete(rows)
    _delete(Lead._base_manager.filter(pk__in=lead_ids))
    for lead_id, count in _delete_queue_rows(queue_rows).items():
        removed[lead_id].update(count)
    for lead_id, spam in _spam_by_lead(emails).items():
        removed[lead_id].update(_delete_spam(spam))
    mailer.forget_addresses(emails.values())
    return removed


def delete_spam_carrying(address: str) -> Counter[str]:
    """Delete the quarantined submissions holding this address (no lead has it)."""
    counted = _delete_spam(spam_carrying(address))
    mailer.forget_addresses([address])
    return counted


def _written_once(lead_ids: Sequence[int]) -> RawSQL:
    """These lead ids as a subquery written once: as a list, Django would
    check and convert each id again for every statement (some 40 a batch)."""
    pk = connection.ops.quote_name(Lead._meta.pk.attname)
    table = connection.ops.quote_name(Lead._meta.db_table)
    placeholders = ", ".join(["%s"] * len(lead_ids))
    query = f"SELECT {pk} FROM {table} WHERE {pk} IN ({placeholders})"  # noqa: S608 -- the model's own names; ids are parameters
    return RawSQL(query, [int(pk) for pk in lead_ids])  # noqa: S611 -- as above


def _reached(model: type[Model], path: str, leads: RawSQL) -> QuerySet:
    """The model's rows whose ``path`` leads to one of ``leads``, as nested
    ``IN`` subqueries (``submission_id IN (SELECT id FROM submission WHERE
    lead_id IN …)``): an index lookup at each step, where joins let the
    database scan the whole table for every statement."""
    field, _, rest = path.partition("__")
    if not rest:
        return model._base_manager.filter(**{f"{field}__in": leads})
    parent = model._meta.get_field(field).related_model
    assert isinstance(parent, type)  # a foreign key's target, never a string here
    return model._base_manager.filter(
        **{f"{field}__in": _reached(parent, rest, leads).values("pk")}
    )


def _delete(rows: QuerySet) -> None:
    """One plain ``DELETE`` (``erasable_tables`` checked that nothing else
    hangs on these rows any more and no signal listens), and the rows' entries
    in Wagtail's reference index, as its listener does for one object."""
    model = rows.model
    if ReferenceIndex.is_indexed(model):
        content_type = ContentType.objects.get_for_model(model)
        keys = rows.annotate(key=Cast("pk", CharField())).values("key")
        ReferenceIndex.objects.filter(
            Q(base_content_type=content_type, object_id__in=keys)
            | Q(to_content_type=content_type, to_object_id__in=keys)
        ).delete()
    rows._raw_delete(rows.db)


# -- The task queue ------------------------------------------------------------------
def _queue_rows(leads: RawSQL) -> dict[object, int]:
    """The database queue's rows for these leads' deliveries and confirmation
    emails (row id → lead id): their arguments are ids, but a failed task's
    traceback may quote a backend. A capture's one task for both names its
    confirmation request first, and its deliveries are the same person's."""
    if not apps.is_installed("django_tasks_db"):
        return {}
    confirmations = _owners(ConfirmationRequest, leads)
    owner_of = {
        deliver_lead.module_path: _owners(Delivery, leads),
        send_confirmation_email.module_path: confirmations,
        send_confirmation_and_deliver.module_path: confirmations,
        send_callback_email.module_path: _owners(CallbackRequest, leads),
    }
    wanted = Q(pk__in=[])
    for task_path, owners in owner_of.items():
        if owners:
            wanted |= Q(task_path=task_path, args_kwargs__args__0__in=list(owners))
    rows: dict[object, int] = {}
    queue = _task_results()._default_manager.filter(wanted)
    for pk, task_path, arguments in queue.values_list("pk", "task_path", "args_kwargs"):
        rows[pk] = owner_of[task_path][arguments["args"][0]]
    return rows


def _owners(model: type[Model], leads: RawSQL) -> dict[int, int]:
    """The model's rows about these leads: row id → lead id."""
    (table,) = [table for table in erasable_tables() if table.model is model]
    rows: dict[int, int] = {}
    for path in table.paths:
        found = _reached(model, path, leads)
        for pk, lead_id in found.values_list("pk", path):
            rows.setdefault(pk, lead_id)
    return rows


def _delete_queue_rows(rows: Mapping[object, int]) -> Removed:
    removed: Removed = defaultdict(Counter)
    if rows:
        model = _task_results()
        model._default_manager.filter(pk__in=list(rows)).delete()
        for lead_id in rows.values():
            removed[lead_id][model._meta.label_lower] += 1
    return removed


def _task_results() -> type[Model]:
    return apps.get_app_config("django_tasks_database").get_model("DBTaskResult")


# -- Quarantined spam ----------------------------------------------------------------
def spam_carrying(address: str) -> list[int]:
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


def _spam_by_lead(emails: Mapping[int, str]) -> dict[int, list[int]]:
    """Quarantined submissions holding one of these leads' addresses, by lead
    (one holding two addresses goes with the first lead)."""
    addresses = {pk: normalise_email(email) for pk, email in emails.items()}
    found: dict[int, list[int]] = defaultdict(list)
    quarantined = Submission.objects.filter(lead__isnull=True)
    for pk, answers in quarantined.values_list("pk", "answers").iterator():
        for lead_id, address in addresses.items():
            if _carries(answers, address):
                found[lead_id].append(pk)
                break
    return found


def _carries(answers: object, address: str) -> bool:
    if not isinstance(answers, Mapping):
        return False
    return any(
        address in str(value).lower() or address == normalise_email(str(value))
        for value in answers.values()
    )


def _delete_spam(pks: list[int]) -> Counter[str]:
    """Spam is rare: Django's collector deletes it, with whatever hangs on it."""
    if not pks:
        return Counter()
    counts = Submission.objects.filter(pk__in=pks).delete()[1]
    return Counter({label.lower(): n for label, n in counts.items() if n})
