"""The view and CTA click counters: people only, one query, no open redirect."""

import datetime
import html
import logging
import re
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from wagtail_leadgen.blocks import CTABlock
from wagtail_leadgen.models import CTAClickDay, PageViewDay
from wagtail_leadgen.services import kpis, tracking

from .factories import make_cta, make_landing_page

pytestmark = pytest.mark.django_db

BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
NOW = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)
BOTS = [
    "",
    "   ",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0)",
    "Mozilla/5.0 (compatible; Yahoo! Slurp)",
    "Baiduspider/2.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/131.0",
    "curl/8.5.0",
    "Wget/1.21.4",
    "python-requests/2.32.3",
    "facebookexternalhit/1.1",
    "Mozilla/5.0 (compatible; SomeCrawler/1.0)",
    "WhatsApp link preview",
]


def views(page=None):
    """The views in the database once the cache's counters are flushed."""
    tracking.flush_page_views()
    rows = PageViewDay.objects.filter(page=page) if page else PageViewDay.objects
    return sum(row.views for row in rows.all())


def visit(client, page, **headers):
    """Open the page as a browser with JavaScript does: the page, then (for
    a page a shared cache holds) the visitor's token, with the same headers."""
    response = client.get(page.url, **headers)
    markup = response.content.decode()
    token_url = re.search(r'data-leadgen-token-url="([^"]+)"', markup)
    if token_url:
        token = re.search(r'name="leadgen_token" value="([^"]+)"', markup).group(1)
        client.get(html.unescape(token_url.group(1)), {"t": token}, **headers)
    return response


def clicks(cta):
    return sum(row.clicks for row in CTAClickDay.objects.filter(cta=cta))


def leadgen(**options):
    return override_settings(WAGTAIL_LEADGEN={**settings.WAGTAIL_LEADGEN, **options})


@pytest.fixture
def page():
    return make_landing_page()


# -- Page views ------------------------------------------------------------------------
def test_a_visitor_view_is_counted_per_day_without_a_cookie(client, page):
    with leadgen(COUNT_PAGE_VIEWS=False):
        visit(client, page, HTTP_USER_AGENT=BROWSER)
    response = visit(client, page, HTTP_USER_AGENT=BROWSER)
    visit(client, page, HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 200
    assert views() == 2
    row = PageViewDay.objects.get()
    assert (row.page_id, row.day) == (page.pk, timezone.localdate())
    assert not response.cookies and not client.cookies


def test_a_shared_page_counts_where_the_script_fetches_the_token(client, page):
    client.get(page.url, HTTP_USER_AGENT=BROWSER)  # no JavaScript: not counted
    assert views() == 0
    visit(client, page, HTTP_USER_AGENT=BROWSER)
    assert views() == 1


def test_a_private_page_counts_its_get(client, page):
    with leadgen(SHARED_CACHE_MAX_AGE=0):
        client.get(page.url, HTTP_USER_AGENT=BROWSER)
    assert views() == 1


def test_counting_a_view_adds_no_query(client, page):
    visit(client, page, HTTP_USER_AGENT=BROWSER)  # warm caches; schedules the flush
    with leadgen(COUNT_PAGE_VIEWS=False):
        visit(client, page, HTTP_USER_AGENT=BROWSER)  # warm, under these settings
        with CaptureQueriesContext(connection) as without:
            visit(client, page, HTTP_USER_AGENT=BROWSER)
    with CaptureQueriesContext(connection) as counted:
        visit(client, page, HTTP_USER_AGENT=BROWSER)
    assert len(counted) == len(without)
    assert not [q for q in counted.captured_queries if "pageviewday" in q["sql"]]
    assert views(page) == 2


def test_a_flush_is_one_upsert_for_every_page_and_day(page, django_assert_num_queries):
    other = make_landing_page()
    tracking.record_page_view(page.pk)  # the first view runs the flush task
    tracking.record_page_view(page.pk)
    tracking.record_page_view(other.pk)
    with CaptureQueriesContext(connection) as flush:
        assert tracking.flush_page_views() == 2
    writes = [q["sql"] for q in flush.captured_queries if "pageviewday" in q["sql"]]
    assert len(writes) == 1 and "ON CONFLICT" in writes[0]
    assert (views(page), views(other)) == (2, 1)


def test_views_are_flushed_exactly_once(page):
    for _ in range(3):
        tracking.record_page_view(page.pk)
    tracking.flush_page_views()
    assert tracking.flush_page_views() == 0  # a second flush finds nothing
    tracking.record_page_view(page.pk)
    assert views(page) == 4


def test_a_flush_while_another_runs_writes_nothing(page):
    tracking.record_page_view(page.pk)  # flushed by the task at once
    tracking.record_page_view(page.pk)
    cache.add(tracking._FLUSH_LOCK, 1)  # another process is flushing
    assert tracking.flush_page_views() == 0
    cache.delete(tracking._FLUSH_LOCK)
    assert tracking.flush_page_views() == 1
    assert views(page) == 2


def test_a_flush_task_is_enqueued_at_most_once_a_minute(page):
    """The suite's task backend runs a task at once: each enqueue is a flush."""
    with time_machine.travel(NOW, tick=False) as clock:
        tracking.record_page_view(page.pk)  # enqueues: flushed at once
        tracking.record_page_view(page.pk)
        tracking.record_page_view(page.pk)
        assert PageViewDay.objects.get().views == 1
        clock.shift(tracking.FLUSH_INTERVAL + 1)
        tracking.record_page_view(page.pk)  # the next minute: one more enqueue
        assert PageViewDay.objects.get().views == 4


def test_a_failed_write_keeps_the_views_for_the_next_flush(page, monkeypatch):
    from django.db import DatabaseError

    tracking.record_page_view(page.pk)
    tracking.record_page_view(page.pk)
    real = tracking._add

    def broken(*args, **kwargs):
        raise DatabaseError("locked")

    monkeypatch.setattr(tracking, "_add", broken)
    with pytest.raises(DatabaseError):
        tracking.flush_page_views()
    monkeypatch.setattr(tracking, "_add", real)
    assert views(page) == 2


def test_views_of_a_deleted_page_are_dropped(page):
    other = make_landing_page()
    tracking.record_page_view(page.pk)
    tracking.record_page_view(other.pk)
    tracking.record_page_view(other.pk)
    other.delete()
    assert views() == 1  # and no integrity error


def test_the_command_flushes(page):
    tracking.record_page_view(page.pk)
    tracking.record_page_view(page.pk)
    out = StringIO()
    call_command("leadgen_flush_counters", stdout=out)
    assert "Page views written: 1." in out.getvalue()
    assert PageViewDay.objects.get().views == 2


def test_the_dashboard_shows_views_not_yet_flushed(page):
    tracking.record_page_view(page.pk)
    tracking.record_page_view(page.pk)
    today = timezone.localdate()
    (row,) = [k for k in kpis.page_kpis(today, today) if k.page_id == page.pk]
    assert row.views == 2


def test_other_databases_count_with_an_update_then_an_insert(page, monkeypatch):
    monkeypatch.setattr(
        connection.features, "supports_update_conflicts_with_target", False
    )
    tracking.record_page_view(page.pk)
    tracking.record_page_view(page.pk)
    assert views(page) == 2


def test_each_day_has_its_own_row(page, monkeypatch):
    for day in (
        datetime.date(2025, 3, 1),
        datetime.date(2025, 3, 1),
        datetime.date(2025, 3, 2),
    ):
        monkeypatch.setattr(tracking, "site_today", lambda day=day: day)
        tracking.record_page_view(page.pk)
    tracking.flush_page_views()
    assert dict(PageViewDay.objects.values_list("day", "views")) == {
        datetime.date(2025, 3, 1): 2,
        datetime.date(2025, 3, 2): 1,
    }


@pytest.mark.parametrize("user_agent", BOTS)
def test_bots_are_not_counted(client, page, user_agent):
    assert visit(client, page, HTTP_USER_AGENT=user_agent).status_code == 200
    assert views() == 0


def test_a_request_without_user_agent_is_not_counted(client, page):
    visit(client, page)
    assert views() == 0


def test_extra_bot_words_can_be_configured(client, page):
    with leadgen(EXCLUDED_USER_AGENTS=["MyMonitor"]):
        visit(client, page, HTTP_USER_AGENT="mymonitor/1.0")
        visit(client, page, HTTP_USER_AGENT=BROWSER)
    assert views() == 1


def test_head_requests_are_not_counted(client, page):
    assert client.head(page.url, HTTP_USER_AGENT=BROWSER).status_code == 200
    with leadgen(SHARED_CACHE_MAX_AGE=0):
        assert client.head(page.url, HTTP_USER_AGENT=BROWSER).status_code == 200
    assert views() == 0


@pytest.mark.parametrize(
    "header",
    [
        {"HTTP_SEC_PURPOSE": "prefetch"},
        {"HTTP_SEC_PURPOSE": "prefetch;prerender"},
        {"HTTP_PURPOSE": "prefetch"},
        {"HTTP_X_MOZ": "prefetch"},
        {"HTTP_X_PURPOSE": "preview"},
    ],
)
def test_prefetches_are_not_counted(client, page, header):
    visit(client, page, HTTP_USER_AGENT=BROWSER, **header)
    assert views() == 0


def test_form_posts_are_not_views(client, page):
    client.post(page.url, {"email": "ann@example.com"}, HTTP_USER_AGENT=BROWSER)
    assert views() == 0


def test_wagtail_previews_are_not_counted(page):
    request = RequestFactory().get("/", HTTP_USER_AGENT=BROWSER)
    request.user = AnonymousUser()
    response = page.serve_preview(request, page.default_preview_mode)
    assert response.status_code == 200
    assert views() == 0


def test_logged_in_editors_are_not_counted(client, page):
    editor = get_user_model().objects.create_superuser("ed", "ed@example.com", "pw")
    client.force_login(editor)
    visit(client, page, HTTP_USER_AGENT=BROWSER)
    assert views() == 0


def test_logged_in_site_members_are_counted(client, page):
    member = get_user_model().objects.create_user("m", "m@example.com", "pw")
    client.force_login(member)
    visit(client, page, HTTP_USER_AGENT=BROWSER)
    assert views() == 1


def test_anonymous_visitors_never_load_a_session_for_the_counter(page):
    """No session cookie: ``request.user`` is not even looked at."""

    class Untouchable:
        def __getattr__(self, name):
            raise AssertionError(f"request.user.{name} was read")

    request = RequestFactory().get("/", HTTP_USER_AGENT=BROWSER)
    request.user = Untouchable()
    assert tracking.count_page_view(request, page)


def test_a_cache_error_does_not_break_the_page(client, page, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(tracking.cache, "incr", broken)
    with caplog.at_level(logging.WARNING, logger="wagtail_leadgen.metrics"):
        assert visit(client, page, HTTP_USER_AGENT=BROWSER).status_code == 200
        assert tracking.record_page_view(page.pk) is False
    assert "not counted" in caplog.text


# -- CTA clicks --------------------------------------------------------------------------
def click_url(cta):
    return reverse("wagtail_leadgen:cta_click", args=[cta.pk])


def ping_url(cta):
    return reverse("wagtail_leadgen:cta_ping", args=[cta.pk])


def test_a_click_is_counted_and_redirected_to_the_configured_url(client):
    cta = make_cta(target_url="https://example.com/guide/")
    response = client.get(click_url(cta), HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 302
    assert response["Location"] == "https://example.com/guide/"
    assert "no-store" in response["Cache-Control"]
    assert clicks(cta) == 1


def test_a_click_on_a_cta_to_a_page_leads_to_the_page(client, page):
    cta = make_cta(target_page=page)
    response = client.get(click_url(cta), HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 302 and response["Location"] == page.url
    assert clicks(cta) == 1


@pytest.mark.parametrize(
    "query",
    [
        "?next=https://evil.example/",
        "?url=//evil.example/",
        "?to=https://evil.example/&redirect=https://evil.example/",
    ],
)
def test_the_redirect_never_goes_where_the_request_says(client, query):
    cta = make_cta(target_url="https://example.com/guide/")
    response = client.get(click_url(cta) + query, HTTP_USER_AGENT=BROWSER)
    assert response["Location"] == "https://example.com/guide/"


def test_bots_are_redirected_but_not_counted(client):
    cta = make_cta()
    response = client.get(click_url(cta), HTTP_USER_AGENT="Googlebot/2.1")
    assert response.status_code == 302
    assert client.head(click_url(cta), HTTP_USER_AGENT=BROWSER).status_code == 302
    assert clicks(cta) == 0


def test_unknown_ctas_and_ctas_to_unpublished_pages_are_not_found(client, page):
    cta = make_cta(target_page=page)
    page.unpublish()
    assert client.get(click_url(cta), HTTP_USER_AGENT=BROWSER).status_code == 404
    missing = reverse("wagtail_leadgen:cta_click", args=[999999])
    assert client.get(missing, HTTP_USER_AGENT=BROWSER).status_code == 404
    assert clicks(cta) == 0


def test_the_click_url_only_answers_get_and_head(client):
    cta = make_cta()
    assert client.post(click_url(cta), HTTP_USER_AGENT=BROWSER).status_code == 405
    assert clicks(cta) == 0


def test_the_cta_block_links_through_the_counter():
    cta = make_cta(target_url="https://example.com/guide/")
    html = CTABlock().render(CTABlock().to_python({"cta": cta.pk}))
    assert f'href="{click_url(cta)}"' in html
    assert "ping=" not in html


# -- Click to call -------------------------------------------------------------------------
@pytest.fixture
def call_cta():
    return make_cta(label="Call us", phone_number="+33 1 23 45 67 89")


def test_click_to_call_keeps_its_tel_link_and_pings_the_counter(call_cta):
    html = CTABlock().render(CTABlock().to_python({"cta": call_cta.pk}))
    assert 'href="tel:+33123456789"' in html
    assert f'ping="{ping_url(call_cta)}"' in html


def test_a_ping_counts_a_call(client, call_cta):
    response = client.post(
        ping_url(call_cta),
        b"PING",
        content_type="text/ping",
        HTTP_USER_AGENT=BROWSER,
        HTTP_PING_TO="tel:+33123456789",
    )
    assert response.status_code == 204
    assert clicks(call_cta) == 1


def test_a_ping_needs_the_ping_content_type(client, call_cta):
    """An HTML form on another site cannot send text/ping: no forged clicks."""
    response = client.post(ping_url(call_cta), {"x": "1"}, HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 400
    assert client.get(ping_url(call_cta), HTTP_USER_AGENT=BROWSER).status_code == 405
    assert clicks(call_cta) == 0


def test_pings_from_bots_and_pings_of_other_ctas_are_not_counted(client, call_cta):
    other = make_cta()
    for cta, agent in ((call_cta, "curl/8"), (other, BROWSER)):
        response = client.post(
            ping_url(cta), b"PING", content_type="text/ping", HTTP_USER_AGENT=agent
        )
        assert response.status_code == 204
    assert clicks(call_cta) == 0 and clicks(other) == 0


def test_a_tel_cta_is_never_redirected_to(client, call_cta):
    assert client.get(click_url(call_cta), HTTP_USER_AGENT=BROWSER).status_code == 404


urlpatterns = []  # a site that did not include the plugin's URLs


@override_settings(ROOT_URLCONF=__name__)
def test_without_the_plugin_urls_ctas_link_straight_to_their_target(call_cta):
    cta = make_cta(target_url="https://example.com/guide/")
    html = CTABlock().render(CTABlock().to_python({"cta": cta.pk}))
    assert 'href="https://example.com/guide/"' in html
    html = CTABlock().render(CTABlock().to_python({"cta": call_cta.pk}))
    assert 'href="tel:+33123456789"' in html and "ping=" not in html
