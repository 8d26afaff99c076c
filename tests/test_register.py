"""The records of processing (R18; GDPR Art. 30): generated from configuration,
always current, as an admin page, three downloads and a command."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse
from wagtail import hooks
from wagtail.models import Site

from wagtail_leadgen.models.consent import LegalBasis
from wagtail_leadgen.services.register import (
    register_csv,
    register_entries,
    register_html,
    register_json,
)

from .factories import (
    make_landing_page,
    make_purpose,
    make_request_processing,
    make_staff,
    set_controller,
)
from .helpers import LOCMEM

pytestmark = pytest.mark.django_db

HUBSPOT = {"NAME": "HubSpot Inc.", "COUNTRY": "USA", "SAFEGUARD": "EU-US DPF"}
PARTNER = {"NAME": "Partner SA", "COUNTRY": "France"}


def destinations(**entries) -> dict:
    """``WAGTAIL_LEADGEN`` with in-memory destinations: alias -> extra keys."""
    return {
        "FORM_MIN_FILL_SECONDS": 0,
        "CRM_BACKENDS": {
            alias: {"BACKEND": LOCMEM, **extra} for alias, extra in entries.items()
        },
    }


def field(kind: str, label: str = "", required: bool = False) -> tuple:
    return (kind, {"label": label, "required": required, "help_text": ""})


def entry_named(name: str, **kwargs):
    return next(e for e in register_entries(**kwargs) if e.name == name)


@pytest.fixture
def controller():
    return set_controller(
        controller_name="Acme SAS",
        controller_address="1 rue de Paris",
        contact_email="privacy@acme.example",
        dpo_email="dpo@acme.example",
    )


@pytest.fixture
def configured(controller):
    """A request on legitimate interest and a partner purpose, on one live page
    routed to HubSpot (every lead) and to a partner (that purpose only)."""
    settings = destinations(
        hubspot={"RECIPIENT": HUBSPOT},
        partner={"RECEIVES": ["Partner offers"], "RECIPIENT": PARTNER},
    )
    with override_settings(WAGTAIL_LEADGEN=settings):
        request = make_request_processing(
            name="Call back",
            summary="We call you back within a day.",
            legal_basis=LegalBasis.LEGITIMATE_INTEREST,
            legitimate_interest="Answering prospects who ask to be called",
            retention_months=6,
        )
        partners = make_purpose(
            name="Partner offers",
            checkbox_label="Send me partner offers",
            recipients="Our partners team",
            retention_months=24,
            categories_of_persons="Prospects who accept partner offers",
        )
        make_landing_page(
            title="Book a call",
            request_processing=request,
            purposes=[partners],
            crm_destinations="hubspot,partner",
            form_fields=[field("first_name", "Your first name"), field("phone")],
        )
        yield


# -- What each entry says -----------------------------------------------------------


def test_every_live_processing_is_listed_request_first_and_drafts_left_out(
    configured,
):
    make_purpose(name="Unpublished idea", publish=False, live=False)  # a draft
    entries = register_entries()
    assert [(e.kind, e.name) for e in entries] == [
        ("request", "Call back"),
        ("consent", "Partner offers"),
    ]


def test_an_entry_states_purpose_basis_data_persons_recipients_retention(
    configured,
):
    call_back = entry_named("Call back")
    assert call_back.processing.legal_basis_label == "Legitimate interest"
    assert call_back.processing.legitimate_interest == (
        "Answering prospects who ask to be called"
    )
    assert call_back.description == (
        "We call you back within a day.\nWe send you what you asked for."
    )
    # the standard label of each field kind, not the editor's own wording
    assert call_back.data_categories == ("Email", "First name", "Phone")
    assert any("UTM" in item for item in call_back.technical_data)
    assert call_back.categories_of_persons == (
        "Prospects and customers who fill in a form"
    )
    assert call_back.processing.recipients == "Our sales team"
    assert [p.name for p in call_back.processing.processors] == ["HubSpot Inc."]
    assert call_back.processors_text == "HubSpot Inc. (USA, EU-US DPF)"
    assert call_back.processing.retention_months == 6
    assert call_back.pages == ("Book a call",)
    assert call_back.controller.name == "Acme SAS"
    assert call_back.controller.dpo_email == "dpo@acme.example"
    assert call_back.security_measures

    partners = entry_named("Partner offers")
    assert partners.processing.legal_basis_label == "Consent"
    assert partners.categories_of_persons == "Prospects who accept partner offers"
    assert partners.processing.recipients == "Our partners team"
    assert partners.processing.retention_months == 24
    assert any("SHA-256" in item for item in partners.technical_data)


def test_recipients_follow_the_destinations_receives(configured):
    assert [p.name for p in entry_named("Partner offers").processing.processors] == [
        "Partner SA"
    ]
    settings = destinations(
        hubspot={"RECIPIENT": HUBSPOT}, partner={"RECIPIENT": PARTNER}
    )
    with override_settings(WAGTAIL_LEADGEN=settings):
        # the partner now receives every lead: it is a recipient of the request
        processors = entry_named("Call back").processing.processors
        assert [p.name for p in processors] == ["HubSpot Inc.", "Partner SA"]
        assert entry_named("Partner offers").processing.processors == ()


def test_a_misconfigured_destination_is_left_out_not_a_crash(controller):
    settings = destinations(
        hubspot={"RECIPIENT": HUBSPOT},
        broken={"RECIPIENT": {"NAME": "Nobody"}},  # no COUNTRY: manage.py check says so
    )
    with override_settings(WAGTAIL_LEADGEN=settings):
        make_request_processing(name="Guide")
        processors = entry_named("Guide").processing.processors
    assert [p.name for p in processors] == ["HubSpot Inc."]


def test_categories_of_data_follow_the_published_form_not_a_draft(controller):
    request = make_request_processing(name="Guide")
    page = make_landing_page(request_processing=request)
    assert entry_named("Guide").data_categories == ("Email",)

    page.form_fields = [field("company")]
    page.save_revision()  # a draft: not what visitors are asked
    assert entry_named("Guide").data_categories == ("Email",)

    page.get_latest_revision().publish()
    assert entry_named("Guide").data_categories == ("Email", "Company")


def test_a_page_taken_offline_no_longer_counts(controller):
    request = make_request_processing(name="Guide")
    page = make_landing_page(request_processing=request, form_fields=[field("phone")])
    page.unpublish()
    guide = entry_named("Guide")
    assert guide.data_categories == ()
    assert guide.pages == ()


def test_security_measures_follow_the_settings(controller):
    make_request_processing(name="Guide")
    with override_settings(SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=31536000):
        measures = entry_named("Guide").security_measures
    assert "Every page is served over HTTPS only." in measures
    assert "Browsers are told to use HTTPS only (HSTS, 365 days)." in measures
    with override_settings(
        SECURE_SSL_REDIRECT=False,
        WAGTAIL_LEADGEN={"CONTENT_SECURITY_POLICY": None},
    ):
        measures = entry_named("Guide").security_measures
    assert not any("HTTPS" in m or "Content-Security-Policy" in m for m in measures)
    assert any("audit log" in m for m in measures)


# -- The three formats ----------------------------------------------------------------


def test_json_has_every_field_for_each_processing(configured):
    document = json.loads(register_json(register_entries()))
    request, consent = document["processings"]
    assert request["legitimate_interest"] == "Answering prospects who ask to be called"
    assert request["categories_of_data"] == ["Email", "First name", "Phone"]
    assert request["recipients"]["processors"] == [
        {"name": "HubSpot Inc.", "country": "USA", "safeguard": "EU-US DPF"}
    ]
    assert consent["categories_of_persons"] == "Prospects who accept partner offers"
    assert consent["controller"]["dpo_email"] == "dpo@acme.example"
    assert set(request) >= {
        "purpose_text",
        "legal_basis",
        "technical_data",
        "retention_months",
        "security_measures",
        "collected_on",
    }


def test_csv_is_one_row_per_processing_with_formulas_neutralised(controller):
    make_request_processing(name="=HYPERLINK(evil)", recipients="@SUM(A1)")
    text = b"".join(register_csv(register_entries())).decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["Processing"] == "'=HYPERLINK(evil)"
    assert row["Internal recipients"] == "'@SUM(A1)"
    assert row["Data controller"] == "Acme SAS"


def test_html_is_a_printable_document(configured):
    html = register_html(register_entries())
    assert html.startswith("<!DOCTYPE html>")
    assert "@media print" in html
    assert "Call back" in html and "Partner offers" in html
    assert "HubSpot Inc. (USA; transfer safeguard: EU-US DPF)" in html
    assert "dpo@acme.example" in html


# -- The admin page -------------------------------------------------------------------


def test_the_admin_page_needs_the_register_permission(client, configured):
    url = reverse("wagtail_leadgen_register:index")
    assert url == "/admin/leadgen/register/"
    client.force_login(make_staff("view_lead"))
    # Wagtail turns a refusal into a redirect to the dashboard, with a message
    assert client.get(url).status_code == 302
    download = reverse("wagtail_leadgen_register:download", args=["json"])
    assert client.get(download).status_code == 302

    client.force_login(make_staff("view_register", username="dpo"))
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Call back" in page and "Partner offers" in page
    for file_format in ("json", "csv", "html"):
        assert reverse("wagtail_leadgen_register:download", args=[file_format]) in page


def test_the_menu_shows_the_register_to_whoever_may_read_it(client, configured):
    client.force_login(make_staff("view_register", username="dpo"))
    assert "/admin/leadgen/register/" in client.get("/admin/").content.decode()
    client.force_login(make_staff("view_lead"))
    assert "/admin/leadgen/register/" not in client.get("/admin/").content.decode()


def test_the_downloads_are_never_cached(client, configured):
    client.force_login(make_staff("view_register", username="dpo"))
    download = reverse("wagtail_leadgen_register:download", args=["json"])
    response = client.get(download)
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    assert len(json.loads(response.content)["processings"]) == 2

    response = client.get(reverse("wagtail_leadgen_register:download", args=["csv"]))
    assert response["Content-Type"].startswith("text/csv")
    assert b"Partner offers" in b"".join(response.streaming_content)

    response = client.get(reverse("wagtail_leadgen_register:download", args=["html"]))
    assert "@media print" in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert "default-src 'none'" in response["Content-Security-Policy"]

    bad = reverse("wagtail_leadgen_register:download", args=["xml"])
    assert client.get(bad).status_code == 404


# -- The command ----------------------------------------------------------------------


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("leadgen_register", *args, stdout=out)
    return out.getvalue()


def test_the_command_prints_json_by_default_and_csv_or_html_on_request(configured):
    document = json.loads(run())
    assert [p["name"] for p in document["processings"]] == [
        "Call back",
        "Partner offers",
    ]
    assert "Partner offers" in run("--format", "csv")
    assert "@media print" in run("--format=html")


def test_the_command_refuses_an_unknown_format_or_site_clearly(controller):
    with pytest.raises(CommandError, match="use json, csv or html"):
        run("--format", "xml")
    with pytest.raises(CommandError, match="No site with id or hostname 'nowhere'"):
        run("--site", "nowhere")


def test_the_command_reads_the_controller_of_the_site_asked_for(controller):
    make_request_processing(name="Guide")
    site = Site.objects.get(is_default_site=True)
    document = json.loads(run("--site", str(site.hostname)))
    assert document["processings"][0]["controller"]["name"] == "Acme SAS"


def test_the_register_permission_is_offered_in_the_group_settings():
    offered = {
        codename
        for register_permissions in hooks.get_hooks("register_permissions")
        for codename in register_permissions().values_list("codename", flat=True)
    }
    assert "view_register" in offered
