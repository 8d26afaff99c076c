"""The KPI report, its home panel and its SVG chart; only for people who see leads."""

import datetime
import re
import xml.etree.ElementTree as ET

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from wagtail_leadgen.charts import line_chart, nice_ticks
from wagtail_leadgen.models import PageViewDay, Submission

from .factories import make_landing_page, make_staff, page_permission
from .helpers import assert_denied

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"
REPORT = "wagtail_leadgen_kpis:report"


# -- The chart -------------------------------------------------------------------
def days(values, start=datetime.date(2025, 3, 1)):
    return [(start + datetime.timedelta(days=n), v) for n, v in enumerate(values)]


def parse(svg) -> ET.Element:
    return ET.fromstring(str(svg))  # noqa: S314 -- our own output


def test_the_chart_is_valid_svg_with_a_point_per_day():
    root = parse(
        line_chart(
            days([3, 0, 7, 12, 5]), title="Views per day", y_label="Views", unit="views"
        )
    )
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    points = root.findall(f".//{SVG}circle")
    assert len(points) == 5
    assert len(root.find(f".//{SVG}polyline").get("points").split()) == 5
    # Each dot says its day and value; the highest value is at the top.
    assert points[3].find(f"{SVG}title").text.endswith(": 12 views")
    assert min(float(p.get("cy")) for p in points) == float(points[3].get("cy"))


def test_the_chart_is_labelled_for_screen_readers():
    root = parse(
        line_chart(days([1, 2]), title="Submissions per day", y_label="Sub", unit="x")
    )
    title_id, desc_id = root.get("aria-labelledby").split()
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert (title.get("id"), title.text) == (title_id, "Submissions per day")
    assert desc.get("id") == desc_id
    assert "3 in total" in desc.text and "at most 2" in desc.text
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Day" in texts and "Sub" in texts  # axis labels


def test_the_chart_labels_at_most_seven_days_on_a_long_range():
    root = parse(line_chart(days([1] * 90), title="t", y_label="y", unit="u"))
    assert len(root.findall(f".//{SVG}circle")) == 90
    day_labels = [
        t for t in root.iter(f"{SVG}text") if t.get("y") == str(16 + 176 + 16)
    ]
    assert 2 <= len(day_labels) <= 7


@pytest.mark.parametrize("values", [[], [0, 0, 0]])
def test_an_empty_chart_says_so(values):
    root = parse(
        line_chart(
            days(values),
            title="Views per day",
            y_label="Views",
            unit="views",
            empty_message="No views counted in this period.",
        )
    )
    assert root.findall(f".//{SVG}circle") == []
    assert root.find(f"{SVG}desc").text == "No views counted in this period."
    assert "leadgen-chart--empty" in root.get("class")


def test_text_in_the_chart_is_escaped():
    root = parse(line_chart(days([1]), title='<script>"&', y_label="<b>", unit="a&b"))
    assert root.find(f"{SVG}title").text == '<script>"&'
    assert root.find(f".//{SVG}script") is None


@pytest.mark.parametrize(
    ("maximum", "ticks"),
    [
        (0, [0, 1]),
        (1, [0, 1]),
        (7, [0, 2, 4, 6, 8]),
        (40, [0, 10, 20, 30, 40]),
        (1234, [0, 500, 1000, 1500]),
    ],
)
def test_ticks_are_round_numbers(maximum, ticks):
    assert nice_ticks(maximum) == ticks


# -- Permissions ------------------------------------------------------------------


@pytest.fixture
def viewer(client):
    client.force_login(make_staff("view_lead"))
    return client


@pytest.fixture
def landing():
    page = make_landing_page(title="Free audit")
    today = timezone.localdate()
    PageViewDay.objects.create(page=page, day=today, views=40)
    for _ in range(2):
        Submission.objects.create(page=page)
    return page


def test_page_editors_without_lead_permission_cannot_see_the_report(client, landing):
    client.force_login(make_staff(page_permission("add"), page_permission("change")))
    assert_denied(client.get(reverse(REPORT)))
    home = client.get(reverse("wagtailadmin_home")).content.decode()
    assert "leadgen-top-pages" not in home


def test_anonymous_users_are_sent_to_the_login(client):
    response = client.get(reverse(REPORT))
    assert response.status_code == 302
    assert reverse("wagtailadmin_login") in response.url


def test_the_report_shows_the_kpis_and_the_charts(viewer, landing):
    response = viewer.get(reverse(REPORT))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Free audit" in html
    row = re.search(r"Free audit</a>.*?</tr>", html, re.S).group(0)
    cells = re.findall(r"<td>([^<]*)", row)
    assert cells[:3] == ["40", "2", "5.0 %"]
    svgs = re.findall(r"<svg xmlns=.*?</svg>", html, re.S)
    assert len(svgs) == 2
    charts = [parse(svg) for svg in svgs]
    period = 30  # the default range, today included
    assert [len(c.findall(f".//{SVG}circle")) for c in charts] == [period, period]
    assert "<script" not in "".join(svgs)


def test_the_report_filters_by_dates_and_page(viewer, landing):
    other = make_landing_page(title="Other offer")
    today = timezone.localdate()
    response = viewer.get(
        reverse(REPORT),
        {"start": (today - datetime.timedelta(days=6)).isoformat(), "page": other.pk},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Other offer</a>" in html and "Free audit</a>" not in html
    chart = parse(re.search(r"<svg xmlns=.*?</svg>", html, re.S).group(0))
    assert "leadgen-chart--empty" in chart.get("class")  # no view of Other offer


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2025-13-40"}, "Enter a valid date"),
        ({"end": "yesterday"}, "Enter a valid date"),
        ({"start": "2025-03-10", "end": "2025-03-01"}, "must not be after"),
        ({"start": "2020-01-01", "end": "2025-01-01"}, "at most 366 days"),
        ({"page": "not-a-page"}, "Select a valid choice"),
        ({"page": "999999"}, "Select a valid choice"),
    ],
)
def test_bad_filters_are_form_errors(viewer, landing, query, message):
    response = viewer.get(reverse(REPORT), query)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert "<svg xmlns=" not in html


def test_the_longest_range_is_a_setting(viewer, landing):
    with override_settings(WAGTAIL_LEADGEN={"DASHBOARD_MAX_DAYS": 7}):
        response = viewer.get(
            reverse(REPORT), {"start": "2025-03-01", "end": "2025-03-10"}
        )
    assert "at most 7 days" in response.content.decode()


def test_the_home_panel_lists_the_top_pages_and_links_to_the_report(viewer, landing):
    html = viewer.get(reverse("wagtailadmin_home")).content.decode()
    panel = re.search(r'id="leadgen-top-pages-section".*?</section>', html, re.S)
    assert panel is not None
    assert "Free audit" in panel.group(0)
    assert reverse(REPORT) in panel.group(0)


def sidebar(client) -> str:
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    return re.search(
        r'<script id="wagtail-sidebar-props"[^>]*>(.*?)</script>', html, re.S
    ).group(1)


def test_the_report_is_in_the_reports_menu_for_viewers_only(client, viewer):
    assert '"name": "leadgen-kpis"' in sidebar(viewer)
    client.force_login(make_staff(page_permission("change"), username="editor"))
    assert '"name": "leadgen-kpis"' not in sidebar(client)
