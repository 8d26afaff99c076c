"""The live hints endpoint of the page editor, and the content hints report."""

import csv
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse
from wagtail.models import GroupPagePermission, Revision
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from wagtail_leadgen.models import LandingPage

from .factories import (
    make_ebook_page,
    make_landing_page,
    make_purpose,
    page_model,
    set_controller,
    site_root,
)
from .helpers import HAS_META_DESCRIPTION, meta_description

pytestmark = pytest.mark.django_db

FIELD = {"label": "", "required": False, "help_text": ""}


def editor(*pages, permission="change", username="editor"):
    """An admin user with ``permission`` on the given pages (and their subpages)."""
    user = get_user_model().objects.create_user(
        username, f"{username}@example.com", "pw"
    )
    group = Group.objects.create(name=f"Group of {username}")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    for page in pages:
        GroupPagePermission.objects.create(
            group=group, page=page, permission_type=permission
        )
    user.groups.add(group)
    return user


def hints_url(page):
    return reverse("wagtail_leadgen_hints:page", args=[page.pk])


def edit_data(page, **changes):
    """The edit form of a landing page as the browser posts it."""
    purposes = changes.pop(
        "consent_purposes", [p.pk for p in page.consent_purposes.all()]
    )
    fields = {
        "title": page.title,
        "slug": page.slug,
        "intro": page.intro,
        "body": streamfield([]),
        "form_heading": page.form_heading,
        "form_fields": streamfield([]),
        "profiling_fields": streamfield([]),
        "profiling_questions": 1,
        "submit_label": page.submit_label,
        "thank_you_page": page.thank_you_page_id or "",
        "crm_destinations": "",
        **meta_description(getattr(page, "search_description", "")),
    }
    fields.update(changes)
    data = nested_form_data(fields)
    data["consent_purposes"] = purposes  # a multiple choice, not a nested list
    return data


@pytest.fixture
def page():
    set_controller(controller_name="Example SAS", contact_email="dpo@example.com")
    return make_landing_page(
        intro="Book a free audit.", **meta_description("A free audit.")
    )


# -- Permissions -----------------------------------------------------------------------
def test_anonymous_visitors_are_sent_to_the_login_page(client, page):
    response = client.post(hints_url(page), edit_data(page))
    assert response.status_code == 302
    assert response.url.startswith(reverse("wagtailadmin_login"))


def test_an_editor_who_cannot_edit_the_page_is_refused(client, page):
    elsewhere = site_root().add_child(instance=page_model()(title="Blog", slug="blog"))
    client.force_login(editor(elsewhere))
    response = client.post(hints_url(page), edit_data(page))
    assert response.status_code == 403


def test_only_post_is_accepted(client, page):
    client.force_login(editor(page))
    assert client.get(hints_url(page)).status_code == 405


def test_the_endpoint_is_csrf_protected(page):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor(page))
    assert client.post(hints_url(page), edit_data(page)).status_code == 403
    client.get(reverse("wagtailadmin_pages:edit", args=[page.pk]))
    token = client.cookies["csrftoken"].value
    response = client.post(
        hints_url(page), edit_data(page), headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200


# -- Unsaved content ---------------------------------------------------------------------
def test_the_hints_reflect_the_unsaved_form(client, page):
    client.force_login(editor(page))
    revisions = Revision.objects.count()
    sentence = "Ce guide explique comment remplir un formulaire court. "
    body = streamfield([("paragraph", rich_text("<p>" + sentence * 30 + "</p>"))])
    kinds = ["first_name", "last_name", "company", "job_title", "phone"]
    response = client.post(
        hints_url(page),
        edit_data(
            page,
            intro="Un audit gratuit de votre site.",
            body=body,
            form_fields=streamfield([(kind, FIELD) for kind in kinds]),
            **meta_description(""),
        ),
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = json.loads(response.content)
    assert data["valid"] is True
    assert data["metrics"]["words"] == 6 + 8 * 30
    assert data["metrics"]["form_fields"] == 6
    levels = {hint["id"]: hint["level"] for hint in data["hints"]}
    assert levels["form-fields"] == "warning"
    # Only a base page with a meta description can miss one.
    assert levels.get("meta-description") == (
        "warning" if HAS_META_DESCRIPTION else None
    )
    assert all(hint["message"] for hint in data["hints"])
    # Nothing was saved.
    page.refresh_from_db()
    assert page.intro == "Book a free audit."
    assert Revision.objects.count() == revisions


def test_unsaved_consent_purposes_are_checked(client, page):
    client.force_login(editor(page))
    draft = make_purpose(name="Partners", publish=False, live=False)
    response = client.post(
        hints_url(page), edit_data(page, consent_purposes=[draft.pk])
    )
    levels = {hint["id"]: hint["level"] for hint in response.json()["hints"]}
    assert levels["purpose-unpublished"] == "warning"
    assert not page.consent_purposes.exists()


def test_an_invalid_form_still_gives_hints_from_its_valid_fields(client, page):
    client.force_login(editor(page))
    not_a_thank_you_page = make_landing_page(title="Other offer")
    response = client.post(
        hints_url(page),
        edit_data(page, intro="", thank_you_page=not_a_thank_you_page.pk),
    )
    data = response.json()
    assert data["valid"] is False
    assert data["invalid_fields"] == ["thank_you_page"]
    assert data["metrics"]["words"] == 0  # the posted, empty intro
    assert "offer-above-form" in {hint["id"] for hint in data["hints"]}


def test_a_page_being_created(client):
    parent = site_root()
    url = reverse(
        "wagtail_leadgen_hints:new", args=["wagtail_leadgen", "landingpage", parent.pk]
    )
    data = nested_form_data(
        {
            "title": "",
            "slug": "",
            "intro": "Une offre claire en une phrase.",
            "body": streamfield([]),
            "form_fields": streamfield([]),
            "profiling_fields": streamfield([]),
            "profiling_questions": 1,
            "thank_you_page": "",
        }
    )
    client.force_login(editor(parent, permission="add", username="author"))
    response = client.post(url, data)
    assert response.status_code == 200
    payload = response.json()
    assert payload["metrics"]["words"] == 6
    assert payload["profile"] == "landing"
    assert "thank-you-page" in {hint["id"] for hint in payload["hints"]}
    assert not LandingPage.objects.filter(intro__startswith="Une offre").exists()

    client.force_login(editor(username="reader"))
    assert client.post(url, data).status_code == 403
    bad = reverse("wagtail_leadgen_hints:new", args=["nope", "nothing", parent.pk])
    assert client.post(bad, data).status_code == 404


def test_the_editor_form_links_the_panel_to_the_endpoint(client, page):
    client.force_login(editor(page))
    response = client.get(reverse("wagtailadmin_pages:edit", args=[page.pk]))
    assert f'data-url="{hints_url(page)}"' in response.content.decode()
    root = site_root()
    client.force_login(editor(root, permission="add", username="author"))
    create = client.get(
        reverse(
            "wagtailadmin_pages:add",
            args=["wagtail_leadgen", "landingpage", root.pk],
        )
    )
    new_url = reverse(
        "wagtail_leadgen_hints:new", args=["wagtail_leadgen", "landingpage", root.pk]
    )
    assert f'data-url="{new_url}"' in create.content.decode()


# -- Report --------------------------------------------------------------------------------------
@pytest.fixture
def pages():
    set_controller(controller_name="Example SAS", contact_email="dpo@example.com")
    short = make_landing_page(
        title="Short offer", intro="Short.", **meta_description("x")
    )
    long_form = make_landing_page(
        title="Long form",
        intro="Ask for everything, " * 20,
        form_fields=[
            (kind, FIELD) for kind in ("first_name", "company", "phone", "country")
        ],
    )
    ebook = make_ebook_page(title="The guide")
    return short, long_form, ebook


def test_the_report_lists_lead_generation_pages(admin_client, pages):
    response = admin_client.get(reverse("wagtail_leadgen_hints:report"))
    assert response.status_code == 200
    html = response.content.decode()
    for title in ("Short offer", "Long form", "The guide", "Thank you"):
        assert title in html
    assert "Welcome" not in html  # the site's home page is not a lead page


def test_the_report_sorts_and_exports_csv(admin_client, pages):
    response = admin_client.get(
        reverse("wagtail_leadgen_hints:report"), {"ordering": "-words", "export": "csv"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["Title"] == "Long form"
    assert rows[0]["Form fields"] == "5"
    assert int(rows[0]["Words"]) == 60
    assert {"Short offer", "The guide"} <= {row["Title"] for row in rows}
    assert "Readability" in rows[0]


def test_the_report_exports_xlsx(admin_client, pages):
    response = admin_client.get(
        reverse("wagtail_leadgen_hints:report"), {"export": "xlsx"}
    )
    assert response.status_code == 200
    assert "spreadsheetml" in response["Content-Type"]


def test_the_report_needs_page_permissions(client, pages):
    client.force_login(editor(username="nobody"))
    response = client.get(reverse("wagtail_leadgen_hints:report"))
    assert response.status_code in (302, 403)


def test_the_report_is_in_the_reports_menu(admin_client, pages):
    response = admin_client.get(reverse("wagtailadmin_home"))
    assert reverse("wagtail_leadgen_hints:report") in response.content.decode()
