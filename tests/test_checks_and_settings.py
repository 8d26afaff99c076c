"""Settings with documented defaults, and system checks refusing unsafe configurations."""

import pytest
from django.core import checks
from django.test import override_settings

from wagtail_leadgen.checks import (
    check_document_serving,
    check_gated_documents,
    check_settings_keys,
)
from wagtail_leadgen.conf import DEFAULTS, leadgen_settings

from .factories import make_document, make_ebook_page


def test_defaults_apply_and_override_settings_is_honoured():
    assert DEFAULTS["DOWNLOAD_LINK_MAX_AGE"] == leadgen_settings.DOWNLOAD_LINK_MAX_AGE
    with override_settings(WAGTAIL_LEADGEN={"DOWNLOAD_LINK_MAX_AGE": 60}):
        assert leadgen_settings.DOWNLOAD_LINK_MAX_AGE == 60
    assert DEFAULTS["DOWNLOAD_LINK_MAX_AGE"] == leadgen_settings.DOWNLOAD_LINK_MAX_AGE


def test_reading_an_unknown_setting_is_an_error():
    with pytest.raises(AttributeError):
        leadgen_settings.DOWNLOAD_LINK_MAX_AEG  # noqa: B018


@override_settings(WAGTAIL_LEADGEN={"DOWNLOAD_LINK_MAX_AEG": 60})
def test_a_misspelled_key_is_reported_by_a_system_check():
    errors = check_settings_keys(None)
    assert [error.id for error in errors] == ["wagtail_leadgen.E001"]
    assert "DOWNLOAD_LINK_MAX_AEG" in errors[0].msg
    assert errors[0].hint.startswith("Did you mean 'DOWNLOAD_LINK_MAX_AGE'?")


@override_settings(WAGTAIL_LEADGEN={"site_url": "https://example.com", "COLOUR": 1})
def test_a_misspelled_key_suggests_the_closest_valid_one_and_only_then():
    colour, site_url = check_settings_keys(None)  # sorted by key
    assert site_url.hint.startswith("Did you mean 'SITE_URL'?")
    assert colour.hint.startswith("Valid keys: ")


@override_settings(WAGTAILDOCS_SERVE_METHOD="direct")
def test_direct_document_serving_is_refused():
    assert [e.id for e in check_document_serving(None)] == ["wagtail_leadgen.E002"]


def test_the_project_passes_every_check():
    assert [e for e in checks.run_checks() if e.level >= checks.WARNING] == []


@pytest.mark.django_db
def test_a_gated_document_in_a_public_collection_is_reported():
    page = make_ebook_page()
    assert check_gated_documents(None, databases=["default"]) == []
    public = make_document(restricted=False)
    type(page).objects.filter(pk=page.pk).update(document=public)
    errors = check_gated_documents(None, databases=["default"])
    assert [e.id for e in errors] == ["wagtail_leadgen.E004"]


@override_settings(WAGTAILDOCS_SERVE_METHOD="redirect")
def test_redirect_document_serving_is_warned_about():
    assert [e.id for e in check_document_serving(None)] == ["wagtail_leadgen.W002"]


@pytest.mark.parametrize(
    "leadgen",
    [
        {"MATURITY": {"HOT_SCORE": "high"}},
        {"MATURITY_CLASSIFIER": "no.such.classifier"},
        {"CONTENT_TARGETS": {"landng": {"min_words": 10}}},
    ],
)
def test_editorial_settings_are_checked_at_start_up(leadgen):
    from wagtail_leadgen.checks import check_editorial_settings

    with override_settings(WAGTAIL_LEADGEN=leadgen):
        assert [e.id for e in check_editorial_settings(None)] == [
            "wagtail_leadgen.E007"
        ]
