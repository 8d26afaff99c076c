"""Property tests: any text, anywhere, is answered; cleaning is idempotent."""

from __future__ import annotations

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wagtail_leadgen.cleaning import (
    clean_metadata,
    has_unsafe_characters,
    normalise,
)
from wagtail_leadgen.forms import referrer_origin
from wagtail_leadgen.models import Lead, Submission
from wagtail_leadgen.validators import normalise_email

from .factories import make_landing_page, make_purpose
from .helpers import form_data

# Any text, lone surrogates included (they only reach us through JSON, but
# the cleaning functions must cope with them too).
ANY_TEXT = st.text(alphabet=st.characters(codec=None), max_size=300)
# What can travel in an HTML form post: UTF-8 encodable text.
POSTABLE_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)
FIELDS = ("email", "first_name", "company", "phone", "question", "leadgen_ref")


@given(ANY_TEXT, st.integers(min_value=1, max_value=600), st.booleans())
def test_cleaning_metadata_is_idempotent_and_safe(value, length, multiline):
    cleaned = clean_metadata(value, length, multiline=multiline)
    assert clean_metadata(cleaned, length, multiline=multiline) == cleaned
    assert not has_unsafe_characters(cleaned, multiline=multiline)
    assert len(cleaned) <= length
    cleaned.encode("utf-8")  # storable anywhere


@given(ANY_TEXT)
def test_normalising_is_idempotent(value):
    assert normalise(normalise(value)) == normalise(value)


@given(ANY_TEXT)
def test_referrer_origin_is_idempotent_and_never_raises(value):
    origin = referrer_origin(value)
    assert referrer_origin(origin) == origin
    assert origin == "" or origin.startswith(("http://", "https://"))


@given(st.emails())
def test_email_normalisation_is_idempotent(address):
    once = normalise_email(address)
    assert normalise_email(once) == once


@pytest.mark.django_db
@override_settings(
    WAGTAIL_LEADGEN={"FORM_MIN_FILL_SECONDS": 0, "RATE_LIMIT_SUBMISSIONS": 10_000}
)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(field=st.sampled_from(FIELDS), value=POSTABLE_TEXT)
def test_any_text_in_any_field_is_answered_never_a_server_error(client, field, value):
    page = make_landing_page(
        purposes=[make_purpose()],
        form_fields=[
            (kind, {"label": "", "required": False, "help_text": ""})
            for kind in ("first_name", "company", "phone", "question")
        ],
    )
    data = form_data(client, page, email="ann@example.com")
    data[field] = value
    response = client.post(page.url, data)
    assert response.status_code in (303, 400)
    if response.status_code == 303:
        submission = Submission.objects.filter(page=page).get()
        assert submission.lead is not None
        for answer in submission.answers.values():
            assert not has_unsafe_characters(answer, multiline=True)
    else:
        assert not Submission.objects.filter(page=page).exists()
    Lead.objects.all().delete()
