"""Misconfigured destinations are reported by `manage.py check`, naming the setting."""

import pytest
from django.test import override_settings

from wagtail_leadgen.checks import (
    check_crm_backends,
    check_crm_receives,
    check_task_backend,
)
from wagtail_leadgen.crm import get_backend
from wagtail_leadgen.crm.base import CRMConfigurationError, CRMError
from wagtail_leadgen.crm.destination import Receives, Recipient

from .factories import make_purpose

LOCMEM = "wagtail_leadgen.crm.locmem.LocmemBackend"


def errors_for(backends):
    with override_settings(WAGTAIL_LEADGEN={"CRM_BACKENDS": backends}):
        return [(error.id, error.msg) for error in check_crm_backends(None)]


def test_the_default_keeps_leads_in_the_database_and_is_valid():
    with override_settings(WAGTAIL_LEADGEN={}):
        assert check_crm_backends(None) == []
        assert type(get_backend("database")).__name__ == "DatabaseBackend"


@pytest.mark.parametrize(
    "backends,expected",
    [
        (
            {"sales": {"BACKEND": "no.such.Backend"}},
            'CRM_BACKENDS"]["sales"]["BACKEND"]',
        ),
        ({"sales": {"BACKEND": "django.db.models.Model"}}, "not a BaseCRMBackend"),
        (
            {"sales": {"BACKEND": LOCMEM, "OPTION": {}}},
            'CRM_BACKENDS"]["sales"]["OPTION"]',
        ),
        (
            {"sales": {"BACKEND": LOCMEM, "OPTIONS": {"FAIL_WTIH": None}}},
            'CRM_BACKENDS"]["sales"]["OPTIONS"]["FAIL_WTIH"]',
        ),
        ({"sales": {}}, 'CRM_BACKENDS"]["sales"]["BACKEND"] is required'),
        ({}, "non-empty dict"),
        (
            {"sales": {"BACKEND": LOCMEM, "RECEIVES": "Partner offers"}},
            'CRM_BACKENDS"]["sales"]["RECEIVES"] must be "request" or a non-empty list',
        ),
        (
            {"sales": {"BACKEND": LOCMEM, "RECEIVES": []}},
            'CRM_BACKENDS"]["sales"]["RECEIVES"]',
        ),
        (
            {"sales": {"BACKEND": LOCMEM, "RECEIVES": [True]}},
            'CRM_BACKENDS"]["sales"]["RECEIVES"]',
        ),
        (
            {"sales": {"BACKEND": LOCMEM, "RECIPIENT": {"NAME": "Acme"}}},
            'CRM_BACKENDS"]["sales"]["RECIPIENT"]["COUNTRY"] is required',
        ),
        (
            {"sales": {"BACKEND": LOCMEM, "RECIPIENT": {"NAME": "A", "CITY": "X"}}},
            'Unknown key WAGTAIL_LEADGEN["CRM_BACKENDS"]["sales"]["RECIPIENT"]["CITY"]',
        ),
    ],
)
def test_a_misconfiguration_names_the_exact_setting(backends, expected):
    errors = errors_for(backends)
    assert errors and errors[0][0] == "wagtail_leadgen.E005"
    assert expected in errors[0][1]


def test_configuration_errors_are_not_runtime_errors():
    """A retry loop catching CRMError can never swallow a misconfiguration."""
    assert not issubclass(CRMConfigurationError, CRMError)


IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
SALES_INBOX = {
    "BACKEND": "wagtail_leadgen.crm.email.EmailBackend",
    "OPTIONS": {"TO": ["sales@example.com"]},
}


@override_settings(
    WAGTAIL_LEADGEN={"CRM_BACKENDS": {"sales": SALES_INBOX}}, TASKS=IMMEDIATE
)
def test_a_remote_crm_on_the_immediate_task_backend_is_warned_about():
    assert [w.id for w in check_task_backend(None)] == ["wagtail_leadgen.W003"]


@override_settings(
    WAGTAIL_LEADGEN={"CRM_BACKENDS": {"memory": {"BACKEND": LOCMEM}}}, TASKS=IMMEDIATE
)
def test_backends_that_stay_in_the_process_run_inline_without_a_warning():
    assert check_task_backend(None) == []


@override_settings(WAGTAIL_LEADGEN={"TASK_BACKEND": "missing"})
def test_an_unknown_task_backend_alias_is_an_error():
    assert [e.id for e in check_task_backend(None)] == ["wagtail_leadgen.E006"]


# -- What a destination receives, and who it is -------------------------------------------
def test_receives_and_recipient_are_read_from_the_destination():
    partner = {
        "BACKEND": LOCMEM,
        "RECEIVES": ["Partner offers", 7],
        "RECIPIENT": {
            "NAME": " Acme Partners ",
            "COUNTRY": "USA",
            "SAFEGUARD": "EU-US Data Privacy Framework",
        },
    }
    with override_settings(WAGTAIL_LEADGEN={"CRM_BACKENDS": {"partner": partner}}):
        backend = get_backend("partner")
    assert backend.receives == Receives(("Partner offers", 7))
    assert backend.recipient == Recipient(
        "Acme Partners", "USA", "EU-US Data Privacy Framework"
    )
    assert Receives().request and get_backend("locmem").receives.request


def test_a_request_destination_hears_of_every_purpose_a_partner_of_its_own():
    assert Receives().concerns(3, "Newsletter")
    partner = Receives(("Partner offers", 9))
    assert partner.concerns(4, "Partner offers") and partner.concerns(9, "Renamed")
    assert not partner.concerns(3, "Newsletter")


@pytest.mark.django_db
def test_receives_must_name_existing_purposes_once():
    partner = make_purpose(name="Partner offers")
    make_purpose(name="Events")
    make_purpose(name="Events")
    backends = {
        "good": {"BACKEND": LOCMEM, "RECEIVES": ["Partner offers", partner.pk]},
        "typo": {"BACKEND": LOCMEM, "RECEIVES": ["Partner ofers"]},
        "twice": {"BACKEND": LOCMEM, "RECEIVES": ["Events"]},
        "gone": {"BACKEND": LOCMEM, "RECEIVES": [partner.pk + 1000]},
    }
    with override_settings(WAGTAIL_LEADGEN={"CRM_BACKENDS": backends}):
        assert check_crm_receives(None) == []  # a database check
        errors = check_crm_receives(None, databases=["default"])
    assert [e.id for e in errors] == ["wagtail_leadgen.E009"] * 3
    typo, twice, gone = (e.msg for e in errors)
    assert (
        '["typo"]["RECEIVES"]' in typo
        and "'Partner ofers', which does not exist" in typo
    )
    assert "matches 2 purposes" in twice
    assert f"{partner.pk + 1000}, which does not exist" in gone
