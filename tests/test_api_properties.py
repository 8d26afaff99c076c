"""The HTML form and the JSON API reach the same verdicts on the same input.

Hypothesis feeds both channels the same answers (control characters, NUL,
very long strings, any Unicode a form post can carry) and compares what
happens: captured or refused, on which fields, and what is stored.
"""

from __future__ import annotations

import json

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wagtail_leadgen.models import Lead, Submission

from .factories import make_landing_page, make_purpose
from .helpers import form_data, ticked

KINDS = ("first_name", "company", "phone", "question")
# Text a form post can carry (UTF-8), biased towards the characters that
# split verdicts: NUL and other controls, line breaks, invisible formats.
TRICKY = st.sampled_from(["\x00", "\x0b", "\x1c", "\r\n", "\t", "\u200b", "\u2028"])
TEXT = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
    st.lists(st.one_of(TRICKY, st.text(max_size=5)), max_size=8).map("".join),
    st.integers(min_value=150, max_value=2100).map(lambda n: "é" * n),
)
ADDRESSES = st.one_of(
    st.sampled_from(["ann@example.com", "Ann@EXAMPLE.com", "ann@", "a@localhost"]),
    TEXT,
)


def stored() -> tuple | None:
    """What the submission left in the database, channel apart."""
    submission = Submission.objects.filter(is_spam=False).first()
    if submission is None:
        return None
    return (submission.lead.email, submission.answers)


def html_verdict(client, page, answers, consent):
    data = form_data(client, page, **answers)
    data.update(ticked(*consent))
    response = client.post(page.url, data)
    assert response.status_code in (303, 400), response.status_code
    errors = set()
    if response.status_code == 400:
        errors = {
            name
            for name, _errors in response.context["form"].errors.items()
            if name != "__all__"
        }
    return response.status_code == 303, errors, stored()


def api_verdict(client, page, answers, consent):
    schema = client.get(f"/api/leadgen/v1/forms/{page.pk}").json()
    body = {
        "answers": answers,
        "consents": {str(purpose.pk): True for purpose in consent},
        "token": schema["anti_spam"]["token"],
    }
    response = client.post(
        f"/api/leadgen/v1/forms/{page.pk}/submissions",
        json.dumps(body),
        content_type="application/json",
    )
    assert response.status_code in (201, 422), response.content
    errors = set()
    if response.status_code == 422:
        errors = {
            error["field"].removeprefix("answers.").replace("consents.", "consent_")
            for error in response.json()["errors"]
            if error["field"]
        }
    return response.status_code == 201, errors, stored()


def forget_everything() -> None:
    Submission.objects.all().delete()
    Lead.objects.all().delete()


@pytest.mark.django_db
@override_settings(
    WAGTAIL_LEADGEN={"FORM_MIN_FILL_SECONDS": 0, "RATE_LIMIT_SUBMISSIONS": 10_000}
)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    email=ADDRESSES,
    values=st.fixed_dictionaries(dict.fromkeys(KINDS, TEXT)),
    tick=st.booleans(),
)
def test_the_html_form_and_the_api_reach_the_same_verdict(client, email, values, tick):
    purpose = make_purpose()
    page = make_landing_page(
        purposes=[purpose],
        form_fields=[
            (kind, {"label": "", "required": False, "help_text": ""}) for kind in KINDS
        ],
    )
    answers = {"email": email, **values}
    consent = [purpose] if tick else []
    html = html_verdict(client, page, answers, consent)
    forget_everything()
    api = api_verdict(client, page, answers, consent)
    forget_everything()
    assert api == html
