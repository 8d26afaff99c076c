"""The page types editors build, checked with Wagtail's own page assertions."""

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.test import override_settings
from wagtail.test.utils import WagtailPageTestCase
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from tests.testapp.models import NewsletterPage
from wagtail_leadgen.models import (
    CallbackPage,
    ConsentRecord,
    EbookPage,
    LandingPage,
    ThankYouPage,
)
from wagtail_leadgen.models.base_page import configured_page_model

from .factories import (
    make_document,
    make_ebook_page,
    make_landing_page,
    make_purpose,
    make_request_processing,
    make_thank_you_page,
    page_model,
    set_controller,
    site_root,
)
from .helpers import form_data, ticked


class PageTypeTests(WagtailPageTestCase):
    def setUp(self):
        self.login()

    def test_editors_create_offers_under_a_page_and_thank_you_pages_under_offers(self):
        for model in (LandingPage, EbookPage, CallbackPage):
            self.assertCanCreateAt(page_model(), model)
            self.assertCanCreateAt(model, ThankYouPage)
            self.assertAllowedSubpageTypes(model, {ThankYouPage})
        self.assertCanNotCreateAt(page_model(), ThankYouPage)
        # A site's own offer page type (built on LeadCaptureMixin) holds them too.
        self.assertAllowedParentPageTypes(
            ThankYouPage, {LandingPage, EbookPage, CallbackPage, NewsletterPage}
        )
        self.assertAllowedSubpageTypes(ThankYouPage, set())

    def test_the_thank_you_chooser_lists_thank_you_pages_only(self):
        for model in (LandingPage, EbookPage, NewsletterPage):
            form_class = model.get_edit_handler().get_form_class()
            chooser = form_class.base_fields["thank_you_page"].widget
            assert chooser.model_names == ["wagtail_leadgen.thankyoupage"]

    def test_each_page_type_tells_editors_what_it_is_for(self):
        for model in (LandingPage, EbookPage, CallbackPage, ThankYouPage):
            assert model.get_page_description()

    def test_pages_render_preview_and_save_in_the_editor(self):
        purpose = make_purpose()
        landing = make_landing_page(purposes=[purpose])
        ebook = make_ebook_page(purposes=[purpose])
        thank_you = landing.thank_you_page
        form_part = {
            "form_fields": streamfield([]),
            "profiling_fields": streamfield([]),
            "profiling_questions": 1,
            "consent_purposes": [purpose.pk],
            "thank_you_page": thank_you.pk,
        }
        edits = {
            landing: {"intro": "Edited", "body": streamfield([]), **form_part},
            ebook: {
                "summary": rich_text("<p>Edited</p>"),
                "document": ebook.document_id,
                **form_part,
            },
            thank_you: {
                "message": rich_text("<p>Thanks</p>"),
                "suggestions": streamfield([]),
            },
        }
        for page, fields in edits.items():
            post_data = nested_form_data(
                {"title": page.title, "slug": page.slug, **fields}
            )
            self.assertPageIsRenderable(page)
            self.assertPageIsPreviewable(page, post_data=post_data)
            self.assertPageIsEditable(page, post_data=post_data)

    def test_an_editor_can_create_a_landing_page_in_the_admin(self):
        set_controller(controller_name="Acme SAS", contact_email="privacy@acme.example")
        purpose = make_purpose()
        processing = make_request_processing()
        root = site_root()
        self.assertCanCreate(
            root,
            LandingPage,
            {
                "title": "Audit",
                "slug": "audit",
                "intro": "Get a free audit",
                "body-count": "0",
                "form_fields-count": "0",
                "profiling_fields-count": "0",
                "profiling_questions": "1",
                "form_heading": "Ask for it",
                "submit_label": "Send",
                "request_processing": processing.pk,
                "consent_purposes": [purpose.pk],
            },
        )


@pytest.mark.django_db
def test_an_ebook_refuses_a_publicly_reachable_document():
    page = EbookPage(
        title="Guide", slug="guide", document=make_document(restricted=False)
    )
    with pytest.raises(ValidationError) as excinfo:
        page.full_clean()
    assert "document" in excinfo.value.message_dict


@pytest.mark.django_db
def test_an_ebook_accepts_a_document_in_a_private_collection():
    page = EbookPage(title="Guide", slug="guide", document=make_document())
    page.clean()


@pytest.mark.django_db
def test_the_thank_you_page_suggests_further_content_and_sharing(client):
    ebook = make_ebook_page(thank_you=False)
    other = make_landing_page(title="Free audit")
    thank_you = make_thank_you_page(ebook, suggestions=[("page", other)])
    html = client.get(thank_you.url).content.decode()
    assert f'href="{other.url}"' in html
    assert "linkedin.com/sharing" in html
    assert "<script" not in html


@pytest.mark.django_db
def test_page_api_fields_never_expose_the_gated_document():
    assert "document" not in [field.name for field in EbookPage.api_fields]


@pytest.mark.django_db
def test_a_site_s_own_page_type_built_from_the_mixins_captures_leads(client):
    purpose = make_purpose()
    page = site_root().add_child(
        instance=NewsletterPage(title="Newsletter", slug="newsletter")
    )
    page.consent_purposes.set([purpose])
    page.save_revision().publish()
    data = form_data(client, page, email="ann@example.com", **ticked(purpose))
    response = client.post(page.url, data)
    assert response.status_code == 200  # no thank-you page: thanked in place
    assert ConsentRecord.objects.get().decision == "granted"


@pytest.mark.django_db
def test_every_page_shows_the_information_notice(client):
    set_controller(controller_name="Acme SAS", contact_email="privacy@acme.example")
    purpose = make_purpose(recipients="Acme sales", retention_months=24)
    html = client.get(make_landing_page(purposes=[purpose]).url).content.decode()
    assert "Acme SAS" in html
    assert "privacy@acme.example" in html
    assert "Acme sales" in html
    assert "24 months" in html
    assert "erase" in html


@pytest.mark.django_db
def test_a_landing_page_s_thank_you_page_must_be_a_thank_you_page():
    other = make_landing_page()
    page = LandingPage(title="Audit", slug="audit", thank_you_page=other)
    with pytest.raises(ValidationError) as excinfo:
        page.clean()
    assert "thank_you_page" in excinfo.value.message_dict


@pytest.mark.django_db
def test_an_ebook_needs_a_document():
    with pytest.raises(ValidationError) as excinfo:
        EbookPage(title="Guide", slug="guide").clean()
    assert "document" in excinfo.value.message_dict


@pytest.mark.django_db
def test_the_notice_names_the_controller_with_its_address(client):
    set_controller(controller_name="Acme SAS", controller_address="1 rue de Paris")
    html = client.get(make_landing_page().url).content.decode()
    assert "Acme SAS (1 rue de Paris) is responsible" in html


# -- The base page the plugin's pages are built on (WAGTAIL_PAGE_MODEL) ------------------
def test_the_pages_are_built_on_the_configured_base_page():
    assert configured_page_model() is page_model()
    for model in (LandingPage, EbookPage, ThankYouPage, NewsletterPage):
        assert model.base_page_model is page_model()


@override_settings(WAGTAIL_PAGE_MODEL="nowhere.BasePage")
def test_a_base_page_of_an_app_not_installed_is_a_clear_error():
    with pytest.raises(ImproperlyConfigured, match="no app labelled 'nowhere'"):
        configured_page_model()


@override_settings(WAGTAIL_PAGE_MODEL="testapp.BasePage")
def test_a_base_page_its_app_does_not_define_is_a_clear_error():
    with pytest.raises(
        ImproperlyConfigured,
        match="tests.testapp.models defines no model named 'BasePage'",
    ):
        configured_page_model()


@pytest.mark.django_db
def test_share_links_use_the_public_root_not_the_site_record_s_localhost(client):
    landing = make_landing_page(slug="audit")
    with override_settings(WAGTAIL_LEADGEN={"SITE_URL": "https://www.example.com"}):
        html = client.get(landing.thank_you_page.url).content.decode()
    assert "url=https%3A%2F%2Fwww.example.com%2Faudit%2F" in html
    assert "localhost" not in html


@pytest.mark.django_db
def test_the_thank_you_page_leads_back_into_the_site(client):
    landing = make_landing_page()
    html = client.get(landing.thank_you_page.url).content.decode()
    home = site_root()
    assert f'href="{home.url}">Continue to {home.title}</a>' in html


@pytest.mark.django_db
def test_a_landing_page_without_a_search_description_is_described_by_its_intro(
    client,
):
    page = make_landing_page(intro="Tell us where to reach you & we call back.")
    html = client.get(page.url).content.decode()
    assert (
        '<meta name="description" content="Tell us where to reach you &amp; we call back.">'
        in html
    )


@pytest.mark.django_db
def test_an_editors_search_description_wins_over_the_intro(client):
    page = make_landing_page(intro="Tell us where to reach you & we call back.")
    if "search_description" not in {field.name for field in page._meta.get_fields()}:
        pytest.skip("a base page without Wagtail's SEO fields (custom base page run)")
    page.search_description = "A free audit of your pages"
    page.save_revision().publish()
    html = client.get(page.url).content.decode()
    assert html.count('<meta name="description"') == 1
    assert '<meta name="description" content="A free audit of your pages">' in html
