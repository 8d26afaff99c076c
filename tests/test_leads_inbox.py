"""The leads inbox: columns, filters, search, the lead page, permissions, audit log."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry

from wagtail_leadgen.models import Delivery, Lead, Submission
from wagtail_leadgen.services.capture import SubmissionContext, quarantine_spam
from wagtail_leadgen.services.consent import withdraw_consent

from .factories import (
    make_landing_page,
    make_lead,
    make_purpose,
    make_staff,
    page_permission,
)
from .helpers import assert_denied

pytestmark = pytest.mark.django_db

INDEX = "wagtail_leadgen_leads:index"


def emails(response) -> set[str]:
    """The addresses listed on an inbox page."""
    assert response.status_code == 200, response.content[:500]
    return {lead.email for lead in response.context["object_list"]}


@pytest.fixture
def viewer(client):
    client.force_login(make_staff("view_lead"))
    return client


def age(lead: Lead, days: int) -> None:
    """Pretend the lead's last contact was ``days`` ago."""
    Lead.objects.filter(pk=lead.pk).update(
        last_contact_at=timezone.now() - timedelta(days=days)
    )


# Listing -----------------------------------------------------------------


def test_the_inbox_lists_each_lead_with_name_source_campaign_and_counts(viewer):
    landing = make_landing_page(title="Free audit")
    other = make_landing_page(title="Pricing")
    make_lead(
        "ann@example.com",
        page=landing,
        answers={"first_name": "Ann", "last_name": "Old"},
        utm={"utm_campaign": "spring"},
    )
    make_lead(
        "ann@example.com",
        page=other,
        answers={"first_name": "Ann", "last_name": "Smith"},
        utm={"utm_campaign": "summer"},
    )
    response = viewer.get(reverse(INDEX))
    html = response.content.decode()
    [lead] = response.context["object_list"]
    assert lead.submission_count == 2
    assert lead.source_page_title == "Free audit"  # the first touch
    assert lead.campaign == "spring"
    assert (lead.first_name, lead.last_name) == ("Ann", "Smith")  # the latest name
    for text in ("ann@example.com", "Ann Smith", "Free audit", "spring", "Warm"):
        assert text in html
    assert reverse("wagtail_leadgen_leads:inspect", args=[lead.pk]) in html


def test_the_list_can_be_sorted_by_maturity_and_submissions(viewer):
    make_lead("one@example.com")
    make_lead("two@example.com", answers={"phone": "+33 1 23 45 67 89"})  # hot
    for ordering in ("maturity_rank", "-submission_count", "campaign"):
        response = viewer.get(reverse(INDEX), {"ordering": ordering})
        assert response.status_code == 200
    ranked = viewer.get(reverse(INDEX), {"ordering": "maturity_rank"})
    assert [lead.email for lead in ranked.context["object_list"]] == [
        "two@example.com",
        "one@example.com",
    ]


def test_spam_never_reaches_the_inbox(viewer):
    page = make_landing_page()
    quarantine_spam(
        context=SubmissionContext(page=page, language="en"),
        answers={"email": "bot@spam.test", "first_name": "Mallory"},
        reason="honeypot",
    )
    lead = make_lead("ann@example.com", page=page, answers={"first_name": "Ann"}).lead
    # even a spam submission tied to a real lead is left out of every count
    Submission.objects.create(
        lead=lead, page=page, is_spam=True, answers={"first_name": "Mallory"}
    )
    response = viewer.get(reverse(INDEX))
    assert emails(response) == {"ann@example.com"}
    [row] = response.context["object_list"]
    assert row.submission_count == 1 and row.first_name == "Ann"
    assert emails(viewer.get(reverse(INDEX), {"q": "Mallory"})) == set()
    inspect = viewer.get(reverse("wagtail_leadgen_leads:inspect", args=[lead.pk]))
    assert "Mallory" not in inspect.content.decode()


# Filters -----------------------------------------------------------------


def test_filter_by_page(viewer):
    audit, ebook = make_landing_page(), make_landing_page()
    make_lead("a@example.com", page=audit)
    make_lead("b@example.com", page=ebook)
    make_lead("b@example.com", page=audit)
    make_lead("c@example.com", page=ebook)
    response = viewer.get(reverse(INDEX), {"page": audit.pk})
    assert emails(response) == {"a@example.com", "b@example.com"}
    assert len(response.context["object_list"]) == 2  # no duplicate rows


def test_filter_by_purpose_granted_uses_the_latest_answer(viewer):
    newsletter, partners = make_purpose(), make_purpose()
    page = make_landing_page(purposes=[newsletter, partners])
    make_lead("yes@example.com", page=page, decisions={newsletter: True})
    make_lead("no@example.com", page=page, decisions={newsletter: False})
    gone = make_lead("gone@example.com", page=page, decisions={newsletter: True}).lead
    withdraw_consent(gone, newsletter, language="en", channel="web")
    back = make_lead("back@example.com", page=page, decisions={newsletter: False})
    make_lead("back@example.com", page=page, decisions={newsletter: True})
    make_lead("other@example.com", page=page, decisions={partners: True})
    assert back.lead.consent_records.count() == 2
    response = viewer.get(reverse(INDEX), {"purpose_granted": newsletter.pk})
    assert emails(response) == {"yes@example.com", "back@example.com"}


def test_filter_by_delivery_status(viewer):
    def lead_with(email, *statuses):
        lead = make_lead(email, destinations=["a", "b"][: len(statuses)]).lead
        for delivery, status in zip(
            Delivery.objects.filter(submission__lead=lead).order_by("pk"),
            statuses,
            strict=True,
        ):
            Delivery.objects.filter(pk=delivery.pk).update(status=status)

    lead_with("failed@example.com", "failed", "delivered")
    lead_with("pending@example.com", "pending", "delivered")
    lead_with("done@example.com", "delivered", "delivered")
    lead_with("both@example.com", "failed", "pending")
    make_lead("none@example.com")  # no CRM destination
    assert emails(viewer.get(reverse(INDEX), {"status": "failed"})) == {
        "failed@example.com",
        "both@example.com",
    }
    assert emails(viewer.get(reverse(INDEX), {"status": "pending"})) == {
        "pending@example.com"
    }
    assert emails(viewer.get(reverse(INDEX), {"status": "delivered"})) == {
        "done@example.com"
    }
    assert len(emails(viewer.get(reverse(INDEX)))) == 5


def test_filter_by_last_contact_date_range(viewer):
    recent = make_lead("recent@example.com").lead
    old = make_lead("old@example.com").lead
    age(recent, 2)
    age(old, 40)
    today = timezone.now().date()
    params = {
        "last_contact_from": (today - timedelta(days=10)).isoformat(),
        "last_contact_to": today.isoformat(),
    }
    assert emails(viewer.get(reverse(INDEX), params)) == {"recent@example.com"}
    params = {"last_contact_to": (today - timedelta(days=30)).isoformat()}
    assert emails(viewer.get(reverse(INDEX), params)) == {"old@example.com"}


def test_filter_by_maturity(viewer):
    make_lead("hot@example.com", answers={"phone": "+33 1 23 45 67 89"})
    make_lead("warm@example.com")
    cold = make_lead("cold@example.com").lead
    Lead.objects.filter(pk=cold.pk).update(maturity="cold")
    for level in ("hot", "warm", "cold"):
        response = viewer.get(reverse(INDEX), {"maturity": level})
        assert emails(response) == {f"{level}@example.com"}


# Search ------------------------------------------------------------------


def test_search_by_email_and_by_name(viewer):
    make_lead("ann@example.com", answers={"first_name": "Ann", "last_name": "Smith"})
    make_lead("bob@corp.test", answers={"first_name": "Bob", "last_name": "Martin"})
    make_lead("zoe@example.com")
    assert emails(viewer.get(reverse(INDEX), {"q": "corp.test"})) == {"bob@corp.test"}
    assert emails(viewer.get(reverse(INDEX), {"q": "SMITH"})) == {"ann@example.com"}
    assert emails(viewer.get(reverse(INDEX), {"q": "bob"})) == {"bob@corp.test"}
    assert emails(viewer.get(reverse(INDEX), {"q": "Ann Smith"})) == {"ann@example.com"}
    assert emails(viewer.get(reverse(INDEX), {"q": "Ann Martin"})) == set()
    assert emails(viewer.get(reverse(INDEX), {"q": "example.com"})) == {
        "ann@example.com",
        "zoe@example.com",
    }


def test_search_finds_a_name_given_in_an_earlier_submission(viewer):
    make_lead("ann@example.com", answers={"last_name": "Durand"})
    make_lead("ann@example.com", answers={"company": "ACME"})
    response = viewer.get(reverse(INDEX), {"q": "durand"})
    assert emails(response) == {"ann@example.com"}
    assert len(response.context["object_list"]) == 1


# The lead's page ---------------------------------------------------------


def test_the_lead_page_shows_submissions_consents_with_exact_wording_and_deliveries(
    viewer,
):
    newsletter = make_purpose(
        name="Newsletter",
        checkbox_label="Send me the newsletter",
        purpose_text="<p>One email a month & <b>no</b> spam.</p>",
    )
    page = make_landing_page(title="Free audit", purposes=[newsletter])
    result = make_lead(
        "ann@example.com",
        page=page,
        answers={"first_name": "Ann", "question": "Line one\nLine two"},
        decisions={newsletter: True},
        destinations=["sales"],
        referrer="https://news.example.org/post",
        utm={"utm_source": "newsletter", "utm_campaign": "spring"},
    )
    withdraw_consent(result.lead, newsletter, language="en", channel="web")
    record = result.lead.consent_records.last()
    response = viewer.get(
        reverse("wagtail_leadgen_leads:inspect", args=[result.lead.pk])
    )
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "ann@example.com",
        "Free audit",
        "Line one\nLine two",
        "https://news.example.org/post",
        "spring",
        "newsletter",
        "Granted",
        "Withdrawn",
        f"#{record.purpose_revision_id}",
        record.wording_sha256,
        "matches the wording",
        "sales",
        "Pending",
    ):
        assert text in html, text
    # the exact wording, escaped, never rendered as markup
    assert "Send me the newsletter\n\n&lt;p&gt;One email a month &amp;amp;" in html
    assert "<b>no</b>" not in html


def test_the_lead_page_flags_a_wording_that_no_longer_matches_its_fingerprint(
    viewer,
):
    purpose = make_purpose()
    lead = make_lead(
        page=make_landing_page(purposes=[purpose]), decisions={purpose: True}
    ).lead
    # tampering bypasses the append-only guard with raw SQL
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE wagtail_leadgen_consentrecord SET wording = %s", ["I agree."]
        )
    html = viewer.get(
        reverse("wagtail_leadgen_leads:inspect", args=[lead.pk])
    ).content.decode()
    assert "does not match the wording" in html


# Permissions and the audit log -------------------------------------------


def test_without_view_permission_the_inbox_and_lead_pages_are_refused(client):
    lead = make_lead().lead
    client.force_login(
        make_staff(
            page_permission("add"),
            page_permission("change"),
            page_permission("publish"),
            "view_delivery",
        )
    )
    assert_denied(client.get(reverse(INDEX)))
    assert_denied(client.get(reverse(INDEX), {"export": "csv"}))
    assert_denied(client.get(reverse("wagtail_leadgen_leads:inspect", args=[lead.pk])))
    assert not ModelLogEntry.objects.filter(action__startswith="wagtail_leadgen.")


def test_viewers_cannot_edit_or_delete_leads(viewer):
    lead = make_lead().lead
    for name in ("edit", "delete"):
        assert_denied(
            viewer.get(reverse(f"wagtail_leadgen_leads:{name}", args=[lead.pk]))
        )
    assert_denied(viewer.get(reverse("wagtail_leadgen_leads:add")))


def test_only_view_export_and_change_permissions_are_offered_for_leads():
    """``change_lead`` is the correction of a person's details; there is no
    add, edit or delete form."""
    from wagtail import hooks

    codenames = {
        permission.codename
        for fn in hooks.get_hooks("register_permissions")
        for permission in fn()
        if permission.content_type.model == "lead"
    }
    assert codenames == {"view_lead", "export_lead", "change_lead"}


def test_viewing_a_lead_is_in_the_audit_log_without_personal_data(client):
    user = make_staff("view_lead")
    client.force_login(user)
    lead = make_lead("ann@example.com", answers={"first_name": "Ann"}).lead
    client.get(reverse(INDEX))  # the list alone is not an access to one person
    assert not ModelLogEntry.objects.filter(action="wagtail_leadgen.lead.view")
    client.get(reverse("wagtail_leadgen_leads:inspect", args=[lead.pk]))
    [entry] = ModelLogEntry.objects.filter(action="wagtail_leadgen.lead.view")
    assert entry.user_id == user.pk and entry.object_id == str(lead.pk)
    assert "ann" not in f"{entry.label} {entry.message} {entry.data}".lower()
    assert entry.message == "Viewed the lead's personal data"
    # Wagtail's site history report lists it
    client.force_login(get_user_model().objects.create_superuser("root", "", "pw"))
    report = client.get(reverse("wagtailadmin_reports:site_history"))
    assert f"Lead #{lead.pk}" in report.content.decode()


# Query count -------------------------------------------------------------


def test_the_list_needs_the_same_number_of_queries_for_1_or_20_leads(viewer):
    purpose = make_purpose()
    page = make_landing_page(purposes=[purpose])

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            response = viewer.get(reverse(INDEX))
        assert response.status_code == 200
        return len(context.captured_queries)

    make_lead(
        "lead0@example.com",
        page=page,
        answers={"first_name": "A"},
        decisions={purpose: True},
        destinations=["sales"],
    )
    one = queries()
    for n in range(1, 20):
        make_lead(
            f"lead{n}@example.com",
            page=page,
            answers={"first_name": "A", "last_name": "B"},
            decisions={purpose: True},
            destinations=["sales"],
            utm={"utm_campaign": "c"},
        )
    assert len(viewer.get(reverse(INDEX)).context["object_list"]) == 20
    assert queries() == one
