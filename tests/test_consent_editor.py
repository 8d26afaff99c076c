"""The editor's side of consent (R8, R10): request processings in the admin,
hints and system checks that catch a page without one or a required box."""

import pytest
from django import forms
from django.core import checks
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

from wagtail_leadgen.crm.locmem import LocmemBackend
from wagtail_leadgen.forms import LeadFormBuilder
from wagtail_leadgen.models import LandingPage, RequestProcessing
from wagtail_leadgen.services.hints import page_hints

from .factories import (
    make_landing_page,
    make_purpose,
    make_request_processing,
    set_controller,
)

pytestmark = pytest.mark.django_db


class RemoteBackend(LocmemBackend):
    """The in-memory double, declared as sending to another system."""

    sends_remotely = True


class RequiringBuilder(LeadFormBuilder):
    """A site's own builder that makes consent boxes required, as R8 forbids."""

    def create_consent_field(self, purpose) -> forms.BooleanField:
        field = super().create_consent_field(purpose)
        field.required = True
        return field


def with_requiring_builder(monkeypatch):
    monkeypatch.setattr(
        LandingPage,
        "get_form_builder",
        lambda page, purposes=None: RequiringBuilder(
            page.form_fields, page.get_purposes() if purposes is None else purposes
        ),
    )


def errors_with(check_id: str, **kwargs) -> list:
    return [e for e in checks.run_checks(**kwargs) if e.id == check_id]


# -- Request processings in the admin --------------------------------------------------


def test_request_processings_have_their_own_snippet_admin(admin_client):
    make_request_processing(name="Sending the guide")
    index = reverse("wagtailsnippets_wagtail_leadgen_requestprocessing:list")
    html = admin_client.get(index).content.decode()
    assert "Sending the guide" in html
    assert "Contract, or a request you made" in html  # the legal basis column
    home = admin_client.get(reverse("wagtailadmin_home")).content.decode()
    assert "Request processings" in home and "Consent purposes" in home


def test_a_legitimate_interest_must_be_named_in_the_admin(admin_client):
    add = reverse("wagtailsnippets_wagtail_leadgen_requestprocessing:add")
    response = admin_client.post(
        add,
        {
            "name": "Call back",
            "summary": "We use your number to call you back.",
            "purpose_text": '{"blocks": [{"key": "a", "type": "unstyled", '
            '"text": "We call you back.", "depth": 0, "inlineStyleRanges": [], '
            '"entityRanges": []}], "entityMap": {}}',
            "legal_basis": "legitimate_interest",
            "legitimate_interest": "",
            "recipients": "Our sales team",
            "retention_months": "12",
            "action-publish": "1",
        },
    )
    assert response.status_code == 200
    assert "legitimate_interest" in response.context["form"].errors
    assert not RequestProcessing.objects.exists()


def test_a_checkbox_purpose_rests_on_consent_only():
    purpose = make_purpose(publish=False)
    purpose.legal_basis = "contract"
    with pytest.raises(ValidationError) as excinfo:
        purpose.full_clean()
    assert "request processing" in str(excinfo.value.message_dict["legal_basis"])


def test_the_consent_purposes_list_shows_double_opt_in(admin_client):
    make_purpose(name="Newsletter", requires_confirmation=True)
    index = reverse("wagtailsnippets_wagtail_leadgen_consentpurpose:list")
    html = admin_client.get(index).content.decode()
    assert "Double opt-in" in html


def test_the_page_editor_says_the_request_needs_no_checkbox(admin_client):
    page = make_landing_page()
    html = admin_client.get(
        reverse("wagtailadmin_pages:edit", args=[page.pk])
    ).content.decode()
    assert "needs no checkbox: sending the form is the request" in html
    assert "never required. Not for what the visitor asks for." in html


# -- Hints ---------------------------------------------------------------------------


def test_a_page_without_a_request_processing_gets_a_hint():
    set_controller(controller_name="Example SAS", contact_email="dpo@example.com")
    page = make_landing_page()
    assert page_hints(page).get("request-processing") is None
    page.request_processing = None
    hint = page_hints(page).get("request-processing")
    assert hint.level == "poor"
    assert "cannot be published" in hint.message
    draft = make_request_processing(name="Sending the guide", publish=False)
    draft.live = False
    draft.save()
    page.request_processing = draft
    hint = page_hints(page).get("request-processing")
    assert (
        hint.message == "The request processing “Sending the guide” is not published."
    )


def test_a_required_consent_box_gets_a_hint(monkeypatch):
    newsletter = make_purpose(checkbox_label="Send me the newsletter")
    page = make_landing_page(purposes=[newsletter])
    assert page_hints(page).get("required-consent") is None
    with_requiring_builder(monkeypatch)
    hint = page_hints(page).get("required-consent")
    assert hint.level == "poor"
    assert "“Send me the newsletter” is required" in hint.message


# -- System checks ---------------------------------------------------------------------


def test_a_required_consent_box_is_a_database_check_error(monkeypatch):
    newsletter = make_purpose(name="Newsletter")
    page = make_landing_page(title="Guide", purposes=[newsletter])
    assert errors_with("wagtail_leadgen.E010", databases=["default"]) == []
    with_requiring_builder(monkeypatch)
    assert errors_with("wagtail_leadgen.E010") == []  # a database check only
    (error,) = errors_with("wagtail_leadgen.E010", databases=["default"])
    assert error.obj.pk == page.pk
    assert "'Newsletter'" in error.msg and "never required" in error.msg


def test_a_destination_sending_elsewhere_must_name_its_recipient():
    remote = {"BACKEND": "tests.test_consent_editor.RemoteBackend"}
    with override_settings(WAGTAIL_LEADGEN={"CRM_BACKENDS": {"crm": remote}}):
        (warning,) = errors_with("wagtail_leadgen.W011")
    assert 'CRM_BACKENDS"]["crm"] sends leads to another system' in warning.msg
    named = {**remote, "RECIPIENT": {"NAME": "CRM Inc.", "COUNTRY": "USA"}}
    local = {"BACKEND": "wagtail_leadgen.crm.database.DatabaseBackend"}
    with override_settings(
        WAGTAIL_LEADGEN={"CRM_BACKENDS": {"crm": named, "db": local}}
    ):
        assert errors_with("wagtail_leadgen.W011") == []
