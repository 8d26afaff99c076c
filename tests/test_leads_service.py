"""The inbox's query and the export's rows, used without any view (services.leads)."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

import wagtail_leadgen
from wagtail_leadgen.models import Lead, Maturity
from wagtail_leadgen.services.exports import iter_csv
from wagtail_leadgen.services.leads import (
    DeliveryState,
    annotate_inbox,
    export_table,
    filter_by_delivery_state,
    filter_by_last_contact,
    filter_by_maturity,
    filter_by_page,
    filter_by_purpose_granted,
    full_name,
    search_leads,
)

from .factories import make_landing_page, make_lead, make_purpose, make_staff

PACKAGE = Path(wagtail_leadgen.__file__).resolve().parent


def leadgen_export(**filters) -> bytes:
    """What a ``leadgen_export`` command would write: the services alone."""
    leads = Lead.objects.order_by("-last_contact_at", "-pk")
    if "maturity" in filters:
        leads = filter_by_maturity(leads, filters["maturity"])
    if "page" in filters:
        leads = filter_by_page(leads, filters["page"])
    return b"".join(iter_csv(*export_table(leads)))


def emails(leads) -> set[str]:
    return set(leads.values_list("email", flat=True))


@pytest.mark.django_db
def test_the_services_alone_produce_the_inbox_export_byte_for_byte(client):
    newsletter = make_purpose(name="Newsletter")
    page = make_landing_page(title="Free audit", purposes=[newsletter])
    make_lead(
        "ann@example.com",
        page=page,
        answers={"first_name": "Ann", "company": "ACME", "phone": "+33 1 23"},
        decisions={newsletter: True},
        utm={"utm_campaign": "spring"},
    )
    make_lead("bob@example.com", answers={"last_name": "=Martin"})
    client.force_login(make_staff("view_lead", "export_lead"))

    for filters in ({}, {"maturity": Maturity.HOT}, {"page": page.pk}):
        response = client.get(
            reverse("wagtail_leadgen_leads:index"), {"export": "csv", **filters}
        )
        assert response.status_code == 200
        assert leadgen_export(**filters) == b"".join(response.streaming_content)
    assert b"ann@example.com" in leadgen_export(maturity=Maturity.HOT)
    assert b"bob@example.com" not in leadgen_export(page=page)


@pytest.mark.django_db
def test_export_table_accepts_a_queryset_already_annotated_for_the_inbox():
    make_lead("ann@example.com", answers={"first_name": "Ann", "last_name": "Lee"})
    plain = export_table(Lead.objects.all())
    annotated = export_table(annotate_inbox(Lead.objects.all()))
    assert plain[0] == annotated[0]
    assert list(plain[1]) == list(annotated[1])
    [lead] = annotate_inbox(Lead.objects.all())
    assert full_name(lead) == "Ann Lee"


@pytest.mark.django_db
def test_the_filters_chain_outside_django_filter():
    newsletter = make_purpose()
    page = make_landing_page(purposes=[newsletter])
    make_lead("ann@example.com", page=page, decisions={newsletter: True})
    make_lead("bob@example.com", answers={"first_name": "Robert"})
    make_lead(
        "eve@example.com",
        page=page,
        answers={"phone": "+33 1 23"},
        destinations=["sales"],
    )
    Lead.objects.filter(email="bob@example.com").update(
        last_contact_at=timezone.now() - datetime.timedelta(days=40)
    )
    leads = Lead.objects.all()
    assert emails(filter_by_page(leads, page)) == {"ann@example.com", "eve@example.com"}
    assert emails(filter_by_purpose_granted(leads, newsletter)) == {"ann@example.com"}
    assert emails(filter_by_maturity(leads, Maturity.HOT)) == {"eve@example.com"}
    assert emails(filter_by_delivery_state(leads, DeliveryState.PENDING)) == {
        "eve@example.com"
    }
    assert emails(search_leads(leads, "rob example")) == {"bob@example.com"}
    today = timezone.localdate()
    month_ago = today - datetime.timedelta(days=30)
    assert emails(filter_by_last_contact(leads, end=month_ago)) == {"bob@example.com"}
    recent = filter_by_last_contact(leads, start=month_ago, end=today)
    assert emails(recent) == {"ann@example.com", "eve@example.com"}
    assert emails(filter_by_page(recent, page).filter(email__startswith="e")) == {
        "eve@example.com"
    }
