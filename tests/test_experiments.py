"""A/B tests on the page: assignment, cookies and consent, caching, and the
attribution of views and submissions to the variant a visitor saw."""

from __future__ import annotations

import html
import random
import re
from collections import Counter

import pytest
from django.conf import settings
from django.core import signing
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from django.urls import reverse

from wagtail_leadgen.forms import TOKEN_FIELD
from wagtail_leadgen.models import ExperimentDay, Lead
from wagtail_leadgen.models.experiment_pages import (
    COOKIE_SALT,
    RunningTest,
    assign,
    cookie_name,
)
from wagtail_leadgen.services.experiment_counts import flush_variant_views
from wagtail_leadgen.tokens import make_form_token, read_form_token

from .factories import make_ebook_page, make_experiment, make_landing_page

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0"
SHARED = "public, max-age=0, s-maxage=300"


def granted(request):
    """A site's CONSENT_STATE: its CMP cookie lists the granted categories."""
    return set(request.COOKIES.get("site_cmp", "").split(","))


def broken(request):
    raise RuntimeError("the CMP cookie could not be parsed")


def leadgen(**options):
    return override_settings(WAGTAIL_LEADGEN={**settings.WAGTAIL_LEADGEN, **options})


CONSENT = leadgen(CONSENT_STATE="tests.test_experiments.granted")


def token_in(response) -> str:
    return html.unescape(
        re.search(
            rf'name="{TOKEN_FIELD}" value="([^"]+)"', response.content.decode()
        ).group(1)
    )


def figures(test) -> dict[str, tuple[int, int]]:
    flush_variant_views()
    return {
        row.variant: (row.views, row.submissions)
        for row in ExperimentDay.objects.filter(experiment=test)
    }


# -- Assignment --------------------------------------------------------------------------
def test_the_split_follows_the_weights_over_10000_requests(rf):
    test = RunningTest(id=1, arms=(("control", 50), ("b", 30), ("c", 20)))
    rng = random.Random(20261130)
    counts = Counter(assign(rf.get("/"), test, rng).key for _ in range(10_000))
    # Within 3 standard deviations (about 1.5 points) of 50 / 30 / 20 %.
    assert abs(counts["control"] - 5000) < 150
    assert abs(counts["b"] - 3000) < 140
    assert abs(counts["c"] - 2000) < 120


def test_a_campaign_link_fixes_the_variant_and_a_forged_one_gets_the_control(rf):
    test = RunningTest(id=1, arms=(("control", 1), ("b", 1000)))
    assert assign(rf.get("/", {"variant": "b"}), test).key == "b"
    for forged in ("zzz", "", "b' OR 1=1", "x" * 5000, "control"):
        assignment = assign(rf.get("/", {"variant": forged}), test)
        assert assignment.key == "control"
        assert assignment.fixed


def test_a_visitor_without_consent_gets_no_cookie_and_a_private_page(client):
    test = make_experiment()
    for _ in range(5):
        response = client.get(test.page.url, HTTP_USER_AGENT=BROWSER)
        assert response.status_code == 200
        assert not response.cookies
        assert "s-maxage" not in response["Cache-Control"]
        assert "private" in response["Cache-Control"]
        # Still a public page: search engines keep indexing it.
        assert "X-Robots-Tag" not in response


@CONSENT
def test_with_analytics_consent_the_variant_sticks(client):
    test = make_experiment(control_weight=1, variants=[{"key": "b", "weight": 1}])
    client.cookies["site_cmp"] = "analytics"
    first = client.get(test.page.url, HTTP_USER_AGENT=BROWSER)
    cookie = first.cookies[cookie_name(test.pk)]
    assert cookie["samesite"] == "Lax"
    assert cookie["httponly"]
    request = RequestFactory().get("/")
    request.COOKIES[cookie.key] = cookie.value
    key = request.get_signed_cookie(cookie.key, salt=COOKIE_SALT)
    shown = read_form_token(token_in(first), page_id=test.page.pk).variant
    assert shown == (test.pk, key)
    for _ in range(20):
        again = client.get(test.page.url, HTTP_USER_AGENT=BROWSER)
        assert read_form_token(token_in(again), page_id=test.page.pk).variant[1] == key
        assert cookie_name(test.pk) not in again.cookies  # kept, not set again


@CONSENT
def test_consent_for_another_category_sets_no_cookie(client):
    test = make_experiment()
    client.cookies["site_cmp"] = "marketing"
    response = client.get(test.page.url, HTTP_USER_AGENT=BROWSER)
    assert not response.cookies


def signed_cookie(name: str, value: str) -> str:
    response = HttpResponse()
    response.set_signed_cookie(name, value, salt=COOKIE_SALT)
    return response.cookies[name].value


@CONSENT
def test_a_forged_or_foreign_cookie_is_ignored(client):
    test = make_experiment(control_weight=1000, variants=[{"key": "b", "weight": 1}])
    client.cookies["site_cmp"] = "analytics"
    with override_settings(SECRET_KEY="another-site"):
        foreign = signed_cookie(cookie_name(test.pk), "b")  # another site's key
    forged = [
        "b",  # unsigned
        signed_cookie(cookie_name(test.pk + 1), "b"),  # another test's cookie
        "b:1tZ9kq:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        foreign,
    ]
    for value in forged:
        client.cookies[cookie_name(test.pk)] = value
        response = client.get(test.page.url, HTTP_USER_AGENT=BROWSER)
        assert response.status_code == 200
        # Ignored: a variant is drawn and remembered afresh (a valid cookie
        # is kept, never set again).
        assert response.cookies[cookie_name(test.pk)].value != value


@leadgen(CONSENT_STATE="tests.test_experiments.broken")
def test_a_failing_consent_hook_means_no_consent_never_a_500(client):
    test = make_experiment()
    response = client.get(test.page.url, HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 200
    assert not response.cookies


# -- What the page shows ------------------------------------------------------------------
def test_a_variant_shows_its_texts_and_keeps_the_page_for_the_rest(client):
    test = make_experiment(
        variants=[
            {
                "key": "b",
                "title": "Your audit in 48 hours",
                "intro": "Two days, not two weeks.",
                "form_heading": "Book it now",
                "submit_label": "Book my audit",
            }
        ]
    )
    markup = client.get(test.page.url, {"variant": "b"}).content.decode()
    assert "Your audit in 48 hours" in markup
    assert "Two days, not two weeks." in markup
    assert "Book it now" in markup
    assert "Book my audit" in markup
    control = client.get(test.page.url, {"variant": "control"}).content.decode()
    assert "Free audit" in control and "Your audit in 48 hours" not in control
    test.page.refresh_from_db()
    assert test.page.title == "Free audit"  # the page itself is untouched


def test_an_ebook_variant_replaces_the_summary_escaped(client):
    page = make_ebook_page()
    test = make_experiment(page, variants=[{"key": "b", "intro": "<b>Read</b> it"}])
    markup = client.get(page.url, {"variant": "b"}).content.decode()
    assert "&lt;b&gt;Read&lt;/b&gt; it" in markup
    assert test.is_running


def test_a_page_without_a_running_test_is_unchanged(client):
    page = make_landing_page()
    make_experiment(page, running=False)
    response = client.get(page.url, HTTP_USER_AGENT=BROWSER)
    assert response["Cache-Control"] == SHARED
    assert read_form_token(token_in(response), page_id=page.pk).variant is None


# -- Caching ---------------------------------------------------------------------------------
def test_a_campaign_link_is_shared_and_keyed_by_its_address(client):
    test = make_experiment(control_weight=1, variants=[{"key": "b", "weight": 1000}])
    for key in ("control", "b", "control", "b"):
        response = client.get(test.page.url, {"variant": key}, HTTP_USER_AGENT=BROWSER)
        assert response["Cache-Control"] == SHARED
        assert not response.cookies
        # Rendered once per address: never the other variant's copy.
        assert read_form_token(token_in(response), page_id=test.page.pk).variant == (
            test.pk,
            key,
        )


# -- Counting --------------------------------------------------------------------------------
def test_views_are_counted_per_variant_where_the_token_is_issued(client):
    test = make_experiment()
    page = test.page
    for _ in range(3):  # private pages: counted at the GET
        client.get(page.url, {"variant": "b"}, HTTP_USER_AGENT=BROWSER, HTTP_COOKIE="")
    shared = client.get(page.url, {"variant": "b"}, HTTP_USER_AGENT=BROWSER)
    assert figures(test) == {}  # a shared page is counted at its token fetch
    url = reverse("wagtail_leadgen:form_token", args=[page.pk])
    for _ in range(2):
        fetched = client.get(url, {"t": token_in(shared)}, HTTP_USER_AGENT=BROWSER)
        visitor = read_form_token(fetched.json()["token"], page_id=page.pk)
        assert visitor.variant == (test.pk, "b")
    drawn = client.get(page.url, HTTP_USER_AGENT=BROWSER)  # private, counted here
    key = read_form_token(token_in(drawn), page_id=page.pk).variant[1]
    counts = figures(test)
    assert counts["b"][0] == 2 + (key == "b")
    assert sum(views for views, _ in counts.values()) == 3


def test_bots_and_head_requests_are_not_counted(client):
    test = make_experiment()
    client.get(test.page.url, HTTP_USER_AGENT="Googlebot/2.1")
    client.head(test.page.url, HTTP_USER_AGENT=BROWSER)
    assert figures(test) == {}


def test_a_submission_is_attributed_to_the_variant_its_form_showed(client):
    test = make_experiment()
    page = test.page
    shown = client.get(page.url, {"variant": "b"}, HTTP_USER_AGENT=BROWSER)
    url = reverse("wagtail_leadgen:form_token", args=[page.pk])
    token = client.get(url, {"t": token_in(shown)}, HTTP_USER_AGENT=BROWSER).json()
    response = client.post(
        reverse("wagtail_leadgen:form_submit", args=[page.pk]),
        {TOKEN_FIELD: token["token"], "email": "ann@example.com"},
        HTTP_USER_AGENT=BROWSER,
    )
    assert response.status_code in (200, 303)
    assert Lead.objects.filter(email="ann@example.com").exists()
    assert figures(test)["b"] == (1, 1)


def test_a_token_naming_another_pages_test_is_attributed_to_nothing(client):
    other = make_experiment()
    test = make_experiment()
    token = make_form_token(test.page.pk, {}, None, variant=(other.pk, "b"))
    client.post(test.page.url, {TOKEN_FIELD: token, "email": "bob@example.com"})
    assert Lead.objects.filter(email="bob@example.com").exists()
    assert figures(other) == {} and figures(test) == {}


def test_a_forged_token_is_attributed_to_nothing_and_never_a_500(client):
    test = make_experiment()
    good = make_form_token(test.page.pk, {}, None, variant=(test.pk, "b"))
    payload, _, signature = good.rpartition(":")
    for forged in (
        payload + ":" + "A" * len(signature),
        signing.dumps({"p": test.page.pk, "t": 0, "v": {}, "x": [test.pk, "b"]}),
        signing.dumps(
            {"p": test.page.pk, "t": 1e12, "v": {}, "x": "b"},
            salt="wagtail_leadgen.form-time",
        ),
    ):
        response = client.post(
            reverse("wagtail_leadgen:form_submit", args=[test.page.pk]),
            {TOKEN_FIELD: forged, "email": "eve@example.com"},
            HTTP_USER_AGENT=BROWSER,
        )
        assert response.status_code < 500
        fetched = client.get(
            reverse("wagtail_leadgen:form_token", args=[test.page.pk]),
            {"t": forged},
            HTTP_USER_AGENT=BROWSER,
        )
        assert fetched.status_code == 400
    assert figures(test) == {}


def test_a_form_shown_again_keeps_its_variant(client):
    test = make_experiment(variants=[{"key": "b", "form_heading": "Book it now"}])
    token = make_form_token(test.page.pk, {}, None, variant=(test.pk, "b"))
    response = client.post(test.page.url, {TOKEN_FIELD: token, "email": "not-an-email"})
    assert response.status_code == 400
    assert "Book it now" in response.content.decode()
    assert read_form_token(token_in(response), page_id=test.page.pk).variant == (
        test.pk,
        "b",
    )


@pytest.fixture
def rf():
    return RequestFactory()
