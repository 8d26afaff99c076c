"""Wagtail's page API v2 serves the plugin's pages to decoupled front ends:
the offer, its form and purposes as the HTML form shows them, where to fetch
the form schema, and never the gated document."""

import json

import pytest

from wagtail_leadgen.models import EbookPage, LandingPage, ThankYouPage

from .factories import (
    make_cta,
    make_ebook_page,
    make_landing_page,
    make_purpose,
    republish,
)

pytestmark = pytest.mark.django_db


def detail(client, page) -> dict:
    response = client.get(f"/api/v2/pages/{page.pk}/")
    assert response.status_code == 200
    return response.json()


def test_landing_pages_are_listed_by_type(client):
    first = make_landing_page(title="Free audit")
    second = make_landing_page(title="Demo call")
    make_ebook_page()

    response = client.get("/api/v2/pages/?type=wagtail_leadgen.LandingPage")

    assert response.status_code == 200
    listed = {item["id"]: item["title"] for item in response.json()["items"]}
    assert listed == {first.pk: "Free audit", second.pk: "Demo call"}


@pytest.mark.parametrize("model", [LandingPage, EbookPage, ThankYouPage])
def test_every_field_of_every_page_type_serialises(client, model):
    make_landing_page(purposes=[make_purpose()])
    make_ebook_page(purposes=[make_purpose()])

    response = client.get(f"/api/v2/pages/?type={model._meta.label}&fields=*")

    assert response.status_code == 200
    items = response.json()["items"]
    assert items, f"no {model.__name__} listed"
    expected = {field.name for field in model.api_fields}
    assert expected <= set(items[0])


def test_a_landing_page_gives_its_form_as_the_html_form_shows_it(client, settings):
    page = make_landing_page(
        intro="Book a free audit.",
        form_heading="Book now",
        form_fields=[
            ("company", {"label": "Your company", "required": True, "help_text": ""}),
            ("question", {"label": "", "required": False, "help_text": "Ask away"}),
        ],
    )

    data = detail(client, page)

    assert data["intro"] == "Book a free audit."
    assert data["form"]["heading"] == "Book now"
    fields = data["form"]["fields"]
    assert [field["name"] for field in fields] == ["email", "company", "question"]
    assert fields[0] == {
        "name": "email",
        "kind": "email",
        "label": "Email",
        "help_text": "",
        "required": True,
        "max_length": 254,
        "choices": None,
        "input_type": "email",
        "autocomplete": "email",
    }
    assert fields[1]["label"] == "Your company" and fields[1]["required"] is True
    assert fields[2]["label"] == "Your question"
    assert fields[2]["help_text"] == "Ask away"
    html_form = page.get_form_class()
    assert fields == html_form.describe_answer_fields()


def test_purposes_show_their_current_published_wording(client):
    purpose = make_purpose(name="Newsletter", checkbox_label="Send me the newsletter")
    draft_only = make_purpose(publish=False, live=False)
    page = make_landing_page(purposes=[purpose, draft_only])
    purpose = republish(purpose, checkbox_label="Send me the monthly newsletter")

    purposes = detail(client, page)["purposes"]

    assert "Newsletter" not in str(purposes)  # the editors' name stays in the admin
    assert purposes == [
        {
            "id": purpose.pk,
            "version": purpose.live_revision_id,
            "name": "Send me the monthly newsletter",
            "text": purpose.purpose_html,
            "requires_confirmation": False,
        }
    ]


def test_the_thank_you_page_and_the_form_schema_are_linked(client):
    page = make_landing_page()

    data = detail(client, page)

    thanks = page.thank_you_page
    assert data["thank_you_page"] == {
        "id": thanks.pk,
        "title": thanks.title,
        "url": thanks.url,
    }
    assert data["form_schema_url"] == f"/api/leadgen/v1/forms/{page.pk}"


def test_an_unpublished_thank_you_page_is_not_given(client):
    page = make_landing_page()
    page.thank_you_page.unpublish()

    assert detail(client, page)["thank_you_page"] is None


def test_calls_to_action_in_the_body_carry_their_target(client):
    cta = make_cta(label="Get the guide", target_url="https://example.com/guide/")
    page = make_landing_page(body=[("cta", {"cta": cta})])

    block = detail(client, page)["body"][0]

    assert block["type"] == "cta"
    assert block["value"] == {
        "id": cta.pk,
        "label": "Get the guide",
        "description": "",
        "style": "primary",
        "href": "https://example.com/guide/",
        "click_to_call": False,
        "click_url": f"/leadgen/cta/{cta.pk}/",
        "ping_url": None,
    }


def test_an_ebook_page_never_gives_away_its_document(client):
    page = make_ebook_page(purposes=[make_purpose()])
    document = page.document

    response = client.get(f"/api/v2/pages/{page.pk}/?fields=*")
    listing = client.get("/api/v2/pages/?type=wagtail_leadgen.EbookPage&fields=*")

    assert response.status_code == 200 and listing.status_code == 200
    assert response.json()["form"]["fields"][0]["name"] == "email"
    for body in (response.content.decode(), listing.content.decode()):
        assert document.file.name not in body
        assert document.file.name.rsplit("/", 1)[-1] not in body
        assert document.url not in body
        assert '"document"' not in body
    assert "document" not in json.loads(response.content)


def test_the_documents_endpoint_is_not_mounted(client):
    make_ebook_page()

    assert client.get("/api/v2/documents/").status_code == 404
