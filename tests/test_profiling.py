"""Progressive profiling: a known visitor is never asked what the site knows and
gets the next questions of the page's queue instead; "known" only through a
profiling link from our emails or a remember-me cookie backed by a consent in
force; strangers keep the shared page."""

from __future__ import annotations

import html
import re
from itertools import combinations

import pytest
import time_machine
from django.conf import settings
from django.core import mail, signing
from django.test import override_settings
from django.utils import timezone

from wagtail_leadgen.forms import TOKEN_FIELD
from wagtail_leadgen.models import Lead, Submission
from wagtail_leadgen.models.known import PROFILE_HEADER, answered_kinds
from wagtail_leadgen.models.profiling import profiled_kinds
from wagtail_leadgen.services.consent import withdraw_consent
from wagtail_leadgen.services.rectification import current_answers
from wagtail_leadgen.services.renewal import renewal_message
from wagtail_leadgen.tokens import (
    REMEMBER_SALT,
    make_profile_link_token,
    make_remember_token,
)

from .factories import make_landing_page, make_lead, make_purpose
from .helpers import form_data, ticked

pytestmark = pytest.mark.django_db

EMAIL = "ann@example.com"
SHARED = "public, max-age=0, s-maxage=300"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36"
COOKIE = "leadgen_known"


def field(kind: str, required: bool = False):
    return (kind, {"label": "", "required": required, "help_text": ""})


def asked(response) -> list[str]:
    """The answer inputs the form shows, in order (hidden ones left out)."""
    markup = response.content.decode()
    section = markup[markup.index('class="leadgen-form"') :]
    return [
        name
        for name in re.findall(r'<(?:input|textarea)[^>]*name="([^"]+)"', section)
        if name
        in {
            "email",
            "first_name",
            "last_name",
            "company",
            "job_title",
            "phone",
            "country",
            "question",
        }
    ]


@pytest.fixture
def remember():
    return make_purpose(
        name="Remember me",
        checkbox_label="Remember me on this device",
        purpose_text="<p>A cookie lets us skip what you already told us.</p>",
        remembers_device=True,
    )


@pytest.fixture
def page(remember):
    return make_landing_page(
        purposes=[remember],
        form_fields=[field("first_name", True), field("company")],
        profiling_fields=[field("job_title"), field("country"), field("phone")],
    )


@pytest.fixture
def ann(page):
    """Ann filled in the form once: her first name and company are known."""
    return make_lead(
        EMAIL, page=page, answers={"first_name": "Ann", "company": "Acme"}
    ).lead


def link(page, lead) -> str:
    return (
        f"{page.url}?known={make_profile_link_token(lead.pk, lead.preferences_nonce)}"
    )


# -- Who is asked what ---------------------------------------------------------------
def test_a_stranger_gets_the_standard_form_on_the_shared_page(client, page):
    response = client.get(page.url, HTTP_USER_AGENT=BROWSER)
    assert asked(response) == ["email", "first_name", "company"]
    assert response["Cache-Control"] == SHARED
    assert not response.cookies
    assert "Welcome back" not in response.content.decode()


def test_a_link_from_our_emails_asks_the_next_question_instead_of_known_ones(
    client, page, ann
):
    response = client.get(link(page, ann), HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 200
    # No email, no first name, no company: the first question of the queue.
    assert asked(response) == ["job_title"]
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    markup = response.content.decode()
    assert "a•••@example.com" in markup and EMAIL not in markup


def test_the_known_visitor_s_answers_merge_into_their_lead(client, page, ann):
    url = link(page, ann)
    data = form_data(client, page, job_title="CTO")
    data[TOKEN_FIELD] = html.unescape(
        re.search(
            rf'name="{TOKEN_FIELD}" value="([^"]+)"', client.get(url).content.decode()
        ).group(1)
    )
    response = client.post(url, data)
    assert response.status_code == 303, response.content
    assert Lead.objects.count() == 1
    latest = Submission.objects.filter(lead=ann).latest("pk")
    assert latest.answers == {"job_title": "CTO"}
    assert current_answers(ann) == {
        "first_name": "Ann",
        "company": "Acme",
        "job_title": "CTO",
    }
    # The next visit asks the next question of the queue.
    assert asked(client.get(url)) == ["country"]


def test_the_latest_answer_wins_and_each_submission_keeps_its_own(page, ann):
    make_lead(EMAIL, page=page, answers={"company": "Acme Europe"})
    assert current_answers(ann)["company"] == "Acme Europe"
    history = list(
        Submission.objects.filter(lead=ann)
        .order_by("pk")
        .values_list("answers", flat=True)
    )
    assert history == [
        {"first_name": "Ann", "company": "Acme"},
        {"company": "Acme Europe"},
    ]


def test_a_field_of_the_form_left_unanswered_is_asked_again_before_the_queue(
    client, page
):
    lead = make_lead(EMAIL, page=page, answers={"first_name": "Ann"}).lead
    assert asked(client.get(link(page, lead))) == ["company", "job_title"]


def test_questions_per_visit_is_the_editor_s_choice(client, page, ann):
    page.profiling_questions = 2
    page.save_revision().publish()
    assert asked(client.get(link(page, ann))) == ["job_title", "country"]


def test_once_the_queue_is_answered_only_the_button_is_left(client, page):
    lead = make_lead(
        EMAIL,
        page=page,
        answers={
            "first_name": "Ann",
            "company": "Acme",
            "job_title": "CTO",
            "country": "France",
            "phone": "+33 1 23 45 67 89",
        },
    ).lead
    response = client.get(link(page, lead))
    assert response.status_code == 200
    assert asked(response) == []


KINDS = ["first_name", "company", "job_title", "country", "phone"]


@pytest.mark.parametrize("size", range(len(KINDS) + 1))
def test_profiling_never_asks_a_known_field(size):
    standard, queue = KINDS[:2], KINDS[2:]
    for known in combinations(KINDS, size):
        for per_visit in (0, 1, 3):
            kinds = profiled_kinds(standard, queue, frozenset(known), per_visit)
            assert not set(kinds) & set(known)
            assert "email" not in kinds
            # Never longer than the stranger's form (email + the standard fields)
            # while at most one queue question is asked per visit.
            if per_visit <= 1:
                assert len(kinds) <= 1 + len(standard)


def test_spam_answers_are_not_known_answers(page):
    lead = make_lead(EMAIL, page=page, answers={"first_name": "Ann"}).lead
    Submission.objects.create(lead=lead, answers={"company": "Bot"}, is_spam=True)
    assert answered_kinds(lead) == {"first_name"}


# -- Bad tokens and cookies: the standard form, never an error ------------------------
@pytest.mark.parametrize(
    "token",
    [
        "forged",
        "",
        "x" * 5000,
        "%00",
        signing.dumps({"l": 1, "n": "abc"}, salt="another-salt"),
        signing.dumps({"l": "one", "n": None}, salt="wagtail_leadgen.profile-link"),
        signing.dumps([1, 2], salt="wagtail_leadgen.profile-link"),
    ],
)
def test_a_forged_link_gets_the_standard_form(client, page, ann, token):
    response = client.get(f"{page.url}?known={token}")
    assert response.status_code == 200
    assert asked(response) == ["email", "first_name", "company"]
    assert response["Cache-Control"] == "private, no-store"


def test_an_expired_link_or_one_whose_key_was_renewed_gets_the_standard_form(
    client, page, ann
):
    url = link(page, ann)
    with time_machine.travel(timezone.now() + timezone.timedelta(days=31)):
        assert asked(client.get(url))[0] == "email"
    Lead.objects.filter(pk=ann.pk).update(preferences_nonce="0" * 32)
    assert asked(client.get(url))[0] == "email"


def test_an_erased_person_s_link_gets_the_standard_form(client, page, ann):
    url = link(page, ann)
    ann.delete()
    assert asked(client.get(url))[0] == "email"


def test_a_link_signed_by_another_site_gets_the_standard_form(client, page, ann):
    with override_settings(SECRET_KEY="another-site-" + "k" * 40):
        url = link(page, ann)
    assert asked(client.get(url))[0] == "email"


def test_a_link_posted_with_a_forged_token_needs_the_email_again(client, page, ann):
    data = form_data(client, page, job_title="CTO")
    response = client.post(f"{page.url}?known=forged", data)
    assert response.status_code == 400
    assert Submission.objects.filter(lead=ann).count() == 1


# -- The remember-me cookie: only with its consent, worthless once withdrawn ----------
def submit(client, page, *, tick, **answers):
    data = form_data(client, page, **answers)
    if tick:
        data.update(ticked(*tick))
    return client.post(page.url, data)


def test_no_cookie_without_the_remember_me_box_ticked(client, page):
    response = submit(client, page, tick=(), email=EMAIL, first_name="Ann")
    assert response.status_code == 303
    assert COOKIE not in response.cookies
    assert asked(client.get(page.url))[0] == "email"


def test_no_cookie_for_another_purpose_ticked(client):
    news = make_purpose(name="News")
    page = make_landing_page(purposes=[news], form_fields=[field("first_name")])
    response = submit(client, page, tick=[news], email=EMAIL, first_name="Ann")
    assert response.status_code == 303 and COOKIE not in response.cookies


def test_no_cookie_for_spam(client, page, remember):
    data = form_data(client, page, email=EMAIL, first_name="Ann", leadgen_hp="x")
    data.update(ticked(remember))
    response = client.post(page.url, data)
    assert response.status_code == 303
    assert COOKIE not in response.cookies


def test_the_cookie_set_with_the_consent_recognises_the_visitor(client, page, remember):
    response = submit(client, page, tick=[remember], email=EMAIL, first_name="Ann")
    assert response.status_code == 303
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == 180 * 24 * 60 * 60
    again = client.get(page.url, HTTP_USER_AGENT=BROWSER)
    assert again["Cache-Control"] == "private, no-store"
    assert asked(again) == ["company", "job_title"]


def test_withdrawing_the_consent_makes_the_cookie_worthless(client, page, remember):
    submit(client, page, tick=[remember], email=EMAIL, first_name="Ann")
    lead = Lead.objects.get(email=EMAIL)
    withdraw_consent(lead, remember, language="en", channel="preferences")
    assert COOKIE in client.cookies
    assert asked(client.get(page.url))[0] == "email"


def test_erasure_makes_the_cookie_worthless(client, page, remember):
    submit(client, page, tick=[remember], email=EMAIL, first_name="Ann")
    Lead.objects.get(email=EMAIL).delete()
    assert asked(client.get(page.url))[0] == "email"


def test_a_cookie_that_rests_on_another_purpose_is_ignored(client, page, remember):
    news = make_purpose(name="News")
    lead = make_lead(EMAIL, page=page, decisions={news: True}).lead
    client.cookies[COOKIE] = make_remember_token(
        lead.pk, lead.preferences_nonce, news.pk
    )
    assert asked(client.get(page.url))[0] == "email"


@pytest.mark.parametrize(
    "value",
    ["forged", signing.dumps({"l": 1, "n": "x"}, salt="other"), "\x00\x01"],
)
def test_a_forged_cookie_gets_the_standard_form(client, page, ann, value):
    client.cookies[COOKIE] = value
    response = client.get(page.url)
    assert response.status_code == 200
    assert asked(response)[0] == "email"


def test_a_cookie_signed_by_another_site_is_ignored(client, page, remember):
    lead = make_lead(EMAIL, page=page, decisions={remember: True}).lead
    with override_settings(SECRET_KEY="another-site-" + "k" * 40):
        client.cookies[COOKIE] = signing.dumps(
            {"l": lead.pk, "n": lead.preferences_nonce, "p": remember.pk},
            salt=REMEMBER_SALT,
        )
    assert asked(client.get(page.url))[0] == "email"


def test_not_you_shows_the_standard_form_and_drops_the_cookie(client, page, remember):
    submit(client, page, tick=[remember], email=EMAIL, first_name="Ann")
    response = client.get(f"{page.url}?known=no")
    assert asked(response)[0] == "email"
    assert response.cookies[COOKIE]["max-age"] == 0


# -- The confirmation email leads to the shorter form (the demo's journey) -------------
def test_the_confirmation_email_links_to_a_shorter_form(
    client, django_capture_on_commit_callbacks
):
    newsletter = make_purpose(name="Newsletter", requires_confirmation=True)
    page = make_landing_page(
        purposes=[newsletter],
        form_fields=[field("first_name", True), field("company")],
        profiling_fields=[field("job_title")],
    )
    data = form_data(client, page, email=EMAIL, first_name="Ann", company="Acme")
    data.update(ticked(newsletter))
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(page.url, data).status_code == 303
    (message,) = mail.outbox
    url = re.search(r"https?://\S+\?known=\S+", message.body).group(0)
    assert url in message.alternatives[0][0]
    stranger = asked(client.get(page.url))
    known = asked(client.get(re.sub(r"^https?://[^/]+", "", url)))
    assert stranger == ["email", "first_name", "company"]
    assert known == ["job_title"]


def test_the_renewal_email_links_to_the_shorter_form_too(client, page, ann, remember):
    message = renewal_message(ann, [remember], "t" * 43, timezone.now())
    url = re.search(r"https?://\S+\?known=\S+", message.body).group(0)
    assert asked(client.get(re.sub(r"^https?://[^/]+", "", url))) == ["job_title"]


def test_no_profiling_link_for_a_page_without_a_queue(
    client, django_capture_on_commit_callbacks
):
    newsletter = make_purpose(name="Newsletter", requires_confirmation=True)
    page = make_landing_page(purposes=[newsletter])
    data = form_data(client, page, email=EMAIL)
    data.update(ticked(newsletter))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(page.url, data)
    (message,) = mail.outbox
    assert "known=" not in message.body


# -- The JSON API ---------------------------------------------------------------------
def test_the_form_schema_takes_the_profiling_token_in_a_header(client, page, ann):
    url = f"/api/leadgen/v1/forms/{page.pk}"
    token = make_profile_link_token(ann.pk, ann.preferences_nonce)
    known = client.get(url, headers={PROFILE_HEADER: token})
    stranger = client.get(url, headers={PROFILE_HEADER: "forged"})
    assert [f["name"] for f in known.json()["fields"]] == ["job_title"]
    assert [f["name"] for f in stranger.json()["fields"]] == [
        "email",
        "first_name",
        "company",
    ]
    assert known["Cache-Control"] == "no-store"


def test_an_api_submission_with_the_header_is_bound_to_the_known_person(
    client, page, ann
):
    token = make_profile_link_token(ann.pk, ann.preferences_nonce)
    headers = {PROFILE_HEADER: token}
    schema = client.get(f"/api/leadgen/v1/forms/{page.pk}", headers=headers).json()
    response = client.post(
        f"/api/leadgen/v1/forms/{page.pk}/submissions",
        {"answers": {"job_title": "CTO"}, "token": schema["anti_spam"]["token"]},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 201, response.content
    assert current_answers(ann)["job_title"] == "CTO"
    assert Lead.objects.count() == 1


def test_settings_are_validated():
    from django.core.exceptions import ImproperlyConfigured

    from wagtail_leadgen.conf import leadgen_settings

    for bad in ({"LINK_MAX_AGE": 0}, {"COOKIE_NAME": "a b"}, {"NOPE": 1}, []):
        with (
            override_settings(
                WAGTAIL_LEADGEN={**settings.WAGTAIL_LEADGEN, "PROFILING": bad}
            ),
            pytest.raises(ImproperlyConfigured),
        ):
            leadgen_settings.profiling  # noqa: B018
