"""A lead page publishes only with a complete notice; drafts always save (R10).

Driven through Wagtail's own edit and create views, with the form data the
editor's page really holds (``querydict_from_html``).
"""

import pytest
from django.core import checks
from django.urls import reverse
from wagtail.test.utils.form_data import inline_formset, nested_form_data, streamfield

from tests.testapp.models import NewsletterPage
from wagtail_leadgen.models import LandingPage
from wagtail_leadgen.models.publishing import LeadPageForm

from .factories import (
    make_landing_page,
    make_request_processing,
    set_controller,
    site_root,
)

pytestmark = pytest.mark.django_db

SETTINGS_PAGE = "Settings › Lead generation: data controller"


@pytest.fixture
def editor(admin_client):
    return admin_client


def complete_controller():
    return set_controller(
        controller_name="Acme SAS", contact_email="privacy@acme.example"
    )


def page_data(page=None, **changes) -> dict:
    """A landing page's edit form, as the editor posts it."""
    data = {
        "title": page.title if page else "New offer",
        "slug": page.slug if page else "new-offer",
        "intro": "An offer.",
        "body": streamfield([]),
        "form_fields": streamfield([]),
        "profiling_fields": streamfield([]),
        "profiling_questions": 1,
        "request_processing": page.request_processing_id if page else "",
        "thank_you_page": page.thank_you_page_id or "" if page else "",
        "comments": inline_formset([]),
        **changes,
    }
    return nested_form_data(data)


def publish(client, page, **changes):
    url = reverse("wagtailadmin_pages:edit", args=[page.pk])
    return client.post(url, {**page_data(page, **changes), "action-publish": "1"})


def save_draft(client, page, **changes):
    url = reverse("wagtailadmin_pages:edit", args=[page.pk])
    return client.post(url, page_data(page, **changes))


def errors_of(response) -> dict:
    assert response.status_code == 200, "the edit view should show the form again"
    return response.context["form"].errors


def test_no_controller_identity_no_publishing_but_drafts_save(editor):
    page = make_landing_page(title="Audit")
    response = publish(editor, page, title="Audit, revised")
    errors = errors_of(response)
    assert SETTINGS_PAGE in " ".join(errors["__all__"])
    page.refresh_from_db()
    assert page.title == "Audit"  # nothing published
    assert save_draft(editor, page, title="Audit, revised").status_code == 302
    page.refresh_from_db()
    assert page.has_unpublished_changes
    assert page.get_latest_revision_as_object().title == "Audit, revised"


def test_a_contact_email_is_part_of_the_identity(editor):
    set_controller(controller_name="Acme SAS")  # no contact email
    errors = errors_of(publish(editor, make_landing_page()))
    assert SETTINGS_PAGE in " ".join(errors["__all__"])


def test_no_request_processing_no_publishing(editor):
    complete_controller()
    page = make_landing_page()
    errors = errors_of(publish(editor, page, request_processing=""))
    assert "Choose the request processing" in " ".join(errors["request_processing"])
    assert "__all__" not in errors
    assert save_draft(editor, page, request_processing="").status_code == 302


def test_an_unpublished_request_processing_cannot_be_published_with(editor):
    complete_controller()
    draft = make_request_processing(name="Sending the guide", publish=False)
    draft.live = False  # as the snippet editor's "Save draft" leaves it
    draft.save()
    errors = errors_of(
        publish(editor, make_landing_page(), request_processing=str(draft.pk))
    )
    assert "“Sending the guide” is not published" in " ".join(
        errors["request_processing"]
    )


def test_a_complete_page_publishes(editor):
    complete_controller()
    page = make_landing_page(title="Audit")
    response = publish(editor, page, title="Audit, revised")
    assert response.status_code == 302
    page.refresh_from_db()
    assert page.title == "Audit, revised" and not page.has_unpublished_changes


def test_the_rules_apply_when_creating_a_page_too(editor):
    url = reverse(
        "wagtailadmin_pages:add",
        args=["wagtail_leadgen", "landingpage", site_root().pk],
    )
    errors = errors_of(editor.post(url, {**page_data(), "action-publish": "1"}))
    assert SETTINGS_PAGE in " ".join(errors["__all__"])
    assert "request_processing" in errors
    assert editor.post(url, page_data()).status_code == 302  # saved as a draft
    assert not LandingPage.objects.get(slug="new-offer").live


def test_every_lead_page_type_uses_the_publishing_form():
    for model in (LandingPage, NewsletterPage):
        assert issubclass(model.get_edit_handler().get_form_class(), LeadPageForm)
    assert not [e for e in checks.run_checks() if e.id == "wagtail_leadgen.W012"]


def test_a_page_type_with_a_form_of_its_own_is_reported(monkeypatch):
    from wagtail.admin.forms import WagtailAdminPageForm

    class OwnForm(WagtailAdminPageForm):
        pass

    monkeypatch.setattr(NewsletterPage, "base_form_class", OwnForm)
    (warning,) = [e for e in checks.run_checks() if e.id == "wagtail_leadgen.W012"]
    assert warning.obj is NewsletterPage

    class Combined(LeadPageForm, OwnForm):
        pass

    monkeypatch.setattr(NewsletterPage, "base_form_class", Combined)
    assert not [e for e in checks.run_checks() if e.id == "wagtail_leadgen.W012"]


def test_a_live_page_published_outside_the_admin_is_reported():
    page = make_landing_page(title="Imported")  # published in code, no controller
    assert page.live
    warnings = [
        e
        for e in checks.run_checks(databases=["default"])
        if e.id == "wagtail_leadgen.W010"
    ]
    assert [w.obj.pk for w in warnings] == [page.pk]
    assert SETTINGS_PAGE in warnings[0].msg
    complete_controller()
    assert not [
        e
        for e in checks.run_checks(databases=["default"])
        if e.id == "wagtail_leadgen.W010"
    ]
