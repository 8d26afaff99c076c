"""The content hints report reads stored summaries: sorted and paginated in the
database, recomputed when the page, the settings or what the hints read change."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from wagtail.users.models import UserProfile

from wagtail_leadgen.models import (
    ContentHintsSummary,
    EbookPage,
    LandingPage,
    ThankYouPage,
)
from wagtail_leadgen.services.hints.summaries import (
    refresh_summaries,
    summary_fingerprint,
)
from wagtail_leadgen.views.hints import ContentHintsReportView

from .factories import make_cta, make_landing_page, page_model, set_controller
from .helpers import default_page_only, meta_description

pytestmark = pytest.mark.django_db

FIELD = {"label": "", "required": False, "help_text": ""}


def report_url():
    return reverse("wagtail_leadgen_hints:report")


def exported(client, **params) -> list[dict[str, str]]:
    """The report's rows as its CSV export gives them, in order."""
    response = client.get(report_url(), {**params, "export": "csv"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def row(rows, title):
    return next(r for r in rows if r["Title"] == title)


def lead_pages():
    return page_model().objects.type(LandingPage, EbookPage, ThankYouPage).specific()


@pytest.fixture
def controller():
    return set_controller(
        controller_name="Example SAS", contact_email="dpo@example.com"
    )


# -- In the database ------------------------------------------------------------------
def test_a_report_page_costs_the_same_queries_for_any_number_of_pages(
    admin_client, controller
):
    make_landing_page(title="First offer")
    admin_client.get(report_url())  # computes the summaries
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(report_url()).status_code == 200

    for n in range(5):
        make_landing_page(title=f"Offer {n}", intro="Ask us. " * n)
    admin_client.get(report_url())
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(report_url())
    assert "Offer 4" in response.content.decode()
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    assert any("ORDER BY" in q["sql"] and "LIMIT" in q["sql"] for q in many)


def test_the_database_sorts_and_paginates(admin_client, controller, monkeypatch):
    monkeypatch.setattr(ContentHintsReportView, "paginate_by", 2)
    for title, intro in [
        ("Xerus offer", "One."),
        ("Zebra offer", "One two three four five."),
        ("Yak offer", "One two three."),
    ]:
        make_landing_page(title=title, intro=intro, thank_you=False)
    first = admin_client.get(report_url(), {"ordering": "-words"}).content.decode()
    second = admin_client.get(
        report_url(), {"ordering": "-words", "p": 2}
    ).content.decode()
    assert first.index("Zebra offer") < first.index("Yak offer")
    assert "Xerus offer" not in first
    assert "Xerus offer" in second


def test_rows_without_a_value_come_last_in_both_directions(admin_client, controller):
    make_landing_page(title="Offer")  # and its thank-you page, without a form
    for ordering in ("form_fields", "-form_fields"):
        rows = exported(admin_client, ordering=ordering)
        assert [r["Form fields"] for r in rows] == ["1", ""], ordering


def test_every_sort_key_is_valid(admin_client, controller):
    make_landing_page(title="Offer")
    for column in ContentHintsReportView.columns:
        if column.sort_key:
            for ordering in (column.sort_key, f"-{column.sort_key}"):
                assert len(exported(admin_client, ordering=ordering)) == 2


# -- Fresh or stale -------------------------------------------------------------------
def test_summaries_are_computed_once_per_revision(admin_client, controller):
    page = make_landing_page(title="Offer", intro="Short.")
    assert row(exported(admin_client), "Offer")["Words"] == "1"
    summary = ContentHintsSummary.objects.get(page=page)
    assert summary.revision_id == page.latest_revision_id
    assert refresh_summaries(lead_pages()) == 0

    page.intro = "A longer introduction to the offer."
    revision = page.save_revision()  # a draft: the report describes it
    assert row(exported(admin_client), "Offer")["Words"] == "6"
    summary.refresh_from_db()
    assert summary.revision_id == revision.pk

    # A summary of another revision is stale, whoever saved what.
    ContentHintsSummary.objects.filter(pk=summary.pk).update(revision=None)
    assert refresh_summaries(lead_pages()) == 1


def test_other_targets_recompute_every_summary(admin_client, controller):
    make_landing_page(title="Offer", **meta_description("An offer."))
    assert row(exported(admin_client), "Offer")["Warnings"] == "0"
    before = summary_fingerprint()
    targets = {"CONTENT_TARGETS": {"landing": {"FORM_FIELDS_GOOD": 0}}}
    with override_settings(WAGTAIL_LEADGEN=targets):
        assert summary_fingerprint() != before
        assert row(exported(admin_client), "Offer")["Warnings"] == "1"


def test_the_site_settings_the_hints_read_make_summaries_stale(admin_client):
    make_landing_page(title="Offer", **meta_description("An offer."))
    assert row(exported(admin_client), "Offer")["Poor"] == "1"  # no controller
    set_controller(controller_name="Example SAS", contact_email="dpo@example.com")
    assert row(exported(admin_client), "Offer")["Poor"] == "0"


def test_the_pages_a_summary_read_make_it_stale(admin_client, controller):
    page = make_landing_page(title="Offer", **meta_description("An offer."))
    target = make_landing_page(title="Other offer", thank_you=False)
    cta = make_cta(label="See the other offer", target_page=target)
    page.body = [("cta", {"cta": cta})]
    page.save_revision().publish()
    assert row(exported(admin_client), "Offer")["Poor"] == "0"
    summary = ContentHintsSummary.objects.get(page=page)
    assert set(summary.referenced_pages.values_list("pk", flat=True)) == {
        target.pk,
        page.thank_you_page_id,
    }

    page.thank_you_page.unpublish()
    offer = row(exported(admin_client), "Offer")
    assert offer["Warnings"] == "1"
    assert "is not published" in offer["Issues"]

    page.thank_you_page.delete()
    offer = row(exported(admin_client), "Offer")
    assert "No thank-you page" in offer["Issues"]

    target.delete()
    assert row(exported(admin_client), "Offer")["Poor"] == "1"


@default_page_only(
    "its one issue is the missing meta description, a field of "
    "Wagtail's default Page that the custom base page lacks"
)
def test_issues_are_exported_in_the_readers_language(admin_client, controller):
    make_landing_page(title="Offer", search_description="")
    with translation.override("en"):
        refresh_summaries(lead_pages())
    profile = UserProfile.get_for_user(get_user_model().objects.get(username="admin"))
    profile.preferred_language = "fr"
    profile.save()
    assert row(exported(admin_client), "Offer")["Issues"] == "Aucune méta-description."
