"""The optional proof of work: off by default, solved work passes once, the
no-JavaScript path still submits under a stricter time trap."""

from __future__ import annotations

import base64
import html
import json
import re
import time

import altcha
import pytest
import time_machine
from django.test import override_settings

from wagtail_leadgen.checks import check_editorial_settings, check_proof_of_work
from wagtail_leadgen.models import Lead, Submission
from wagtail_leadgen.services import proof_of_work

from .factories import make_landing_page
from .helpers import form_data

pytestmark = pytest.mark.django_db

ON = {"FORM_MIN_FILL_SECONDS": 0, "PROOF_OF_WORK": {"MAX_NUMBER": 2000}}
CHALLENGE_RE = r'data-leadgen-pow="([^"]+)"'


def rendered_challenge(client, page) -> dict:
    """The challenge as the browser gets it: in the HTML of a private page,
    with the visitor's token for a page a shared cache holds (form.js)."""
    markup = client.get(page.url).content.decode()
    token_url = re.search(r'data-leadgen-token-url="([^"]+)"', markup)
    if token_url:
        token = re.search(r'name="leadgen_token" value="([^"]+)"', markup).group(1)
        fetched = client.get(html.unescape(token_url.group(1)), {"t": token})
        return fetched.json()["pow"]
    return json.loads(html.unescape(re.search(CHALLENGE_RE, markup).group(1)))


def solution(challenge: dict, **changes) -> str:
    found = altcha.solve_challenge_v1(
        challenge["challenge"],
        challenge["salt"],
        challenge["algorithm"],
        challenge["maxNumber"],
    )
    payload = {
        "algorithm": challenge["algorithm"],
        "challenge": challenge["challenge"],
        "number": found.number,
        "salt": challenge["salt"],
        "signature": challenge["signature"],
        **changes,
    }
    return base64.b64encode(json.dumps(payload).encode()).decode()


def loaded_scripts(markup: str) -> list[str]:
    """The scripts the plugin's layout loads after the first paint."""
    return re.search(r'<script data-src="([^"]*)"', markup).group(1).split()


def test_it_is_off_by_default(client):
    page = make_landing_page()
    html = client.get(page.url).content.decode()
    assert "data-leadgen-pow" not in html
    assert "pow.js" not in html


@pytest.mark.parametrize(
    ("shared_cache", "in_html"), [(300, False), (0, True)], ids=["shared", "private"]
)
def test_the_form_carries_a_signed_challenge_and_the_deferred_solver(
    client, shared_cache, in_html
):
    """A private page carries its challenge; a page a shared cache holds gets
    one per visitor with the visitor's token (one challenge, one post)."""
    page = make_landing_page()
    with override_settings(
        WAGTAIL_LEADGEN={**ON, "SHARED_CACHE_MAX_AGE": shared_cache}
    ):
        html = client.get(page.url).content.decode()
        assert ("data-leadgen-pow=" in html) is in_html
        assert "/static/wagtail_leadgen/pow.js" in loaded_scripts(html)
        challenge = rendered_challenge(client, page)
    assert challenge["algorithm"] == "SHA-256"
    assert challenge["maxNumber"] == 2000


@override_settings(WAGTAIL_LEADGEN=ON)
def test_solved_work_passes_once_and_a_replay_is_quarantined(client):
    page = make_landing_page()
    proof = solution(rendered_challenge(client, page))
    data = form_data(client, page, email="ann@example.com", leadgen_pow=proof)
    assert client.post(page.url, data).status_code == 303
    assert Lead.objects.count() == 1
    again = form_data(client, page, email="bob@example.com", leadgen_pow=proof)
    assert client.post(page.url, again).status_code == 303  # looks like success
    assert Submission.objects.get(is_spam=True).spam_reason == "bad_proof_of_work"
    assert Lead.objects.count() == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"number": 10**9},
        {"signature": "0" * 64},
        {"algorithm": "SHA-1"},
        {"salt": "forged&"},
        {"number": "1"},
    ],
)
@override_settings(WAGTAIL_LEADGEN=ON)
def test_forged_work_is_quarantined(client, changes):
    page = make_landing_page()
    proof = solution(rendered_challenge(client, page), **changes)
    data = form_data(client, page, email="ann@example.com", leadgen_pow=proof)
    assert client.post(page.url, data).status_code == 303
    assert Submission.objects.get().spam_reason == "bad_proof_of_work"


@pytest.mark.parametrize("payload", ["\x00", "not base64!", "e30=", "W10=", "x" * 5000])
@override_settings(WAGTAIL_LEADGEN=ON)
def test_garbage_instead_of_work_is_quarantined(client, payload):
    page = make_landing_page()
    data = form_data(client, page, email="ann@example.com", leadgen_pow=payload)
    assert client.post(page.url, data).status_code == 303
    assert Submission.objects.get().spam_reason == "bad_proof_of_work"


@override_settings(WAGTAIL_LEADGEN=ON)
def test_expired_work_is_quarantined(client):
    page = make_landing_page()
    with time_machine.travel(time.time() - 2 * 86400, tick=False):
        proof = solution(rendered_challenge(client, page))
    data = form_data(client, page, email="ann@example.com", leadgen_pow=proof)
    client.post(page.url, data)
    assert Submission.objects.get().spam_reason == "bad_proof_of_work"


@override_settings(WAGTAIL_LEADGEN=ON)
def test_without_javascript_a_fast_post_is_quarantined_and_a_human_one_passes(client):
    page = make_landing_page()
    fast = form_data(client, page, email="bot@example.com")
    client.post(page.url, fast)
    assert Submission.objects.get().spam_reason == "too_fast_without_proof"
    slow = form_data(client, page, email="ann@example.com")
    with time_machine.travel(time.time() + 9):
        assert client.post(page.url, slow).status_code == 303
    assert Lead.objects.get().email == "ann@example.com"


@pytest.mark.parametrize(
    "value", [{"MAX_NUMBERS": 5}, {"MAX_NUMBER": 0}, {"MAX_NUMBER": True}, "on"]
)
def test_a_bad_setting_is_reported_at_start_up(value):
    with override_settings(WAGTAIL_LEADGEN={"PROOF_OF_WORK": value}):
        assert [e.id for e in check_editorial_settings(None)] == [
            "wagtail_leadgen.E007"
        ]


@override_settings(WAGTAIL_LEADGEN=ON)
def test_the_missing_optional_package_is_named(monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    (error,) = check_proof_of_work(None)
    assert error.id == "wagtail_leadgen.E008"
    assert "proof-of-work" in error.hint


def test_the_check_function_refuses_an_empty_field():
    assert proof_of_work.check("") == proof_of_work.Verdict.MISSING
