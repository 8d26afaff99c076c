"""A lead page a CDN can hold: no cookie, the same HTML for every anonymous
visitor, a form that stays protected without a CSRF cookie, the visitor's own
time-trap token fetched by script, and purges when what the page shows changes."""

from __future__ import annotations

import datetime
import html
import re

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.urls import reverse

from wagtail_leadgen.checks import check_shared_page_token_lifetime
from wagtail_leadgen.forms import REFERRER_FIELD, TOKEN_FIELD
from wagtail_leadgen.models import Lead, Submission
from wagtail_leadgen.responses import SCRIPT_LOADER
from wagtail_leadgen.tokens import make_form_token

from .factories import make_ebook_page, make_landing_page, make_staff

pytestmark = pytest.mark.django_db

BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
)
SHARED = "public, max-age=0, s-maxage=300"
NOW = datetime.datetime(2026, 3, 2, 10, 0, 5, tzinfo=datetime.UTC)


def leadgen(**options):
    return override_settings(WAGTAIL_LEADGEN={**settings.WAGTAIL_LEADGEN, **options})


def page_token(response) -> str:
    markup = response.content.decode()
    return html.unescape(
        re.search(rf'name="{TOKEN_FIELD}" value="([^"]+)"', markup).group(1)
    )


def form_action(response) -> str:
    return html.unescape(
        re.search(
            r'<form method="post" action="([^"]+)"', response.content.decode()
        ).group(1)
    )


def fetch_token(client, page, token: str, **headers):
    url = reverse("wagtail_leadgen:form_token", args=[page.pk])
    return client.get(url, {"t": token}, HTTP_USER_AGENT=BROWSER, **headers)


@pytest.fixture
def landing():
    return make_landing_page()


# -- Headers and HTML ------------------------------------------------------------------
@pytest.mark.parametrize("make_page", [make_landing_page, make_ebook_page])
def test_an_anonymous_visitor_gets_a_page_shared_caches_may_keep(client, make_page):
    page = make_page()
    response = client.get(page.url, HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 200
    assert response["Cache-Control"] == SHARED
    assert not response.cookies  # no csrftoken, no session
    assert "Cookie" not in response.get("Vary", "")
    markup = response.content.decode()
    assert "csrfmiddlewaretoken" not in markup
    assert form_action(response) == reverse(
        "wagtail_leadgen:form_submit", args=[page.pk]
    )


def test_the_max_age_is_a_setting(client, landing):
    with leadgen(SHARED_CACHE_MAX_AGE=60):
        response = client.get(landing.url, HTTP_USER_AGENT=BROWSER)
    assert response["Cache-Control"] == "public, max-age=0, s-maxage=60"


def test_two_visitors_get_the_same_bytes(client, landing):
    with time_machine.travel(NOW, tick=False):
        first = client.get(
            landing.url, HTTP_USER_AGENT=BROWSER, HTTP_REFERER="https://a.example/x"
        )
    client.cookies.clear()
    # Later in the same minute, another visitor from elsewhere.
    with time_machine.travel(NOW + datetime.timedelta(seconds=40), tick=False):
        second = client.get(
            landing.url,
            HTTP_USER_AGENT="Mozilla/5.0 (iPhone) Safari/604.1",
            HTTP_REFERER="https://b.example/y?email=ann@example.com",
            HTTP_ACCEPT_LANGUAGE="en-GB",
        )
    assert first.content == second.content
    assert "a.example" not in first.content.decode()


def test_an_editor_gets_a_private_page(client, landing):
    client.force_login(make_staff(username="editor"))
    response = client.get(landing.url, HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert "data-leadgen-token-url" not in response.content.decode()


def test_a_preview_is_private(client, landing):
    client.force_login(
        get_user_model().objects.create_superuser("admin", "admin@corp.test", "pw")
    )
    response = client.get(
        reverse("wagtailadmin_pages:view_draft", args=[landing.pk]),
        HTTP_USER_AGENT=BROWSER,
    )
    assert response.status_code == 200
    assert "public" not in response.get("Cache-Control", "")


def test_zero_keeps_the_private_page_of_before(client, landing):
    with leadgen(SHARED_CACHE_MAX_AGE=0):
        response = client.get(landing.url, HTTP_USER_AGENT=BROWSER)
    assert "s-maxage" not in response.get("Cache-Control", "")
    assert "csrftoken" in response.cookies
    markup = response.content.decode()
    assert "csrfmiddlewaretoken" in markup
    assert '<form method="post" novalidate' in markup  # posts back to the page


def test_the_form_posts_to_the_endpoint_with_the_pages_query_string(client, landing):
    response = client.get(landing.url + "?utm_source=news", HTTP_USER_AGENT=BROWSER)
    action = form_action(response)
    assert action.endswith("?utm_source=news")
    token = page_token(response)
    client.post(action, {TOKEN_FIELD: token, "email": "ann@example.com"})
    assert Submission.objects.get().utm_source == "news"


# -- Posting without a CSRF cookie ---------------------------------------------------------
def post(client, page, token: str, **headers):
    url = reverse("wagtail_leadgen:form_submit", args=[page.pk])
    return client.post(
        url,
        {TOKEN_FIELD: token, "email": "ann@example.com"},
        HTTP_USER_AGENT=BROWSER,
        **headers,
    )


@pytest.fixture
def csrf_client(client):
    """A client that enforces CSRF, as browsers meet it."""
    client.handler.enforce_csrf_checks = True
    return client


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "http://testserver"},
        {"HTTP_ORIGIN": "http://testserver", "HTTP_SEC_FETCH_SITE": "same-origin"},
        {"HTTP_SEC_FETCH_SITE": "same-origin"},
        {},  # an old browser, or a privacy tool that strips both headers
    ],
    ids=["origin", "origin-and-fetch-site", "fetch-site", "neither"],
)
def test_a_post_from_the_site_itself_needs_no_csrf_cookie(
    csrf_client, landing, headers
):
    token = page_token(csrf_client.get(landing.url, HTTP_USER_AGENT=BROWSER))
    response = post(csrf_client, landing, token, **headers)
    assert response.status_code == 303
    assert response["Cache-Control"] == "private, no-store"
    assert Lead.objects.get().email == "ann@example.com"


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "null"},
        {"HTTP_ORIGIN": "https://evil.example", "HTTP_SEC_FETCH_SITE": "same-origin"},
        {"HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_SEC_FETCH_SITE": "same-site"},
    ],
    ids=["origin", "null", "lying-fetch-site", "fetch-site", "same-site"],
)
def test_a_post_from_another_site_is_refused_with_a_page(client, landing, headers):
    token = page_token(client.get(landing.url, HTTP_USER_AGENT=BROWSER))
    response = post(client, landing, token, **headers)
    assert response.status_code == 403
    assert "cannot be sent from here" in response.content.decode()
    assert response["Cache-Control"] == "private, no-store"
    assert not Submission.objects.exists()


def test_an_allowed_origin_may_post(client, landing):
    token = page_token(client.get(landing.url, HTTP_USER_AGENT=BROWSER))
    with leadgen(FORM_ALLOWED_ORIGINS=["https://www.example.com"]):
        response = post(client, landing, token, HTTP_ORIGIN="https://WWW.example.com")
    assert response.status_code == 303


def test_a_post_to_the_page_itself_still_needs_the_csrf_token(csrf_client, landing):
    token = page_token(csrf_client.get(landing.url, HTTP_USER_AGENT=BROWSER))
    response = csrf_client.post(
        landing.url, {TOKEN_FIELD: token, "email": "a@b.example"}
    )
    assert response.status_code == 403
    assert not Submission.objects.exists()


def test_an_error_is_shown_again_privately_and_posts_to_the_endpoint_again(
    client, landing
):
    token = page_token(client.get(landing.url, HTTP_USER_AGENT=BROWSER))
    url = reverse("wagtail_leadgen:form_submit", args=[landing.pk])
    response = client.post(url, {TOKEN_FIELD: token, "email": "not-an-address"})
    assert response.status_code == 400
    assert response["Cache-Control"] == "private, no-store"
    assert form_action(response) == url


def test_the_endpoint_answers_a_get_with_the_page_and_unknown_pages_with_404(
    client, landing
):
    url = reverse("wagtail_leadgen:form_submit", args=[landing.pk])
    assert client.get(url)["Location"] == landing.url
    thanks = landing.thank_you_page
    assert (
        client.post(
            reverse("wagtail_leadgen:form_submit", args=[thanks.pk])
        ).status_code
        == 404
    )
    assert (
        client.post(reverse("wagtail_leadgen:form_submit", args=[999999])).status_code
        == 404
    )


# -- The time trap: the visitor's own token, or the page token without JavaScript ----------
def test_the_script_swaps_the_page_token_for_the_visitors_own(client, landing):
    response = client.get(landing.url, HTTP_USER_AGENT=BROWSER)
    shared = page_token(response)
    answer = fetch_token(client, landing, shared)
    assert answer.status_code == 200
    assert answer["Cache-Control"] == "private, no-store"
    data = answer.json()
    assert data["pow"] is None and data["token"] != shared
    assert post(client, landing, data["token"]).status_code == 303
    assert Lead.objects.get().email == "ann@example.com"


def test_a_token_fetched_by_script_and_posted_too_fast_is_spam(client, landing):
    with time_machine.travel(NOW, tick=False) as clock:
        shared = page_token(client.get(landing.url, HTTP_USER_AGENT=BROWSER))
        clock.shift(600)  # the page waited in the CDN for ten minutes
        own = fetch_token(client, landing, shared).json()["token"]
        clock.shift(1)
        with leadgen(FORM_MIN_FILL_SECONDS=5):
            response = post(client, landing, own)
            assert Submission.objects.get().is_spam
            clock.shift(5)
            post(client, landing, own)
    assert response.status_code == 303  # a bot is not told
    assert Submission.objects.filter(is_spam=False).count() == 1


def test_without_javascript_the_page_token_still_submits(client, landing):
    with time_machine.travel(NOW, tick=False) as clock:
        shared = page_token(client.get(landing.url, HTTP_USER_AGENT=BROWSER))
        clock.shift(30)
        with leadgen(FORM_MIN_FILL_SECONDS=5):
            assert post(client, landing, shared).status_code == 303
    assert Submission.objects.get().is_spam is False


def test_the_page_token_expires_like_any_form_token(client, landing):
    with time_machine.travel(NOW, tick=False) as clock:
        shared = page_token(client.get(landing.url, HTTP_USER_AGENT=BROWSER))
        clock.shift(24 * 60 * 60 + 60)
        assert post(client, landing, shared).status_code == 400
        assert fetch_token(client, landing, shared).json() == {"error": "expired"}
    assert not Submission.objects.exists()


@pytest.mark.parametrize("token", ["", "forged", "x" * 5000])
def test_the_token_endpoint_refuses_what_it_did_not_sign(client, landing, token):
    response = fetch_token(client, landing, token)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid"}


def test_a_token_of_another_page_is_refused(client, landing):
    other = make_landing_page()
    shared = page_token(client.get(other.url, HTTP_USER_AGENT=BROWSER))
    assert fetch_token(client, landing, shared).status_code == 400


def test_the_script_comes_after_the_first_paint_and_fills_in_the_referrer(
    client, landing
):
    markup = client.get(landing.url, HTTP_USER_AGENT=BROWSER).content.decode()
    (loader,) = re.findall(r"<script[^>]*>[^<]*</script>", markup)
    assert loader == (
        f'<script data-src="/static/wagtail_leadgen/form.js">{SCRIPT_LOADER}</script>'
    )
    assert f'name="{REFERRER_FIELD}"' in markup
    # The visitor's own referrer is never in the shared HTML.
    assert 'id="id_leadgen_ref" value' not in markup


@override_settings(
    WAGTAIL_LEADGEN={
        **settings.WAGTAIL_LEADGEN,
        "PROOF_OF_WORK": {"MAX_NUMBER": 2000},
    }
)
def test_with_proof_of_work_the_challenge_comes_with_the_visitors_token(
    client, landing
):
    markup = client.get(landing.url, HTTP_USER_AGENT=BROWSER).content.decode()
    assert "data-leadgen-pow=" not in markup  # one challenge is good for one post
    assert 'name="leadgen_pow"' in markup and "pow.js" in markup
    shared = page_token(client.get(landing.url, HTTP_USER_AGENT=BROWSER))
    first = fetch_token(client, landing, shared).json()["pow"]
    second = fetch_token(client, landing, shared).json()["pow"]
    assert first["salt"] != second["salt"]


# -- Settings and checks -------------------------------------------------------------------
def test_a_page_token_that_could_expire_in_the_cache_is_warned_about():
    with leadgen(SHARED_CACHE_MAX_AGE=3600, FORM_MAX_AGE=3600):
        assert [m.id for m in check_shared_page_token_lifetime(None)] == [
            "wagtail_leadgen.W004"
        ]
    assert check_shared_page_token_lifetime(None) == []
    with leadgen(SHARED_CACHE_MAX_AGE=0, FORM_MAX_AGE=60):
        assert check_shared_page_token_lifetime(None) == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("SHARED_CACHE_MAX_AGE", -1),
        ("SHARED_CACHE_MAX_AGE", "300"),
        ("FORM_ALLOWED_ORIGINS", "https://www.example.com"),
        ("FORM_ALLOWED_ORIGINS", ["https://www.example.com/path"]),
        ("FORM_ALLOWED_ORIGINS", ["www.example.com"]),
    ],
)
def test_bad_values_are_refused_with_the_setting_named(client, key, value):
    from wagtail_leadgen.conf import leadgen_settings

    with leadgen(**{key: value}):
        problems = leadgen_settings.validate()
    assert len(problems) == 1 and key in problems[0]


def test_a_visitor_token_is_read_as_before(client, landing):
    """Pages rendered before this change (tokens from make_form_token) still post."""
    token = make_form_token(landing.pk, {}, landing.request_processing.live_revision_id)
    assert post(client, landing, token).status_code == 303
    assert Submission.objects.get().is_spam is False


def test_a_page_behind_a_password_cannot_be_posted_to_through_the_endpoint(
    client, landing
):
    from wagtail.models import PageViewRestriction

    token = page_token(client.get(landing.url, HTTP_USER_AGENT=BROWSER))
    PageViewRestriction.objects.create(
        page=landing, restriction_type=PageViewRestriction.PASSWORD, password="s3cret"
    )
    response = post(client, landing, token)
    assert response.status_code == 200  # Wagtail's password form
    assert "password" in response.content.decode().lower()
    assert response["Cache-Control"] == "private, no-store"
    assert not Submission.objects.exists()
    # Its page is never shared either: Wagtail asks for the password.
    assert "public" not in client.get(landing.url).get("Cache-Control", "")
