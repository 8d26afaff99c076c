"""Erasure by staff (R15, R19): from the lead's page, with a reason, in the
audit log without personal data; the erasures list; ``leadgen_erase``."""

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse
from wagtail.models import ModelLogEntry

from wagtail_leadgen.audit import ERASE_ACTION, ERASURE_APPLIED_ACTION
from wagtail_leadgen.models import Delivery, Erasure, Lead
from wagtail_leadgen.services.erasure import erase_address

from .factories import make_lead, make_staff
from .helpers import assert_denied, locmem_destinations, sweep

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("_locmem_sales"),
]

EMAIL = "marguerite.vasseur@example.com"
NAME = "Vasseurine"


@pytest.fixture
def _locmem_sales():
    with override_settings(WAGTAIL_LEADGEN=locmem_destinations(sales=None)):
        yield


@pytest.fixture
def lead():
    lead = make_lead(EMAIL, answers={"last_name": NAME}, destinations=["sales"]).lead
    call_command("leadgen_deliver", "--once", "--all")
    return lead


def erase_url(lead):
    return reverse("wagtail_leadgen_erasures:erase", args=[lead.pk])


def test_the_lead_page_offers_erasure_only_to_those_who_may(client, lead):
    inspect = reverse("wagtail_leadgen_leads:inspect", args=[lead.pk])
    client.force_login(make_staff("view_lead"))
    assert erase_url(lead) not in client.get(inspect).content.decode()

    client.force_login(make_staff("view_lead", "erase_lead", username="dpo"))
    assert erase_url(lead) in client.get(inspect).content.decode()


def test_erasing_asks_for_a_reason_and_says_which_crms_will_be_asked(client, lead):
    client.force_login(make_staff("erase_lead"))

    page = client.get(erase_url(lead)).content.decode()
    assert f"Lead #{lead.pk}" in page and "sales" in page and EMAIL not in page

    response = client.post(erase_url(lead), {"note": "  "})
    assert response.status_code == 200 and "This field is required" in (
        response.content.decode()
    )
    assert Lead.objects.filter(pk=lead.pk).exists()


def test_staff_erase_a_person_and_the_audit_log_says_so_without_personal_data(
    client, lead
):
    staff = make_staff("view_lead", "erase_lead", username="dpo")
    client.force_login(staff)

    response = client.post(
        erase_url(lead), {"note": "Letter from the heirs"}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("wagtail_leadgen_leads:index")
    assert f"Lead #{lead.pk} was erased" in response.content.decode()
    erasure = Erasure.objects.get()
    assert (erasure.reason, erasure.requested_by) == ("staff", "dpo")
    assert erasure.note == "Letter from the heirs"
    entry = ModelLogEntry.objects.get(action=ERASE_ACTION)
    assert entry.label == f"Lead #{lead.pk}" and entry.user == staff
    assert entry.data == {"erasure": erasure.pk, "reason": "staff"}
    assert sweep(EMAIL, NAME) == []


def test_erasing_twice_says_it_was_already_done(client, lead):
    client.force_login(make_staff("erase_lead"))
    client.post(erase_url(lead), {"note": "By post"})

    response = client.post(erase_url(lead), {"note": "By post"}, follow=True)

    assert "already erased" in response.content.decode()
    assert Erasure.objects.count() == 1


def test_without_the_erase_permission_nothing_is_erased(client, lead):
    client.force_login(make_staff("view_lead", "export_lead", "view_delivery"))

    assert_denied(client.get(erase_url(lead)))
    assert_denied(client.post(erase_url(lead), {"note": "Please"}))
    assert Lead.objects.filter(pk=lead.pk).exists()


def test_the_erasures_list_shows_each_crm_outcome_and_no_personal_data(client, lead):
    client.force_login(make_staff("erase_lead"))
    client.post(erase_url(lead), {"note": "By post"})
    client.force_login(make_staff("view_erasure", "view_delivery", username="dpo"))
    erasure = Erasure.objects.get()

    listing = client.get(reverse("wagtail_leadgen_erasures:index")).content.decode()
    assert "1 pending" in listing
    call_command("leadgen_deliver", "--once", "--all")
    listing = client.get(reverse("wagtail_leadgen_erasures:index")).content.decode()
    assert "1 done" in listing
    detail = client.get(
        reverse("wagtail_leadgen_erasures:inspect", args=[erasure.pk])
    ).content.decode()
    assert "sales" in detail and "wagtail_leadgen.submission" in detail
    deliveries = client.get(
        reverse("wagtail_leadgen_deliveries:index")
    ).content.decode()
    assert f"Erasure #{erasure.pk}" in deliveries
    for html in (listing, detail, deliveries):
        assert EMAIL not in html and NAME not in html


def test_the_erasures_list_needs_its_own_permission(client):
    client.force_login(make_staff("view_lead"))
    assert_denied(client.get(reverse("wagtail_leadgen_erasures:index")))


def test_view_delivery_alone_never_shows_an_address(client, lead):
    client.force_login(make_staff("view_delivery"))
    delivery = Delivery.objects.get()

    for url in (
        reverse("wagtail_leadgen_deliveries:index"),
        reverse("wagtail_leadgen_deliveries:inspect", args=[delivery.pk]),
    ):
        html = client.get(url).content.decode()
        assert EMAIL not in html and f"Lead #{lead.pk}" in html


# -- manage.py leadgen_erase --------------------------------------------------------
def test_the_command_prints_counts_and_crms_never_the_address(lead, capsys):
    call_command("leadgen_erase", "--email", EMAIL.upper(), "--reason", "By phone")

    out = capsys.readouterr().out
    assert "1 lead" in out and "1 submission" in out and "sales" in out
    assert EMAIL not in out.lower()
    assert Erasure.objects.get().note == "By phone"


def test_the_command_says_when_nothing_is_stored(capsys):
    call_command("leadgen_erase", "--email", EMAIL, "--reason", "By phone")

    assert "Nothing is stored about this address" in capsys.readouterr().out
    assert not Erasure.objects.exists()


@pytest.mark.parametrize("email", ["not-an-address", "ann@localhost", ""])
def test_the_command_refuses_a_bad_address_clearly(email):
    with pytest.raises(CommandError, match="not a valid email address"):
        call_command("leadgen_erase", "--email", email, "--reason", "By phone")


def test_the_command_needs_a_reason(lead):
    with pytest.raises(CommandError, match="--reason"):
        call_command("leadgen_erase", "--email", EMAIL, "--reason", " ")
    assert Lead.objects.exists()


@override_settings(
    WAGTAIL_LEADGEN={
        "FORM_MIN_FILL_SECONDS": 0,
        "CRM_BACKENDS": {
            "inbox": {
                "BACKEND": "wagtail_leadgen.crm.email.EmailBackend",
                "OPTIONS": {"TO": ["sales@corp.test"]},
            }
        },
    }
)
def test_staff_record_a_manual_erasure_done_by_hand_in_the_audit_log(client):
    make_lead(EMAIL, destinations=["inbox"])
    call_command("leadgen_deliver", "--once", "--all")
    erasure = erase_address(EMAIL, reason=Erasure.Reason.STAFF)
    (manual,) = erasure.deliveries.all()
    assert manual.status == "manual" and manual.sealed_address == ""
    staff = make_staff("view_delivery", "change_delivery")
    client.force_login(staff)

    page = client.get(
        reverse("wagtail_leadgen_deliveries:inspect", args=[manual.pk])
    ).content.decode()
    assert "cannot erase people itself" in page and EMAIL not in page
    response = client.post(
        reverse("wagtail_leadgen_deliveries:applied", args=[manual.pk]), follow=True
    )

    assert "recorded as done by hand" in response.content.decode()
    manual.refresh_from_db()
    assert manual.status == "delivered"
    entry = ModelLogEntry.objects.get(action=ERASURE_APPLIED_ACTION)
    assert entry.label == f"Erasure #{erasure.pk}" and entry.user == staff
    assert sweep(EMAIL) == []
