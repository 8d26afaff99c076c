"""Contract tests of the form endpoints: GET forms/{id}, POST forms/{id}/submissions."""

from __future__ import annotations

import datetime
import json
import re
import threading
import time

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone, translation
from wagtail.models import PageViewRestriction

from wagtail_leadgen.api import forms as api_forms
from wagtail_leadgen.deploy_checks import check_api_docs
from wagtail_leadgen.models import (
    ConsentRecord,
    IdempotencyKey,
    Lead,
    PageViewDay,
    Submission,
)
from wagtail_leadgen.services.idempotency import body_hash, reserve
from wagtail_leadgen.services.kpis import page_kpis
from wagtail_leadgen.services.purge import purge
from wagtail_leadgen.tokens import make_form_token, read_form_token

from .factories import make_ebook_page, make_landing_page, make_purpose, site_root

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PROBLEM = "application/problem+json"
BLANK = {"label": "", "required": False, "help_text": ""}


def leadgen(**options):
    return override_settings(WAGTAIL_LEADGEN={**settings.WAGTAIL_LEADGEN, **options})


def schema_url(page_id: int) -> str:
    return f"/api/leadgen/v1/forms/{page_id}"


def get_schema(client, page, **extra):
    response = client.get(schema_url(page.pk), HTTP_USER_AGENT=BROWSER, **extra)
    assert response.status_code == 200, response.content
    return response.json()


def submit(client, page, body, **headers):
    return client.post(
        f"{schema_url(page.pk)}/submissions",
        json.dumps(body),
        content_type="application/json",
        headers=headers,
    )


def body_for(client, page, answers=None, consents=None, **more):
    schema = get_schema(client, page)
    body = {
        "answers": answers if answers is not None else {"email": "ann@example.com"},
        "consents": consents or {},
        "token": schema["anti_spam"]["token"],
    }
    return {**body, **more}


def problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    return response.json()


@pytest.fixture
def purpose():
    return make_purpose(requires_confirmation=True)


@pytest.fixture
def page(purpose):
    return make_landing_page(
        purposes=[purpose],
        form_fields=[("first_name", {**BLANK, "required": True}), ("question", BLANK)],
    )


# -- The schema ------------------------------------------------------------------------
def test_the_schema_is_the_form_the_page_renders(client, page, purpose):
    response = client.get(schema_url(page.pk), HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    schema = response.json()
    form = page.get_form()
    assert [f["name"] for f in schema["fields"]] == ["email", "first_name", "question"]
    for field in schema["fields"]:
        built = form.fields[field["name"]]
        assert field["label"] == str(built.label)
        assert field["required"] == built.required
        assert field["max_length"] == built.max_length
    assert schema["fields"][2]["input_type"] == "textarea"
    request, box = schema["consents"]
    processing = page.get_request_processing()
    assert request["is_request"] and request["id"] == processing.pk
    assert request["version"] == processing.live_revision_id
    assert box == {
        "id": purpose.pk,
        "version": purpose.live_revision_id,
        "name": purpose.checkbox_label,
        "text": purpose.purpose_html,
        "is_request": False,
        "requires_confirmation": True,
    }
    assert schema["heading"] == "Get it now" and schema["submit_label"] == "Send"
    assert schema["submit_url"] == f"{schema_url(page.pk)}/submissions"
    assert schema["page"] == {"id": page.pk, "title": page.title, "url": page.url}


def test_the_schema_carries_the_notice_and_the_anti_spam_material(client, page):
    schema = get_schema(client, page)
    notice = schema["notice"]
    assert 'class="leadgen-notice"' in notice["html"]
    assert [item["kind"] for item in notice["processings"]] == ["request", "consent"]
    assert notice["rights"] and "controller" in notice
    anti_spam = schema["anti_spam"]
    token = read_form_token(anti_spam["token"], page_id=page.pk)
    assert set(token.purpose_versions) == {page.get_purposes()[0].pk}
    assert anti_spam["honeypot_field"] == "leadgen_hp"
    assert anti_spam["proof_of_work"] is None


def test_the_schema_offers_the_proof_of_work_challenge_when_it_is_on(client, page):
    with leadgen(PROOF_OF_WORK={"MAX_NUMBER": 2000}):
        challenge = get_schema(client, page)["anti_spam"]["proof_of_work"]
    assert {"algorithm", "challenge", "salt", "signature"} <= set(challenge)


def test_the_schema_counts_a_view_as_the_page_does(client, page):
    get_schema(client, page)
    client.get(schema_url(page.pk), HTTP_USER_AGENT="Googlebot/2.1")
    assert PageViewDay.objects.get(page=page).views == 1


@pytest.mark.parametrize("how", ["query", "header"])
def test_the_schema_speaks_the_visitors_language(client, page, how):
    extra = (
        {"data": {"lang": "fr"}} if how == "query" else {"HTTP_ACCEPT_LANGUAGE": "fr"}
    )
    schema = get_schema(client, page, **extra)
    with translation.override("fr"):
        expected = translation.gettext("Get it now")
    assert schema["language"] == "fr"
    assert schema["heading"] == expected != "Get it now"


def test_an_unknown_language_falls_back_to_the_negotiated_one(client, page):
    assert get_schema(client, page, data={"lang": "xx"})["language"] == "en"


def test_unknown_draft_private_and_non_form_pages_are_not_found(client, page):
    draft = make_landing_page()
    draft.unpublish()
    private = make_landing_page()
    PageViewRestriction.objects.create(
        page=private, restriction_type=PageViewRestriction.LOGIN
    )
    for page_id in (999_999, draft.pk, private.pk, site_root().pk):
        body = problem(client.get(schema_url(page_id)), 404)
        assert body["type"].endswith("#not-found")
        valid = json.dumps({"answers": {"email": "a@example.com"}, "token": "x"})
        url = f"{schema_url(page_id)}/submissions"
        problem(client.post(url, valid, content_type="application/json"), 404)
    assert not Submission.objects.exists()


# -- Submissions -----------------------------------------------------------------------
def test_a_submission_is_captured_like_the_html_form_on_the_api_channel(
    client, page, purpose
):
    body = body_for(
        client,
        page,
        {"email": "Ann@Example.com", "first_name": "Ann", "question": "Hi\nthere"},
        {str(purpose.pk): True},
    )
    response = submit(client, page, body)
    assert response.status_code == 201, response.content
    answer = response.json()
    assert re.fullmatch(r"[0-9a-f]{32}", answer["submission_id"])
    assert answer["thank_you_page"]["id"] == page.thank_you_page_id
    assert answer["download_url"] is None
    assert answer["confirmation_requested"] is True
    assert "ann" not in response.content.decode().lower()  # no personal data echoed
    submission = Submission.objects.get()
    assert (submission.channel, submission.is_spam) == ("api", False)
    assert submission.lead.email == "ann@example.com"
    assert submission.answers == {"first_name": "Ann", "question": "Hi\nthere"}
    (record,) = ConsentRecord.objects.all()
    assert (record.channel, record.purpose_id) == ("api", purpose.pk)
    today = timezone.localdate()
    assert page_kpis(today, today, page_ids=[page.pk])[0].submissions == 1


def test_a_gated_offer_answers_with_its_download_link(client):
    ebook = make_ebook_page()
    response = submit(client, ebook, body_for(client, ebook))
    assert response.status_code == 201
    url = response.json()["download_url"]
    assert url.startswith("/leadgen/download/")
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("trap", ["honeypot", "bad_token"])
def test_spam_gets_the_answer_of_a_success_and_is_quarantined(client, page, trap):
    body = body_for(client, page, {"email": "bot@example.com", "first_name": "B"})
    if trap == "honeypot":
        body["honeypot"] = "http://spam.example"
    else:
        body["token"] = "forged"
    response = submit(client, page, body)
    assert response.status_code == 201
    answer = response.json()
    assert re.fullmatch(r"[0-9a-f]{32}", answer["submission_id"])
    assert answer["thank_you_page"]["id"] == page.thank_you_page_id
    assert Submission.objects.get().is_spam and not Lead.objects.exists()


def test_invalid_answers_get_the_forms_field_errors(client, page):
    response = submit(client, page, body_for(client, page, {"email": "ann@"}))
    body = problem(response, 422)
    assert body["type"].endswith("#invalid-answers")
    fields = {(e["field"], e["code"]) for e in body["errors"]}
    assert ("answers.email", "invalid") in fields
    assert ("answers.first_name", "required") in fields
    assert not Submission.objects.exists()


def test_a_nul_character_gets_the_html_forms_verdict(client, page):
    body = problem(
        submit(
            client,
            page,
            body_for(client, page, {"email": "a@example.com", "first_name": "A\x00"}),
        ),
        422,
    )
    assert {e["field"] for e in body["errors"]} == {"answers.first_name"}


@pytest.mark.parametrize(
    "change, field",
    [
        ({"spam": True}, "spam"),
        ({"channel": "web"}, "channel"),
        (
            {"answers": {"email": "a@example.com", "first_name": "A", "is_spam": "1"}},
            "answers.is_spam",
        ),
        ({"consents": {"999999": True}}, "consents.999999"),
        ({"answers": {"email": 42}}, "answers.email"),
        ({"consents": {"1": "yes"}}, "consents.1"),
        ({"token": None}, "token"),
    ],
)
def test_a_body_the_schema_does_not_allow_is_refused_field_by_field(
    client, page, change, field
):
    body = {
        **body_for(client, page, {"email": "a@example.com", "first_name": "A"}),
        **change,
    }
    errors = problem(submit(client, page, body), 422)["errors"]
    assert field in [e["field"] for e in errors]
    assert not Submission.objects.exists()


def test_an_expired_form_asks_the_client_to_fetch_it_again(client, page):
    with time_machine.travel(time.time() - 3 * 86400, tick=False):
        old = make_form_token(page.pk, {})
    body = body_for(client, page, {"email": "a@example.com", "first_name": "A"})
    body["token"] = old
    assert problem(submit(client, page, body), 409)["type"].endswith("#form-expired")


def test_a_form_whose_purpose_was_removed_asks_to_be_fetched_again(
    client, page, purpose
):
    body = body_for(
        client,
        page,
        {"email": "a@example.com", "first_name": "A"},
        {str(purpose.pk): True},
    )
    purpose.delete()
    body["consents"] = {}
    assert problem(submit(client, page, body), 409)["type"].endswith("#form-changed")
    assert not Lead.objects.exists()


def test_too_many_submissions_get_429_with_retry_after(client, page):
    body = body_for(client, page, {"email": "a@example.com", "first_name": "A"})
    with leadgen(RATE_LIMIT_SUBMISSIONS=1, RATE_LIMIT_WINDOW=600):
        assert submit(client, page, body).status_code == 201
        response = submit(client, page, body)
    problem(response, 429)
    assert response["Retry-After"] == "600"


# -- Bodies the parser refuses -------------------------------------------------------------
def test_a_body_that_is_not_json_gets_415(client, page):
    response = client.post(f"{schema_url(page.pk)}/submissions", {"email": "a@b.fr"})
    problem(response, 415)


def test_duplicate_keys_and_malformed_json_get_400(client, page):
    url = f"{schema_url(page.pk)}/submissions"
    duplicated = '{"token": "a", "token": "b", "answers": {}}'
    assert problem(client.post(url, duplicated, content_type="application/json"), 400)[
        "type"
    ].endswith("#duplicate-key")
    problem(client.post(url, "{nope", content_type="application/json"), 400)


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_an_oversized_body_gets_413_as_problem_json(client, page):
    url = f"{schema_url(page.pk)}/submissions"
    big = json.dumps({"answers": {"email": "a" * 2000}, "token": "x"})
    problem(client.post(url, big, content_type="application/json"), 413)
    # A Content-Length that claims more than the limit, whatever follows.
    small = json.dumps({"answers": {}, "token": "x"})
    response = client.generic(
        "POST", url, small, content_type="application/json", CONTENT_LENGTH="5000"
    )
    problem(response, 413)
    assert not Submission.objects.exists()


def test_a_content_length_shorter_than_the_body_reads_only_what_it_announced(
    client, page
):
    url = f"{schema_url(page.pk)}/submissions"
    body = json.dumps({"answers": {}, "token": "x"})
    response = client.generic(
        "POST", url, body, content_type="application/json", CONTENT_LENGTH="5"
    )
    problem(response, 400)


# -- Idempotency-Key ---------------------------------------------------------------------
def test_the_same_key_and_body_get_the_same_answer_and_one_lead(client, page):
    body = body_for(client, page, {"email": "a@example.com", "first_name": "A"})
    first = submit(client, page, body, **{"Idempotency-Key": "k-1"})
    again = submit(client, page, body, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Submission.objects.count() == 1
    other = {**body, "answers": {"email": "b@example.com", "first_name": "B"}}
    reused = submit(client, page, other, **{"Idempotency-Key": "k-1"})
    assert problem(reused, 409)["type"].endswith("#idempotency-key-reused")
    assert Submission.objects.count() == 1
    stored = IdempotencyKey.objects.get()
    assert "a@example.com" not in json.dumps(stored.response_body)


def test_a_refused_submission_releases_its_key(client, page):
    invalid = body_for(client, page, {"email": "a@"})
    problem(submit(client, page, invalid, **{"Idempotency-Key": "k-2"}), 422)
    assert not IdempotencyKey.objects.exists()
    fixed = body_for(client, page, {"email": "a@example.com", "first_name": "A"})
    assert submit(client, page, fixed, **{"Idempotency-Key": "k-2"}).status_code == 201


def test_a_key_whose_first_request_still_runs_gets_409(client, page):
    body = body_for(client, page, {"email": "a@example.com", "first_name": "A"})
    defaults = {"honeypot": "", "proof_of_work": "", "referrer": ""}
    reserve("k-3", page, body_hash({**body, **defaults}))  # a request still running
    response = submit(client, page, body, **{"Idempotency-Key": "k-3"})
    assert problem(response, 409)["type"].endswith("#idempotency-key-in-progress")
    assert response["Retry-After"] == "1"
    assert not Submission.objects.exists()


@pytest.mark.parametrize("key", ["", "é", "x" * 256, "a b"])
def test_a_malformed_key_gets_400(client, page, key):
    body = body_for(client, page, {"email": "a@example.com", "first_name": "A"})
    problem(submit(client, page, body, **{"Idempotency-Key": key}), 400)
    assert not Submission.objects.exists()


# -- Docs switch and check -------------------------------------------------------------------
def test_the_docs_answer_only_while_they_are_on(client):
    assert client.get("/api/leadgen/v1/openapi.json").status_code == 200
    assert client.get("/api/leadgen/v1/docs/").status_code == 200
    with leadgen(API={"DOCS": False}):
        for path in ("openapi.json", "docs/"):
            problem(client.get(f"/api/leadgen/v1/{path}"), 404)


def test_answered_keys_are_forgotten_after_their_period(client, page):
    body = body_for(client, page, {"email": "a@example.com", "first_name": "A"})
    submit(client, page, body, **{"Idempotency-Key": "k-4"})
    later = timezone.now() + datetime.timedelta(seconds=3600)
    with leadgen(API={"IDEMPOTENCY_KEY_MAX_AGE": 3600 * 2}):
        assert purge(now=later).idempotency_keys_deleted == 0
    with leadgen(API={"IDEMPOTENCY_KEY_MAX_AGE": 60}):
        assert purge(now=later).idempotency_keys_deleted == 1
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize(
    "debug, docs, warned",
    [(False, True, True), (False, False, False), (True, True, False)],
)
def test_docs_on_in_production_are_warned_about(debug, docs, warned):
    with override_settings(DEBUG=debug), leadgen(API={"DOCS": docs}):
        ids = [message.id for message in check_api_docs(None)]
    assert ids == (["wagtail_leadgen.W040"] if warned else [])


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_duplicate_is_refused_while_the_first_runs(
    wagtail_tree, monkeypatch
):
    """Two clients, one key, at once: the second is told to retry while the
    first is inside the intake, and only one lead is stored."""
    page = make_landing_page(form_fields=[("first_name", BLANK)])
    body = body_for(Client(), page, {"email": "a@example.com"})
    inside, go_on = threading.Event(), threading.Event()
    real = api_forms.process_submission

    def slow(*args, **kwargs):
        inside.set()
        assert go_on.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(api_forms, "process_submission", slow)
    answers = {}

    def first():
        answers["first"] = submit(Client(), page, body, **{"Idempotency-Key": "k-5"})
        connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert inside.wait(30)
    monkeypatch.setattr(api_forms, "process_submission", real)
    second = submit(Client(), page, body, **{"Idempotency-Key": "k-5"})
    go_on.set()
    thread.join(30)
    assert problem(second, 409)["type"].endswith("#idempotency-key-in-progress")
    assert answers["first"].status_code == 201
    third = submit(Client(), page, body, **{"Idempotency-Key": "k-5"})
    assert third.json() == answers["first"].json()
    assert Submission.objects.count() == 1
