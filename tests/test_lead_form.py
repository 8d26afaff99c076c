"""The visitor's form: minimal fields, unticked per-purpose checkboxes, strict input."""

import re

import pytest
from django.core.exceptions import ValidationError

from wagtail_leadgen.forms import LeadFormBuilder, UnknownFieldKind
from wagtail_leadgen.models import Lead
from wagtail_leadgen.validators import normalise_email, validate_lead_email

from .factories import make_landing_page, make_purpose, make_request_processing
from .helpers import form_data

pytestmark = pytest.mark.django_db


def test_email_is_always_asked_even_with_no_extra_field():
    page = make_landing_page()
    form = page.get_form()
    assert [field.name for field in form.answer_fields()] == ["email"]
    assert form.fields["email"].required


def test_rendered_consent_checkboxes_are_never_ticked(client):
    newsletter = make_purpose()
    partners = make_purpose()
    page = make_landing_page(purposes=[newsletter, partners])
    html = client.get(page.url).content.decode()
    assert 'type="checkbox"' in html
    assert html.count('type="checkbox"') == 2
    assert "checked" not in html


def test_initial_values_cannot_tick_a_consent_box():
    purpose = make_purpose()
    page = make_landing_page(purposes=[purpose])
    form_class = page.get_form_class()
    form = form_class(initial={f"consent_{purpose.pk}": True})
    assert "checked" not in str(form[f"consent_{purpose.pk}"])


def test_no_consent_box_is_ever_required():
    newsletter = make_purpose()
    partners = make_purpose()
    form = make_landing_page(purposes=[newsletter, partners]).get_form()
    assert form.fields[f"consent_{newsletter.pk}"].required is False
    assert form.fields[f"consent_{partners.pk}"].required is False


def test_what_the_visitor_asks_for_is_stated_next_to_the_button_not_ticked(client):
    processing = make_request_processing(
        summary="We use your email address to send you the guide."
    )
    page = make_landing_page(request_processing=processing)
    html = client.get(page.url).content.decode()
    assert "We use your email address to send you the guide." in html
    assert 'type="checkbox"' not in html


def test_unpublished_purposes_are_not_shown():
    draft = make_purpose(publish=False)
    draft.live = False
    draft.save()
    form = make_landing_page(purposes=[draft]).get_form()
    assert form.consent_fields() == []


def test_editor_fields_are_built_by_kind_and_keep_their_key_when_relabelled():
    page = make_landing_page(
        form_fields=[
            (
                "company",
                {"label": "Your organisation", "required": True, "help_text": ""},
            ),
            ("phone", {"label": "", "required": False, "help_text": "For a call back"}),
        ]
    )
    form = page.get_form()
    assert form.fields["company"].label == "Your organisation"
    assert form.fields["company"].required
    assert form.fields["phone"].label == "Phone"
    assert form.fields["phone"].help_text == "For a call back"


def test_unknown_field_kind_names_the_valid_ones():
    builder = LeadFormBuilder([], [])
    with pytest.raises(UnknownFieldKind) as excinfo:
        builder.build_field("social_security_number", {})
    message = str(excinfo.value)
    assert "social_security_number" in message
    assert "company" in message and "phone" in message


@pytest.mark.parametrize(
    "address",
    [
        "a@[127.0.0.1]",
        "a@localhost",
        "not-an-address",
        "two@example.com,three@example.com",
        "a@example.com\r\nBcc: victim@example.com",
        "a\x0b@example.com",
        "a\x1c@example.com",
        "a\u200b@example.com",
        ("x" * 245) + "@example.com",
        ("x" * 65) + "@example.com",  # RFC 5321: 64 octets before the @
        ("é" * 33) + "@example.com",  # 66 octets in UTF-8
        "a@\ud800.example.com",
    ],
)
def test_bad_email_addresses_are_refused(address):
    with pytest.raises(ValidationError):
        validate_lead_email(address)


def test_email_is_normalised_for_deduplication():
    assert normalise_email("  Ann.Lee@Example.COM ") == "ann.lee@example.com"


def test_a_64_octet_local_part_is_accepted():
    validate_lead_email(("x" * 64) + "@example.com")


@pytest.mark.parametrize(
    "spelling",
    [
        "ann@exämple.fr",  # composed (NFC)
        "ann@exa\u0308mple.fr",  # decomposed (NFD)
        "ANN@EXÄMPLE.FR",
        "ann@xn--exmple-cua.fr",  # the same domain in its ASCII form
    ],
)
def test_every_spelling_of_an_accented_domain_is_one_person(client, spelling):
    page = make_landing_page()
    response = client.post(page.url, form_data(client, page, email=spelling))
    assert response.status_code == 303
    assert Lead.objects.get().email == "ann@exämple.fr"


@pytest.mark.parametrize("value", ["An\x00n", "An\x0cn", "Ann\x1b[31m", "An\u202en"])
def test_control_characters_are_refused_in_text_fields(value):
    page = make_landing_page(
        form_fields=[("first_name", {"label": "", "required": True, "help_text": ""})]
    )
    form = page.get_form_class()({"email": "ann@example.com", "first_name": value})
    assert not form.is_valid()
    assert "first_name" in form.errors


def test_line_breaks_are_fine_in_the_question_field():
    page = make_landing_page(
        form_fields=[("question", {"label": "", "required": True, "help_text": ""})]
    )
    form = page.get_form_class()(
        {"email": "ann@example.com", "question": "Line one\r\nLine two"}
    )
    assert form.is_valid(), form.errors


def test_over_long_answers_are_refused():
    page = make_landing_page(
        form_fields=[("company", {"label": "", "required": False, "help_text": ""})]
    )
    form = page.get_form_class()({"email": "ann@example.com", "company": "x" * 5000})
    assert not form.is_valid()
    assert "company" in form.errors


def test_zero_width_joiners_in_real_names_are_accepted():
    page = make_landing_page(
        form_fields=[("first_name", {"label": "", "required": True, "help_text": ""})]
    )
    # Persian names need the zero-width non-joiner (U+200C).
    form = page.get_form_class()(
        {
            "email": "ann@example.com",
            "first_name": "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
        }
    )
    assert form.is_valid(), form.errors


def test_the_honeypot_is_hidden_by_the_html_itself_not_by_the_stylesheet(client):
    """A site template that loads no leadgen.css still hides it from people,
    screen readers, the keyboard and autofill; bots reading the markup see it."""
    html = client.get(make_landing_page().url).content.decode()
    wrapper = re.search(r'<div class="leadgen-hp"([^>]*)>', html)
    assert wrapper and " hidden" in wrapper[1] and 'aria-hidden="true"' in wrapper[1]
    field = re.search(r'<input[^>]*name="leadgen_hp"[^>]*>', html)[0]
    for attribute in (" hidden", 'aria-hidden="true"', 'tabindex="-1"'):
        assert attribute in field
    assert 'autocomplete="off"' in field


def test_the_honeypot_stays_hidden_when_a_site_renders_the_form_its_own_way():
    form = make_landing_page().get_form()
    rendered = str(form["leadgen_hp"])
    assert " hidden" in rendered and 'aria-hidden="true"' in rendered
