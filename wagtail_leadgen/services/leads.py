"""The leads inbox's query and the lead export's rows, for any caller.

The admin inbox (``views.admin``) is built on these functions; a management
command or an API gets the same list and the same export with them alone::

    leads = filter_by_maturity(Lead.objects.all(), Maturity.HOT)
    headings, rows = export_table(leads)

Each filter takes a queryset of leads and returns it narrowed, one row per lead
(no join duplicates), so filters chain in any order. Spam never counts: a lead
is listed, named and counted from its non-spam submissions only.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from typing import Any

import swapper
from django.conf import settings
from django.db import models
from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..field_kinds import FORM_FIELD_KINDS
from ..models import (
    ConsentDecision,
    ConsentPurpose,
    Delivery,
    DeliveryStatus,
    Lead,
    Maturity,
    Rectification,
    Submission,
)
from .classification import submission_count
from .consent import current_records

# -- The inbox's queryset ------------------------------------------------------

MATURITY_RANK = Case(
    When(maturity=Maturity.HOT, then=Value(0)),
    When(maturity=Maturity.WARM, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)
"""Annotation: hot first, then warm, then cold (the inbox's maturity sort)."""


def _submissions() -> QuerySet[Submission]:
    """The lead's submissions that count: spam never reaches the inbox."""
    return Submission.objects.filter(lead=OuterRef("pk"), is_spam=False)


def _corrections() -> QuerySet[Rectification]:
    return Rectification.objects.filter(lead=OuterRef("pk"))


def latest_answer(key: str) -> Case:
    """Annotation: the lead's current value of one field kind, as text: their
    most recent answer, unless a later correction changed it (R15; the same
    rule as ``services.rectification.current_answers``)."""
    answered = (
        _submissions().filter(answers__has_key=key).order_by("-created_at", "-pk")
    )
    corrected = (
        _corrections().filter(values__has_key=key).order_by("-created_at", "-pk")
    )
    return Case(
        When(
            GreaterThan(
                Subquery(corrected.values("created_at")[:1]),
                Subquery(answered.values("created_at")[:1]),
            ),
            then=Subquery(corrected.values(value=KT(f"values__{key}"))[:1]),
        ),
        default=Subquery(answered.values(value=KT(f"answers__{key}"))[:1]),
    )


def annotate_inbox(queryset: QuerySet[Lead]) -> QuerySet[Lead]:
    """Everything a row of the inbox shows, computed by the database in one query.

    Source page and campaign are the first touch: the page of the first
    submission and the first campaign seen. The name is the current one (the
    latest given, or its correction).
    """
    first = _submissions().order_by("created_at", "pk")
    return queryset.annotate(
        submission_count=submission_count(),
        source_page_id=Subquery(first.values("page_id")[:1]),
        source_page_title=Subquery(first.values("page__title")[:1]),
        campaign=Subquery(first.exclude(utm_campaign="").values("utm_campaign")[:1]),
        first_name=latest_answer("first_name"),
        last_name=latest_answer("last_name"),
        maturity_rank=MATURITY_RANK,
    )


# A Lead carrying the annotations of ``annotate_inbox``: the type checker
# cannot see annotations a function adds, so such leads are typed ``Any``.
InboxLead = Any


def full_name(lead: InboxLead) -> str:
    """First and last name of a lead from ``annotate_inbox``; empty when not given."""
    return " ".join(part for part in (lead.first_name, lead.last_name) if part).strip()


# -- Search and filters --------------------------------------------------------

#: Words of a search beyond this number are ignored (each one adds a subquery).
MAX_SEARCH_WORDS = 10


def search_leads(queryset: QuerySet[Lead], query: str) -> QuerySet[Lead]:
    """Every word must be found in the email address or a first or last name.

    Names live in the submissions' answers and the corrections (JSON): the
    key lookups below work the same on SQLite and PostgreSQL. A name as
    first given still finds the person after a correction.
    """
    for word in query.split()[:MAX_SEARCH_WORDS]:
        named = _submissions().filter(
            Q(answers__first_name__icontains=word)
            | Q(answers__last_name__icontains=word)
        )
        renamed = _corrections().filter(
            Q(values__first_name__icontains=word) | Q(values__last_name__icontains=word)
        )
        queryset = queryset.filter(
            Q(email__icontains=word) | Exists(named) | Exists(renamed)
        )
    return queryset


def pages_with_leads() -> QuerySet:
    """The pages on which at least one lead sent a form (not spam), by title."""
    page_model = swapper.load_model("wagtailcore", "Page")
    pages_used = Submission.objects.filter(is_spam=False, lead__isnull=False)
    return page_model.objects.filter(pk__in=pages_used.values("page_id")).order_by(
        "title"
    )


def filter_by_page(queryset: QuerySet[Lead], page) -> QuerySet[Lead]:
    """Leads who sent a form on this page."""
    return queryset.filter(Exists(_submissions().filter(page=page)))


def filter_by_purpose_granted(
    queryset: QuerySet[Lead], purpose: ConsentPurpose
) -> QuerySet[Lead]:
    """Leads whose latest answer for this purpose is a yes."""
    granted = current_records(
        lead=OuterRef("pk"), purpose=purpose, decision=ConsentDecision.GRANTED
    )
    return queryset.filter(Exists(granted))


class DeliveryState(models.TextChoices):
    """A lead's CRM handoff, over all its deliveries (the inbox's status filter)."""

    FAILED = "failed", _("A delivery failed")
    PENDING = "pending", _("Waiting for delivery")
    DELIVERED = "delivered", _("All delivered")


def filter_by_delivery_state(
    queryset: QuerySet[Lead], state: DeliveryState | str
) -> QuerySet[Lead]:
    """Leads with a failed delivery; waiting ones (none failed); or all delivered."""
    deliveries = Delivery.objects.filter(
        submission__lead=OuterRef("pk"), submission__is_spam=False
    )
    failed = Exists(deliveries.filter(status=DeliveryStatus.FAILED))
    if state == DeliveryState.FAILED:
        return queryset.filter(failed)
    if state == DeliveryState.PENDING:
        return queryset.filter(
            Exists(deliveries.filter(status=DeliveryStatus.PENDING)), ~failed
        )
    if state == DeliveryState.DELIVERED:
        return queryset.filter(
            Exists(deliveries),
            ~Exists(deliveries.exclude(status=DeliveryStatus.DELIVERED)),
        )
    return queryset


def filter_by_maturity(
    queryset: QuerySet[Lead], maturity: Maturity | str
) -> QuerySet[Lead]:
    """Leads at this maturity level (as last classified)."""
    return queryset.filter(maturity=maturity)


def _bound(value: datetime.date | datetime.datetime, day_time: datetime.time):
    if isinstance(value, datetime.datetime):
        return value
    moment = datetime.datetime.combine(value, day_time)
    return timezone.make_aware(moment) if settings.USE_TZ else moment


def filter_by_last_contact(
    queryset: QuerySet[Lead],
    start: datetime.date | datetime.datetime | None = None,
    end: datetime.date | datetime.datetime | None = None,
) -> QuerySet[Lead]:
    """Leads last in contact between ``start`` and ``end``, both included.

    A date stands for the whole day in the current time zone; a missing bound
    leaves that side open.
    """
    if start is not None:
        queryset = queryset.filter(
            last_contact_at__gte=_bound(start, datetime.time.min)
        )
    if end is not None:
        queryset = queryset.filter(last_contact_at__lte=_bound(end, datetime.time.max))
    return queryset


# -- Export --------------------------------------------------------------------

EXPORT_COLUMNS: list[tuple[str, Any, Callable[[InboxLead], Any]]] = [
    ("email", _("Email"), lambda lead: lead.email),
    ("first_name", _("First name"), lambda lead: lead.first_name),
    ("last_name", _("Last name"), lambda lead: lead.last_name),
    ("company", _("Company"), lambda lead: lead.company),
    ("phone", _("Phone"), lambda lead: lead.phone),
    ("source_page", _("Source page"), lambda lead: lead.source_page_title),
    ("campaign", _("Campaign"), lambda lead: lead.campaign),
    ("maturity", _("Maturity"), lambda lead: lead.get_maturity_display()),
    ("submissions", _("Submissions"), lambda lead: lead.submission_count),
    (
        "consents",
        _("Consents granted"),
        lambda lead: ", ".join(r.purpose.name for r in lead.granted_records),
    ),
    ("created_at", _("First contact"), lambda lead: lead.created_at),
    ("last_contact_at", _("Last contact"), lambda lead: lead.last_contact_at),
]
"""The columns of a lead export: key, heading, value."""


def export_table(queryset: QuerySet[Lead]) -> tuple[list[str], Iterator[list[Any]]]:
    """Headings and rows of a lead export; rows are read from the database in chunks.

    ``queryset`` is any queryset of leads, filtered and ordered as wanted
    (the inbox passes its own, already annotated by ``annotate_inbox``).
    Write the result with ``services.exports`` (``csv_response``,
    ``xlsx_response``, ``iter_csv``), which neutralise formulas.
    """
    if "source_page_title" not in queryset.query.annotations:
        queryset = annotate_inbox(queryset)
    queryset = queryset.annotate(
        company=latest_answer("company"), phone=latest_answer("phone")
    )
    granted = Prefetch(
        "consent_records",
        queryset=current_records(decision=ConsentDecision.GRANTED)
        .select_related("purpose")
        .only("lead_id", "purpose__name")
        .order_by("purpose__name"),
        to_attr="granted_records",
    )

    def rows() -> Iterator[list[Any]]:
        for lead in queryset.prefetch_related(granted).iterator(chunk_size=500):
            yield [value(lead) for _key, _heading, value in EXPORT_COLUMNS]

    return [str(heading) for _key, heading, _value in EXPORT_COLUMNS], rows()


def answer_items(answers: dict[str, Any]) -> list[tuple[str, Any]]:
    """Answers with the form's own labels, in the form's order."""
    order = {kind: index for index, kind in enumerate(FORM_FIELD_KINDS)}
    keys = sorted(answers, key=lambda key: (order.get(key, len(order)), key))
    return [(str(FORM_FIELD_KINDS.get(key, key)), answers[key]) for key in keys]
