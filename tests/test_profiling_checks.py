"""Progressive profiling's system checks and its editor hint."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings

from wagtail_leadgen.profiling_checks import (
    check_profiling_cookie,
    check_profiling_queues_can_be_shown,
)
from wagtail_leadgen.services.hints import page_hints, profiled_worst_count

from .factories import make_landing_page, make_purpose, set_controller


def field(kind: str):
    return (kind, {"label": "", "required": False, "help_text": ""})


def profiling(**options):
    return override_settings(
        WAGTAIL_LEADGEN={**settings.WAGTAIL_LEADGEN, "PROFILING": options}
    )


def ids(messages) -> list[str]:
    return [message.id for message in messages]


def test_the_defaults_pass():
    assert check_profiling_cookie(None) == []


@pytest.mark.parametrize("name", ["sessionid", "csrftoken"])
def test_a_cookie_name_django_uses_is_an_error(name):
    with profiling(COOKIE_NAME=name):
        assert ids(check_profiling_cookie(None)) == ["wagtail_leadgen.E040"]


def test_a_cookie_kept_over_13_months_is_warned_about():
    with profiling(REMEMBER_MAX_AGE=400 * 24 * 60 * 60):
        assert ids(check_profiling_cookie(None)) == ["wagtail_leadgen.W060"]
    with profiling(REMEMBER_MAX_AGE=395 * 24 * 60 * 60):
        assert check_profiling_cookie(None) == []


def test_an_invalid_section_is_left_to_the_settings_check():
    with profiling(COOKIE_NAME=""):
        assert check_profiling_cookie(None) == []


@pytest.mark.django_db
def test_a_queue_nobody_can_be_shown_is_warned_about():
    page = make_landing_page(
        purposes=[make_purpose()], profiling_fields=[field("job_title")]
    )
    (warning,) = check_profiling_queues_can_be_shown(None, databases=["default"])
    assert warning.id == "wagtail_leadgen.W061" and warning.obj == page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "purpose", [{"requires_confirmation": True}, {"remembers_device": True}]
)
def test_a_queue_is_reachable_through_a_confirmation_email_or_remember_me(purpose):
    make_landing_page(
        purposes=[make_purpose(**purpose)], profiling_fields=[field("job_title")]
    )
    make_landing_page()  # no queue: nothing to say
    assert check_profiling_queues_can_be_shown(None, databases=["default"]) == []


@pytest.mark.django_db
def test_the_hint_counts_the_most_a_returning_visitor_is_asked():
    set_controller(controller_name="Example SAS", contact_email="dpo@example.com")
    form = [field(kind) for kind in ("first_name", "last_name", "company")]
    queue = [field(kind) for kind in ("company", "job_title", "phone", "country")]
    short = make_landing_page(form_fields=form, profiling_fields=queue)
    # Three form fields, plus one queue question (company is the form's).
    assert profiled_worst_count(short) == 4
    assert page_hints(short).get("profiling-fields") is None
    long = make_landing_page(
        form_fields=form, profiling_fields=queue, profiling_questions=3
    )
    assert profiled_worst_count(long) == 6
    assert page_hints(long).get("profiling-fields").level == "warning"
    assert profiled_worst_count(make_landing_page()) is None
