"""KPI arithmetic on known data: every figure, spam left out, date bounds inclusive."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wagtail_leadgen.models import (
    ConsentDecision,
    ConsentRecord,
    CTAClickDay,
    Delivery,
    DownloadGrant,
    Lead,
    PageViewDay,
    Submission,
)
from wagtail_leadgen.services.consent import confirm_pending, withdraw_consent
from wagtail_leadgen.services.kpis import (
    build_report,
    daily_series,
    default_range,
    page_kpis,
    top_pages,
)

from .factories import (
    make_cta,
    make_document,
    make_ebook_page,
    make_landing_page,
    make_lead,
    make_purpose,
)

pytestmark = pytest.mark.django_db

START, END = datetime.date(2025, 3, 1), datetime.date(2025, 3, 10)
UTC = datetime.UTC


def at(day: str, clock: str = "12:00:00", tz=UTC) -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=tz)


class Data:
    """A little history to compute KPIs from."""

    def __init__(self):
        self.purpose = make_purpose()
        self.document = make_document()

    def submit(
        self,
        page,
        email,
        when,
        *,
        spam=False,
        consent=None,
        uses=None,
        deliveries=(),
    ):
        lead = None if spam else Lead.objects.get_or_create(email=email)[0]
        submission = Submission.objects.create(page=page, lead=lead, is_spam=spam)
        # created_at is auto_now_add: set the date afterwards.
        Submission.objects.filter(pk=submission.pk).update(created_at=when)
        if consent is not None:
            ConsentRecord.objects.create(
                lead=lead,
                purpose=self.purpose,
                submission=submission,
                decision=consent,
                wording="w",
                wording_sha256="0" * 64,
                language="en",
                channel="web",
            )
        if uses is not None:
            DownloadGrant.objects.create(
                submission=submission, document=self.document, uses=uses, max_uses=9
            )
        for status in deliveries:
            Delivery.objects.create(
                submission=submission, backend_alias="crm", status=status
            )
        return submission


@pytest.fixture
def data():
    return Data()


@pytest.fixture
def history(data):
    """Page A with a full history; e-book B with one lead; C with nothing at all."""
    a = make_landing_page(title="A")
    b = make_ebook_page(title="B")
    c = make_landing_page(title="C")
    PageViewDay.objects.bulk_create(
        [
            PageViewDay(page=a, day=datetime.date(2025, 2, 28), views=1000),  # before
            PageViewDay(page=a, day=START, views=40),
            PageViewDay(page=a, day=END, views=60),
            PageViewDay(page=a, day=datetime.date(2025, 3, 11), views=1000),  # after
        ]
    )
    G, R = ConsentDecision.GRANTED, ConsentDecision.REFUSED
    # In range: the first and the last second of the range are included.
    data.submit(
        a,
        "ann@example.com",
        at("2025-03-01", "00:00:00"),
        consent=G,
        uses=2,
        deliveries=["delivered", "failed"],
    )
    data.submit(
        a, "ann@example.com", at("2025-03-05"), consent=G, deliveries=["delivered"]
    )
    data.submit(
        a,
        "bob@example.com",
        at("2025-03-10", "23:59:59"),
        consent=R,
        uses=1,
        deliveries=["pending"],
    )
    # Spam, and submissions just outside the range: none of them counts.
    data.submit(a, "", at("2025-03-05"), spam=True, deliveries=["delivered"])
    data.submit(
        a,
        "eve@example.com",
        at("2025-02-28", "23:59:59"),
        consent=G,
        uses=5,
        deliveries=["delivered"],
    )
    data.submit(a, "eve@example.com", at("2025-03-11", "00:00:00"), consent=G)
    # Ann again, on B: one more confirmed lead for B, but the same person overall.
    data.submit(b, "ann@example.com", at("2025-03-07"), consent=G, uses=0)

    to_a = make_cta(target_page=a)
    also_to_a = make_cta(target_page=a)
    elsewhere = make_cta(target_url="https://example.com/")
    CTAClickDay.objects.bulk_create(
        [
            CTAClickDay(cta=to_a, day=datetime.date(2025, 3, 2), clicks=7),
            CTAClickDay(cta=to_a, day=datetime.date(2025, 3, 12), clicks=4),  # after
            CTAClickDay(cta=also_to_a, day=END, clicks=1),
            CTAClickDay(cta=elsewhere, day=END, clicks=50),  # not a page's
        ]
    )
    return a, b, c


def by_title(pages):
    return {kpis.title: kpis for kpis in pages}


def test_the_kpis_of_a_page(history):
    a = by_title(page_kpis(START, END))["A"]
    assert a.views == 100
    assert a.submissions == 3  # spam and out-of-range submissions left out
    assert a.conversion_rate == pytest.approx(0.03)
    assert a.confirmed_leads == 1  # Ann twice counts once; Bob refused
    assert a.downloads == 3
    assert a.cta_clicks == 8
    assert (a.delivered, a.deliveries) == (2, 4)
    assert a.delivery_success == pytest.approx(0.5)


def test_undefined_rates_are_none_and_pages_without_data_are_listed(history):
    pages = by_title(page_kpis(START, END))
    assert list(pages) == ["A", "B", "C"]
    b, c = pages["B"], pages["C"]
    assert (b.views, b.submissions, b.confirmed_leads) == (0, 1, 1)
    assert b.conversion_rate is None  # submissions but no counted view
    assert b.delivery_success is None
    assert (c.views, c.submissions, c.downloads, c.cta_clicks) == (0, 0, 0, 0)


def test_totals_count_a_person_once_across_pages(history):
    report = build_report(START, END)
    total = report.totals
    assert (total.views, total.submissions, total.downloads) == (100, 4, 3)
    assert total.cta_clicks == 8
    assert total.confirmed_leads == 1  # Ann, on A and on B
    assert total.conversion_rate == pytest.approx(0.04)


def test_a_single_day_range_includes_both_of_its_ends(history):
    a = by_title(page_kpis(END, END))["A"]
    assert (a.views, a.submissions, a.cta_clicks) == (60, 1, 1)


def test_the_daily_series_has_every_day_of_the_range(history):
    days = daily_series(START, END)
    assert [d.day for d in days] == [
        START + datetime.timedelta(days=n) for n in range(10)
    ]
    assert sum(d.views for d in days) == 100
    assert sum(d.submissions for d in days) == 4
    figures = {d.day.day: (d.views, d.submissions) for d in days}
    assert figures[1] == (40, 1)
    assert figures[5] == (0, 1)  # the spam of that day is not counted
    assert figures[7] == (0, 1)
    assert figures[10] == (60, 1)
    assert figures[2] == (0, 0)


def test_a_page_filter_restricts_everything(history):
    a, b, _c = history
    report = build_report(START, END, page_ids=[b.pk])
    assert [kpis.title for kpis in report.pages] == ["B"]
    assert report.totals.submissions == 1
    assert sum(d.submissions for d in report.days) == 1
    assert sum(d.views for d in report.days) == 0


def test_days_are_the_sites_local_days(data):
    """For a site in Paris, 23:30 on the 10th is in the range and 00:30 on the
    11th is not, although both are on the 10th in UTC."""
    page = make_landing_page(title="Paris")
    paris = ZoneInfo("Europe/Paris")
    data.submit(page, "in@example.com", at("2025-03-10", "23:30:00", paris))
    data.submit(page, "out@example.com", at("2025-03-11", "00:30:00", paris))
    data.submit(page, "first@example.com", at("2025-03-01", "00:10:00", paris))
    with override_settings(TIME_ZONE="Europe/Paris"):
        kpis = by_title(page_kpis(START, END))["Paris"]
        days = {d.day: d.submissions for d in daily_series(START, END)}
    assert kpis.submissions == 2
    assert days[START] == 1 and days[END] == 1


def test_the_number_of_queries_does_not_grow_with_the_pages(
    history, django_assert_num_queries
):
    with CaptureQueriesContext(connection) as few:
        build_report(START, END)
    for n in range(5):
        make_landing_page(title=f"More {n}")
    with django_assert_num_queries(len(few)):
        build_report(START, END)


def test_the_top_pages_are_ranked_by_recent_submissions(data):
    quiet = make_landing_page(title="Quiet")
    busy = make_landing_page(title="Busy")
    make_landing_page(title="Empty")
    now = timezone.now()
    for n in range(3):
        data.submit(busy, f"b{n}@example.com", now)
    data.submit(quiet, "q@example.com", now)
    data.submit(quiet, "old@example.com", now - datetime.timedelta(days=40))
    top = top_pages(limit=5, days=30)
    assert [(kpis.title, kpis.submissions) for kpis in top] == [
        ("Busy", 3),
        ("Quiet", 1),
    ]


def test_the_default_range_is_the_last_30_days_today_included():
    start, end = default_range()
    assert end == timezone.localdate()
    assert (end - start).days == 29


def test_days_stay_right_across_daylight_saving_changes(data):
    """Paris moves from +1 to +2 on 30 March 2025 and back on 26 October."""
    page = make_landing_page(title="DST")
    utc = [
        ("2025-03-29", "23:30:00"),  # 30 March 00:30 (+1)
        ("2025-03-30", "21:30:00"),  # 30 March 23:30 (+2)
        ("2025-03-30", "22:30:00"),  # 31 March 00:30 (+2)
        ("2025-10-25", "22:30:00"),  # 26 October 00:30 (+2)
        ("2025-10-26", "22:30:00"),  # 26 October 23:30 (+1)
        ("2025-10-26", "23:30:00"),  # 27 October 00:30 (+1)
    ]
    for n, (day, clock) in enumerate(utc):
        data.submit(page, f"p{n}@example.com", at(day, clock))
    with override_settings(TIME_ZONE="Europe/Paris"):
        days = {
            d.day: d.submissions
            for d in daily_series(
                datetime.date(2025, 3, 29), datetime.date(2025, 10, 28)
            )
            if d.submissions
        }
    assert days == {
        datetime.date(2025, 3, 30): 2,
        datetime.date(2025, 3, 31): 1,
        datetime.date(2025, 10, 26): 2,
        datetime.date(2025, 10, 27): 1,
    }


def test_offset_segments_find_each_change_to_the_second():
    from wagtail_leadgen.services.days import day_bounds, offset_segments

    paris = ZoneInfo("Europe/Paris")
    with override_settings(TIME_ZONE="Europe/Paris"):
        since, until = day_bounds(
            datetime.date(2025, 1, 1), datetime.date(2025, 12, 31)
        )
    assert offset_segments(since, until, paris) == [
        (at("2025-03-30", "01:00:00"), 60),
        (at("2025-10-26", "01:00:00"), 120),
        (None, 60),
    ]
    india = ZoneInfo("Asia/Kolkata")
    assert offset_segments(since, until, india) == [(None, 330)]


def test_the_admin_users_own_time_zone_does_not_move_the_days(history):
    """Wagtail activates each admin user's time zone; the report keeps the site's."""
    expected = build_report(START, END)
    with timezone.override(ZoneInfo("Pacific/Kiritimati")):  # UTC+14
        report = build_report(START, END)
    assert report.days == expected.days
    assert report.totals == expected.totals


# Confirmed leads: consents in force only ----------------------------------------------


def confirmed(page) -> int:
    return by_title(page_kpis(*default_range()))[page.title].confirmed_leads


def test_a_pending_double_opt_in_is_not_a_confirmed_lead_until_confirmed():
    newsletter = make_purpose(requires_confirmation=True)
    page = make_landing_page(title="Double opt-in", purposes=[newsletter])
    lead = make_lead(page=page, decisions={newsletter: True}).lead
    assert confirmed(page) == 0
    confirm_pending(lead, [newsletter], language="en", channel="email")
    assert confirmed(page) == 1


def test_a_later_unticked_box_does_not_unconfirm_an_earlier_lead():
    newsletter = make_purpose()
    first = make_landing_page(title="First", purposes=[newsletter])
    second = make_landing_page(title="Second", purposes=[newsletter])
    make_lead(page=first, decisions={newsletter: True})
    make_lead(page=second, decisions={newsletter: False})  # the same person
    assert (confirmed(first), confirmed(second)) == (1, 0)


def test_a_withdrawn_consent_no_longer_counts():
    newsletter = make_purpose()
    page = make_landing_page(title="Withdrawn", purposes=[newsletter])
    lead = make_lead(page=page, decisions={newsletter: True}).lead
    withdraw_consent(lead, newsletter, language="en", channel="web")
    assert confirmed(page) == 0
