"""Staff export a person's data for a request made by post or email (R14, R19):
from the lead's page with ``export_lead``, or with ``leadgen_export --email``."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from wagtail.models import ModelLogEntry

from wagtail_leadgen.audit import SUBJECT_EXPORT_ACTION

from .factories import make_lead, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann():
    return make_lead(
        "ann@example.com", answers={"first_name": "Zoë", "company": "Acme"}
    ).lead


def export_url(lead, file_format: str) -> str:
    return reverse("wagtail_leadgen_leads:export_person", args=[lead.pk, file_format])


def export_entries(lead):
    return ModelLogEntry.objects.filter(
        object_id=str(lead.pk), action=SUBJECT_EXPORT_ACTION
    )


# -- The command ---------------------------------------------------------------------
def test_the_command_prints_the_person_s_data_as_utf8_json(ann):
    out = io.StringIO()
    call_command("leadgen_export", email="Ann@Example.com", stdout=out)
    data = json.loads(out.getvalue())
    assert data["submissions"][0]["answers"]["first_name"] == "Zoë"
    assert "Zoë" in out.getvalue()  # not escaped: readable UTF-8
    assert "\n  " in out.getvalue()  # indented


def test_the_command_is_audit_logged_without_the_address(ann):
    call_command("leadgen_export", email="ann@example.com", stdout=io.StringIO())
    [entry] = export_entries(ann)
    assert entry.data == {"format": "json", "channel": "command"}
    assert entry.label == f"Lead #{ann.pk}"


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("nobody@example.com", "No data is stored for this address."),
        ("not an address", "--email is not a valid email address."),
    ],
)
def test_the_command_fails_clearly_for_an_unknown_or_malformed_address(
    ann, email, message
):
    with pytest.raises(CommandError, match=message):
        call_command("leadgen_export", email=email, stdout=io.StringIO())
    assert not export_entries(ann).exists()


# -- The lead's page -------------------------------------------------------------------
def test_staff_with_export_lead_see_the_buttons_and_get_the_file(client, ann):
    client.force_login(make_staff("view_lead", "export_lead"))
    page = client.get(reverse("wagtail_leadgen_leads:inspect", args=[ann.pk]))
    assert export_url(ann, "json").encode() in page.content
    response = client.get(export_url(ann, "json"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="lead-{ann.pk}-personal-data.json"'
    )
    data = json.loads(b"".join(response.streaming_content))
    assert data["person"]["email"] == "ann@example.com"
    [entry] = export_entries(ann)
    assert entry.data == {"format": "json", "channel": "admin"}


def test_the_csv_export_streams_one_row_per_item(client, ann):
    client.force_login(make_staff("view_lead", "export_lead"))
    response = client.get(export_url(ann, "csv"))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[1].startswith("person,")
    assert "company: Acme" in text


def test_staff_without_export_lead_get_neither_buttons_nor_file(client, ann):
    client.force_login(make_staff("view_lead"))
    page = client.get(reverse("wagtail_leadgen_leads:inspect", args=[ann.pk]))
    assert export_url(ann, "json").encode() not in page.content
    response = client.get(export_url(ann, "json"))
    assert response.status_code in (302, 403)
    assert not export_entries(ann).exists()


def test_an_unknown_format_or_lead_is_not_found(client, ann):
    client.force_login(make_staff("view_lead", "export_lead"))
    assert client.get(export_url(ann, "xml")).status_code == 404
    missing = reverse("wagtail_leadgen_leads:export_person", args=[ann.pk + 99, "json"])
    assert client.get(missing).status_code == 404
