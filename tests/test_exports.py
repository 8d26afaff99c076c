"""Lead exports: CSV and XLSX, streamed, no-store, formula-safe, permission-checked, logged."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.urls import reverse
from wagtail.models import ModelLogEntry

from wagtail_leadgen.models import Lead
from wagtail_leadgen.services.consent import withdraw_consent
from wagtail_leadgen.services.exports import (
    FORMULA_PREFIXES,
    csv_response,
    iter_csv,
    neutralise,
    write_xlsx,
)

from .factories import make_landing_page, make_lead, make_purpose, make_staff
from .helpers import assert_denied

INDEX = "wagtail_leadgen_leads:index"
HEADINGS = [
    "Email",
    "First name",
    "Last name",
    "Company",
    "Phone",
    "Source page",
    "Campaign",
    "Maturity",
    "Submissions",
    "Consents granted",
    "First contact",
    "Last contact",
]


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")  # so that Excel reads UTF-8 accents
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def read_xlsx(response) -> list[dict[str, object]]:
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(workbook.active.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


# neutralise ---------------------------------------------------------------


@pytest.mark.parametrize(
    "prefix", ["=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠"]
)
def test_every_formula_prefix_is_neutralised(prefix):
    assert neutralise(f"{prefix}cmd|' /C calc'!A0") == f"'{prefix}cmd|' /C calc'!A0"


def test_the_list_of_prefixes_covers_asvs_and_full_width_forms():
    assert set("=+-@\t\r") | set("＝＋－＠") <= FORMULA_PREFIXES


@pytest.mark.parametrize("value", ["  =1+1", "\u3000＝1+1", " \t@SUM(A1)"])
def test_leading_spaces_do_not_hide_a_formula(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize(
    "value", ["Ann", "ann@example.com", "a=b", "12", "", "Jean-Pierre", "'quoted"]
)
def test_harmless_text_is_unchanged(value):
    assert neutralise(value) == value


@pytest.mark.parametrize("value", [None, 12, -3, 1.5, True, datetime.date(2026, 1, 1)])
def test_values_that_are_not_text_are_unchanged(value):
    assert neutralise(value) == value


def test_csv_and_xlsx_helpers_neutralise_every_cell():
    rows = [["=1+1", "+33 1 23", "-2", "@x", "\tx", "ok", 3]]
    lines = b"".join(iter_csv(["=h", "b", "c", "d", "e", "f", "g"], rows)).decode()
    parsed = list(csv.reader(io.StringIO(lines.removeprefix("\ufeff"))))
    assert parsed == [
        ["'=h", "b", "c", "d", "e", "f", "g"],
        ["'=1+1", "'+33 1 23", "'-2", "'@x", "'\tx", "ok", "3"],
    ]
    output = io.BytesIO()
    write_xlsx(["a"] * 7, rows, output, title="t")
    sheet = openpyxl.load_workbook(io.BytesIO(output.getvalue())).active
    cells = list(sheet.iter_rows(min_row=2))[0]
    assert [cell.value for cell in cells] == [
        "'=1+1",
        "'+33 1 23",
        "'-2",
        "'@x",
        "'\tx",
        "ok",
        3,
    ]
    assert all(cell.data_type != "f" for cell in cells)


def test_xlsx_drops_control_characters_instead_of_failing():
    output = io.BytesIO()
    write_xlsx(["a"], [["bell\x07 and\x0bvt"]], output, title="t")
    sheet = openpyxl.load_workbook(io.BytesIO(output.getvalue())).active
    assert sheet["A2"].value == "bell and" + "vt"


def test_responses_are_never_cached():
    response = csv_response("leads", ["a"], [["b"]])
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"] == 'attachment; filename="leads.csv"'


# Export views -------------------------------------------------------------


@pytest.fixture
def exporter(client):
    client.force_login(make_staff("view_lead", "export_lead"))
    return client


@pytest.mark.django_db
def test_csv_export_has_every_column_and_the_consents_currently_granted(exporter):
    newsletter = make_purpose(name="Newsletter")
    partners = make_purpose(name="Partners")
    page = make_landing_page(title="Free audit", purposes=[newsletter, partners])
    lead = make_lead(
        "ann@example.com",
        page=page,
        answers={
            "first_name": "Anne-Sophie",
            "last_name": "Lefèvre",
            "company": "ACME",
            "phone": "+33 1 23 45 67 89",
        },
        decisions={newsletter: True, partners: True},
        utm={"utm_campaign": "spring"},
    ).lead
    withdraw_consent(lead, partners, language="en", channel="web")
    response = exporter.get(reverse(INDEX), {"export": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"].startswith('attachment; filename="leads-')
    [row] = read_csv(response)
    assert list(row) == HEADINGS
    lead.refresh_from_db()
    assert row == {
        "Email": "ann@example.com",
        "First name": "Anne-Sophie",
        "Last name": "Lefèvre",
        "Company": "ACME",
        "Phone": "'+33 1 23 45 67 89",
        "Source page": "Free audit",
        "Campaign": "spring",
        "Maturity": "Hot",
        "Submissions": "1",
        "Consents granted": "Newsletter",
        "First contact": lead.created_at.astimezone(datetime.UTC)
        .replace(microsecond=0, tzinfo=None)
        .isoformat(sep=" "),
        "Last contact": lead.last_contact_at.astimezone(datetime.UTC)
        .replace(microsecond=0, tzinfo=None)
        .isoformat(sep=" "),
    }


@pytest.mark.django_db
def test_a_formula_typed_by_a_visitor_is_exported_as_text(exporter):
    make_lead(
        "eve@example.com",
        answers={"first_name": '=HYPERLINK("http://evil.test","click")'},
        utm={"utm_campaign": "@SUM(1+1)*cmd|' /C calc'!A0"},
    )
    [row] = read_csv(exporter.get(reverse(INDEX), {"export": "csv"}))
    assert row["First name"] == '\'=HYPERLINK("http://evil.test","click")'
    assert row["Campaign"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    [row] = read_xlsx(exporter.get(reverse(INDEX), {"export": "xlsx"}))
    assert row["First name"] == '\'=HYPERLINK("http://evil.test","click")'
    assert row["Campaign"] == "'@SUM(1+1)*cmd|' /C calc'!A0"


@pytest.mark.django_db
def test_xlsx_export_has_the_same_rows_as_csv(exporter):
    make_lead("ann@example.com", answers={"first_name": "Ann"})
    make_lead("bob@example.com", answers={"last_name": "Martin"})
    response = exporter.get(reverse(INDEX), {"export": "xlsx"})
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"].endswith('.xlsx"')
    rows = read_xlsx(response)
    assert list(rows[0]) == HEADINGS
    assert {row["Email"] for row in rows} == {"ann@example.com", "bob@example.com"}
    assert all(isinstance(row["Last contact"], datetime.datetime) for row in rows)
    assert {row["Submissions"] for row in rows} == {1}
    csv_rows = read_csv(exporter.get(reverse(INDEX), {"export": "csv"}))
    assert [row["Email"] for row in csv_rows] == [row["Email"] for row in rows]


@pytest.mark.django_db
def test_exports_contain_the_filtered_and_searched_set_only(exporter):
    page = make_landing_page()
    make_lead("hot@example.com", page=page, answers={"phone": "+33 1 23 45 67 89"})
    make_lead("warm@example.com", page=page, answers={"first_name": "Wendy"})
    make_lead("elsewhere@example.com", answers={"first_name": "Wendy"})
    for export_format, read in (("csv", read_csv), ("xlsx", read_xlsx)):
        rows = read(
            exporter.get(
                reverse(INDEX),
                {"export": export_format, "maturity": "warm", "q": "wendy"},
            )
        )
        assert {row["Email"] for row in rows} == {
            "warm@example.com",
            "elsewhere@example.com",
        }
        rows = read(
            exporter.get(reverse(INDEX), {"export": export_format, "page": page.pk})
        )
        assert {row["Email"] for row in rows} == {"hot@example.com", "warm@example.com"}


@pytest.mark.django_db
def test_invalid_filters_export_nothing(exporter):
    make_lead()
    response = exporter.get(
        reverse(INDEX), {"export": "csv", "maturity": "boiling", "q": "ann"}
    )
    assert response.status_code == 302
    assert "export" not in response.url and "maturity=boiling" in response.url
    assert not ModelLogEntry.objects.filter(action="wagtail_leadgen.lead.export")


@pytest.mark.django_db
def test_viewing_without_export_permission_cannot_export(client):
    make_lead()
    client.force_login(make_staff("view_lead"))
    listing = client.get(reverse(INDEX))
    assert listing.status_code == 200
    assert b"Download CSV" not in listing.content
    assert b"Download XLSX" not in listing.content
    for export_format in ("csv", "xlsx"):
        assert_denied(client.get(reverse(INDEX), {"export": export_format}))
    assert not ModelLogEntry.objects.filter(action="wagtail_leadgen.lead.export")


@pytest.mark.django_db
def test_export_permission_alone_is_not_enough(client):
    make_lead()
    client.force_login(make_staff("export_lead"))
    assert_denied(client.get(reverse(INDEX), {"export": "csv"}))


@pytest.mark.django_db
def test_with_both_permissions_the_buttons_show_and_exports_work(exporter):
    make_lead()
    listing = exporter.get(reverse(INDEX))
    assert b"Download CSV" in listing.content and b"Download XLSX" in listing.content
    assert len(read_csv(exporter.get(reverse(INDEX), {"export": "csv"}))) == 1


@pytest.mark.django_db
def test_every_export_is_in_the_audit_log_per_lead_without_personal_data(client):
    user = make_staff("view_lead", "export_lead")
    client.force_login(user)
    ann = make_lead("ann@example.com", answers={"first_name": "Ann"}).lead
    bob = make_lead("bob@example.com").lead
    make_lead("zoe@example.com")
    read_csv(client.get(reverse(INDEX), {"export": "csv", "q": "example.com"}))
    read_xlsx(client.get(reverse(INDEX), {"export": "xlsx", "q": "ann"}))
    entries = ModelLogEntry.objects.filter(action="wagtail_leadgen.lead.export")
    csv_entries = [e for e in entries if e.data["format"] == "csv"]
    xlsx_entries = [e for e in entries if e.data["format"] == "xlsx"]
    assert len(csv_entries) == 3 and len({e.uuid for e in csv_entries}) == 1
    assert [e.object_id for e in xlsx_entries] == [str(ann.pk)]
    assert str(bob.pk) in {e.object_id for e in csv_entries}
    for entry in entries:
        assert entry.user_id == user.pk
        assert entry.label == f"Lead #{entry.object_id}"
        text = f"{entry.label} {entry.message} {entry.data}".lower()
        assert "@" not in text and "ann" not in text
    assert csv_entries[0].message == "Exported to CSV (3 leads in the file)"
    assert Lead.objects.count() == 3
    # the lead's page lists who exported it
    html = client.get(
        reverse("wagtail_leadgen_leads:inspect", args=[ann.pk])
    ).content.decode()
    assert "Exported to XLSX (1 lead in the file)" in html
    assert "Viewed the lead&#x27;s personal data" in html


@pytest.mark.django_db
def test_the_export_log_names_the_filters_but_not_the_search_words(exporter):
    page = make_landing_page()
    make_lead("ann@example.com", page=page)
    read_csv(
        exporter.get(
            reverse(INDEX),
            {
                "export": "csv",
                "q": "ann@example.com",
                "maturity": "warm",
                "page": page.pk,
                "last_contact_from": "2026-01-01",
            },
        )
    )
    [entry] = ModelLogEntry.objects.filter(action="wagtail_leadgen.lead.export")
    assert entry.data["filters"] == {
        "search": True,
        "maturity": "warm",
        "page": str(page.pk),
        "last_contact": ["2026-01-01", None],
    }
    assert "ann" not in str(entry.data)
