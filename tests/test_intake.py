"""Posting the form: outcomes, status codes, anti-spam, never a 500 on bad input."""

import re
import time

import pytest
import time_machine
from django.core import signing
from django.test import override_settings

from wagtail_leadgen.models import Lead, Submission
from wagtail_leadgen.responses import SCRIPT_LOADER_SOURCE
from wagtail_leadgen.tokens import make_download_token, make_form_token

from .factories import make_ebook_page, make_landing_page, make_purpose
from .helpers import form_data, ticked

pytestmark = pytest.mark.django_db


def test_a_valid_submission_redirects_to_the_thank_you_page(post_form):
    page = make_landing_page()
    response = post_form(page, email="ann@example.com")
    assert response.status_code == 303
    assert response["Location"] == page.thank_you_page.url
    assert Lead.objects.filter(email="ann@example.com").exists()


def test_an_ebook_submission_carries_a_download_link_to_the_thank_you_page(
    post_form, client
):
    page = make_ebook_page()
    response = post_form(page, email="ann@example.com")
    assert response.status_code == 303
    assert "?download=" in response["Location"]
    thank_you = client.get(response["Location"])
    assert thank_you.status_code == 200
    assert b"/leadgen/download/" in thank_you.content
    assert thank_you["Referrer-Policy"] == "no-referrer"
    assert "no-store" in thank_you["Cache-Control"]


def test_without_a_thank_you_page_the_visitor_is_thanked_in_place(post_form):
    page = make_ebook_page(thank_you=False)
    response = post_form(page, email="ann@example.com")
    assert response.status_code == 200
    assert b"Thank you" in response.content
    assert b"/leadgen/download/" in response.content


def test_missing_email_shows_the_form_again_with_an_announced_error_summary(post_form):
    page = make_landing_page(
        form_fields=[("company", {"label": "", "required": False, "help_text": ""})]
    )
    response = post_form(page, email="", company="Acme")
    html = response.content.decode()
    assert response.status_code == 400
    assert 'role="alert"' in html and "autofocus" in html
    assert 'href="#id_email"' in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_email_error"' in html
    assert 'value="Acme"' in html  # nothing the visitor typed is lost
    assert not Lead.objects.exists()


def test_a_form_shown_again_keeps_ticked_boxes_and_gets_a_fresh_token(client):
    purpose = make_purpose()
    page = make_landing_page(purposes=[purpose])
    data = form_data(client, page, email="bad", **ticked(purpose))
    response = client.post(page.url, data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "checked" in html
    assert data["leadgen_token"] not in html


@pytest.mark.parametrize(
    "field,value",
    [
        ("email", "ann\x00@example.com"),
        ("email", "ann@example.com\r\nBcc: x@example.com"),
        ("email", "ann\x0b@example.com"),
        ("email", "a" * 300 + "@example.com"),
        ("email", "a@[127.0.0.1]"),
        ("company", "Acme\x00"),
        ("company", "Acme\x1c Corp"),
        ("company", "x" * 10_000),
    ],
)
def test_bad_input_is_a_400_with_a_field_error_never_a_500(post_form, field, value):
    page = make_landing_page(
        form_fields=[("company", {"label": "", "required": False, "help_text": ""})]
    )
    answers = {"email": "ann@example.com", field: value}
    response = post_form(page, **answers)
    assert response.status_code == 400
    assert f'href="#id_{field}"'.encode() in response.content
    assert not Lead.objects.exists()


def test_a_honeypot_hit_gets_the_same_answer_and_is_quarantined(post_form):
    page = make_landing_page()
    response = post_form(page, email="bot@example.com", leadgen_hp="http://spam")
    assert response.status_code == 303
    assert response["Location"] == page.thank_you_page.url
    assert not Lead.objects.exists()
    spam = Submission.objects.get()
    assert spam.is_spam and spam.spam_reason == "honeypot"
    assert spam.answers["email"] == "bot@example.com"


@override_settings(WAGTAIL_LEADGEN={"FORM_MIN_FILL_SECONDS": 3})
def test_a_form_posted_faster_than_a_human_could_is_quarantined(post_form):
    page = make_landing_page()
    response = post_form(page, email="fast@example.com")
    assert response.status_code == 303
    assert Submission.objects.get().spam_reason == "too_fast"
    assert not Lead.objects.exists()


@override_settings(WAGTAIL_LEADGEN={"FORM_MIN_FILL_SECONDS": 3})
def test_a_human_paced_submission_passes_the_time_trap(client, monkeypatch):
    page = make_landing_page()
    data = form_data(client, page, email="ann@example.com")
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 5)
    response = client.post(page.url, data)
    assert response.status_code == 303
    assert Lead.objects.count() == 1


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        # a valid token of another purpose (a download link) is refused here
        make_download_token("0" * 32),
        # a genuine token for another page
        "OTHER_PAGE",
        # an unsigned payload a bot made itself
        signing.b64_encode(b'{"p":1,"t":0,"v":{}}').decode(),
    ],
)
def test_a_missing_forged_or_foreign_form_token_is_quarantined(client, token):
    page = make_landing_page()
    if token == "OTHER_PAGE":
        token = make_form_token(page.pk + 1000, {})
    response = client.post(
        page.url, {"email": "ann@example.com", "leadgen_token": token}
    )
    assert response.status_code == 303
    assert Submission.objects.get().spam_reason == "bad_token"
    assert not Lead.objects.exists()


def test_an_expired_form_is_shown_again_with_the_answers_kept(client):
    page = make_landing_page()
    with time_machine.travel(time.time() - 3 * 86400, tick=False):
        old = make_form_token(page.pk, {})
    response = client.post(page.url, {"email": "ann@example.com", "leadgen_token": old})
    assert response.status_code == 400
    assert b"open for too long" in response.content
    assert b'value="ann@example.com"' in response.content
    assert not Submission.objects.exists()


@override_settings(
    WAGTAIL_LEADGEN={"RATE_LIMIT_SUBMISSIONS": 2, "FORM_MIN_FILL_SECONDS": 0}
)
def test_too_many_submissions_from_one_address_are_refused_with_429(post_form):
    page = make_landing_page()
    assert post_form(page, email="a@example.com").status_code == 303
    assert post_form(page, email="b@example.com").status_code == 303
    response = post_form(page, email="c@example.com")
    assert response.status_code == 429
    assert b'value="c@example.com"' in response.content
    assert Lead.objects.count() == 2


@override_settings(WAGTAIL_LEADGEN={"RATE_LIMIT_SUBMISSIONS": 1})
def test_forwarded_for_is_ignored_unless_a_proxy_is_trusted(client):
    page = make_landing_page()
    for n in range(2):
        data = form_data(client, page, email=f"{n}@example.com")
        response = client.post(page.url, data, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    assert response.status_code == 429


@override_settings(
    WAGTAIL_LEADGEN={"RATE_LIMIT_SUBMISSIONS": 1, "TRUSTED_PROXY_COUNT": 1}
)
def test_behind_a_trusted_proxy_each_client_has_its_own_limit(client):
    page = make_landing_page()
    for n in range(2):
        data = form_data(client, page, email=f"{n}@example.com")
        response = client.post(page.url, data, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
        assert response.status_code == 303


def test_security_events_are_logged_without_personal_data(post_form, caplog):
    page = make_landing_page()
    with caplog.at_level("INFO", logger="wagtail_leadgen"):
        post_form(page, email="secret.person@example.com", leadgen_hp="x")
    assert "honeypot" in caplog.text
    assert "secret.person" not in caplog.text


def test_a_bot_on_a_gated_page_gets_a_decoy_link_that_serves_nothing(post_form, client):
    page = make_ebook_page()
    response = post_form(page, email="bot@example.com", leadgen_hp="x")
    assert response.status_code == 303
    assert "?download=" in response["Location"]  # same shape as a real success
    thank_you = client.get(response["Location"])
    assert b"no longer valid" in thank_you.content
    token = response["Location"].split("download=", 1)[1]
    assert client.get(f"/leadgen/download/{token}/").status_code == 410


def test_a_failing_lead_captured_receiver_never_fails_the_visitor(
    post_form, django_capture_on_commit_callbacks, caplog
):
    from wagtail_leadgen.signals import lead_captured

    def broken_receiver(**kwargs):
        raise RuntimeError("CRM glue crashed")

    lead_captured.connect(broken_receiver)
    try:
        page = make_landing_page()
        with django_capture_on_commit_callbacks(execute=True):
            response = post_form(page, email="ann@example.com")
    finally:
        lead_captured.disconnect(broken_receiver)
    assert response.status_code == 303
    assert Lead.objects.count() == 1
    assert "receiver" in caplog.text


def test_lead_captured_is_sent_only_after_commit(
    post_form, django_capture_on_commit_callbacks
):
    from wagtail_leadgen.signals import lead_captured

    received = []

    def receiver(submission, **kwargs):
        received.append(submission.lead.email)

    lead_captured.connect(receiver)
    try:
        page = make_landing_page()
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            post_form(page, email="ann@example.com")
        assert received == []
        for callback in callbacks:
            callback()
    finally:
        lead_captured.disconnect(receiver)
    assert received == ["ann@example.com"]


def test_offer_pages_send_a_content_security_policy(client):
    page = make_landing_page()
    response = client.get(page.url)
    assert "default-src 'self'" in response["Content-Security-Policy"]
    # Only the plugin's script loader, allowed by its hash, which loads
    # the plugin's own form script (from 'self') after the first paint.
    assert re.findall(r"<script[^>]*>", response.content.decode()) == [
        '<script data-src="/static/wagtail_leadgen/form.js">'
    ]
    assert SCRIPT_LOADER_SOURCE in response["Content-Security-Policy"]


@override_settings(WAGTAIL_LEADGEN={"CONTENT_SECURITY_POLICY": None})
def test_the_content_security_policy_can_be_left_to_the_site(client):
    response = client.get(make_landing_page().url)
    assert "Content-Security-Policy" not in response


def test_thank_you_pages_are_private_and_not_indexed(client):
    page = make_landing_page()
    response = client.get(page.thank_you_page.url)
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Cache-Control"] == "private, no-store"
