"""The information notice (R10; GDPR Art. 13): what it says, where, and in which shape."""

import html
import re

import pytest
from django.core import checks
from django.template import Context, Template, engines
from django.test import RequestFactory, override_settings

from wagtail_leadgen.models import Submission
from wagtail_leadgen.models.consent import wording_sha256
from wagtail_leadgen.services.notice import RIGHTS, build_notice
from wagtail_leadgen.templatetags.leadgen_tags import notice_context

from .factories import (
    make_landing_page,
    make_purpose,
    make_request_processing,
    set_controller,
    site_root,
)
from .helpers import LOCMEM, form_data

pytestmark = pytest.mark.django_db

HUBSPOT = {"NAME": "HubSpot Inc.", "COUNTRY": "USA", "SAFEGUARD": "EU-US DPF"}
PARTNER = {"NAME": "Partner SA", "COUNTRY": "France"}


def destinations(**entries) -> dict:
    """``WAGTAIL_LEADGEN`` with in-memory destinations: alias -> extra keys."""
    return {
        "FORM_MIN_FILL_SECONDS": 0,
        "CRM_BACKENDS": {
            alias: {"BACKEND": LOCMEM, **extra} for alias, extra in entries.items()
        },
    }


def page_text(client, page) -> str:
    response = client.get(page.url)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def notice_of(text: str) -> str:
    start = text.index('<div class="leadgen-notice"')
    return text[start : text.index("</details>", start)]


@pytest.fixture
def controller():
    return set_controller(
        controller_name="Acme SAS",
        controller_address="1 rue de Paris",
        contact_email="privacy@acme.example",
        dpo_email="dpo@acme.example",
    )


# -- Where it is, and its two layers ---------------------------------------------------


def test_the_notice_comes_before_the_submit_button(client, controller):
    text = page_text(client, make_landing_page(purposes=[make_purpose()]))
    form = text[text.index("<form") : text.index("</form>")]
    assert form.index('id="leadgen-request"') < form.index('class="leadgen-notice"')
    assert form.index("</details>") < form.index('type="submit"')


def test_the_first_level_names_controller_request_basis_and_rights(client, controller):
    processing = make_request_processing(
        summary="We use your email address to send you the guide."
    )
    text = page_text(client, make_landing_page(request_processing=processing))
    request = re.search(r'id="leadgen-request">(.*?)</p>', text, re.DOTALL).group(1)
    assert "We use your email address to send you the guide." in request
    assert "Legal basis: Contract, or a request you made." in request
    first = re.search(r'id="leadgen-notice-first">(.*?)</p>', text, re.DOTALL)
    first = first.group(1)
    assert "Acme SAS (1 rue de Paris) is responsible for the data" in first
    assert "access, correct, export or erase your data, object" in first
    assert 'href="mailto:privacy@acme.example"' in first


def test_the_details_are_one_click_away_without_javascript(client, controller):
    text = page_text(client, make_landing_page())
    notice = notice_of(text)
    assert '<details class="leadgen-notice-details">' in notice
    assert "<summary>More about your data and your rights</summary>" in notice
    assert "<script" not in notice
    assert "style=" not in notice and "onclick" not in notice.lower()


# -- What the details say ---------------------------------------------------------


def test_each_processing_has_purpose_basis_recipients_and_retention(client, controller):
    processing = make_request_processing(
        summary="We use your email address to send you the guide.",
        purpose_text="<p>We email you the guide you asked for.</p>",
        recipients="Our sales team",
        retention_months=12,
    )
    newsletter = make_purpose(
        checkbox_label="Send me the newsletter",
        recipients="Our marketing team",
        retention_months=36,
    )
    page = make_landing_page(purposes=[newsletter], request_processing=processing)
    notice = notice_of(page_text(client, page))
    assert "We email you the guide you asked for." in notice
    assert "Legal basis: Contract, or a request you made." in notice
    assert "Recipients: Our sales team. Kept for 12 months after your last" in notice
    assert "Send me the newsletter" in notice
    assert "Legal basis: Consent." in notice
    assert "You can withdraw this consent at any time" in notice
    assert "Recipients: Our marketing team. Kept for 36 months" in notice


def test_a_legitimate_interest_is_named(client, controller):
    processing = make_request_processing(
        legal_basis="legitimate_interest",
        legitimate_interest="Answering the questions prospects ask us",
    )
    notice = notice_of(
        page_text(client, make_landing_page(request_processing=processing))
    )
    assert "Legal basis: Legitimate interest." in notice
    assert (
        "Legitimate interest pursued: Answering the questions prospects ask us."
        in notice
    )


def test_double_opt_in_is_announced(client, controller):
    newsletter = make_purpose(requires_confirmation=True)
    notice = notice_of(page_text(client, make_landing_page(purposes=[newsletter])))
    assert "It counts only once you confirm it from the email we send you." in notice


def test_processors_are_those_this_page_routes_to_with_country_and_safeguard(
    client, controller
):
    partners = make_purpose(name="Partner offers", checkbox_label="Partner offers")
    settings = destinations(
        hubspot={"RECIPIENT": HUBSPOT},
        partner={"RECEIVES": ["Partner offers"], "RECIPIENT": PARTNER},
        other={"RECIPIENT": {"NAME": "Elsewhere Ltd", "COUNTRY": "UK"}},
    )
    with override_settings(WAGTAIL_LEADGEN=settings):
        page = make_landing_page(
            purposes=[partners], crm_destinations="hubspot,partner"
        )
        notice = build_notice(page, page.get_form_class())
        text = notice_of(page_text(client, page))
    request, consent = notice.processings
    assert [p.name for p in request.processors] == ["HubSpot Inc."]
    assert [p.name for p in consent.processors] == ["Partner SA"]
    assert "HubSpot Inc. (USA; transfer safeguard: EU-US DPF)" in text
    assert "Partner SA (France)" in text
    assert "Elsewhere Ltd" not in text  # not a destination of this page


def test_a_destination_is_listed_under_the_purpose_it_needs_by_id_too(controller):
    partners = make_purpose()
    settings = destinations(partner={"RECEIVES": [partners.pk], "RECIPIENT": PARTNER})
    with override_settings(WAGTAIL_LEADGEN=settings):
        page = make_landing_page(purposes=[partners])
        notice = build_notice(page, page.get_form_class())
    assert notice.request.processors == ()
    assert [p.name for p in notice.consents[0].processors] == ["Partner SA"]


def test_required_and_optional_fields_and_what_happens_without_them(client, controller):
    page = make_landing_page(
        purposes=[make_purpose()],
        form_fields=[
            ("first_name", {"label": "", "required": True, "help_text": ""}),
            ("company", {"label": "", "required": False, "help_text": ""}),
        ],
    )
    notice = notice_of(page_text(client, page))
    assert (
        "Required: Email, First name. Without them we cannot answer your request."
        in notice
    )
    assert "Optional: Company." in notice
    assert "Every box is optional" in notice


def test_rights_where_to_exercise_them_and_the_dpo(client, controller):
    notice = notice_of(page_text(client, make_landing_page()))
    rights = notice[notice.index("<h3>Your rights</h3>") :]
    for words in ("copy of your data", "machine-readable", "corrected or erased"):
        assert words in rights
    assert "restrict its use, or object to it at any time" in rights
    assert 'href="mailto:privacy@acme.example"' in rights
    assert 'href="mailto:dpo@acme.example"' in rights
    assert '<a href="/leadgen/my-data/">your data page</a>' in notice


def test_the_complaint_goes_to_the_configured_authority(client, controller):
    page = make_landing_page()
    assert 'href="https://www.cnil.fr">CNIL</a>' in notice_of(page_text(client, page))
    authority = {"NAME": "Autorité de protection des données", "URL": "https://apd.be"}
    with override_settings(
        WAGTAIL_LEADGEN={"FORM_MIN_FILL_SECONDS": 0, "SUPERVISORY_AUTHORITY": authority}
    ):
        notice = notice_of(page_text(client, page))
    assert (
        'supervisory authority: <a href="https://apd.be">Autorité de protection '
        "des données</a>" in notice
    )
    assert "CNIL" not in notice


@pytest.mark.parametrize(
    "authority, message",
    [
        ({"NAME": ""}, "['NAME'] must be a non-empty text"),
        ({"URL": "javascript:alert(1)"}, "must be an http(s) URL"),
        ({"NAME": "X", "EMAIL": "a@b.c"}, "Unknown key(s)"),
        ("CNIL", "must be a dict"),
    ],
)
def test_a_bad_supervisory_authority_is_a_start_up_error(authority, message):
    with override_settings(WAGTAIL_LEADGEN={"SUPERVISORY_AUTHORITY": authority}):
        errors = [e for e in checks.run_checks() if e.id == "wagtail_leadgen.E007"]
    assert any(message in error.msg for error in errors), errors


def test_lead_scoring_is_disclosed_while_on(client, controller):
    page = make_landing_page()
    notice = notice_of(page_text(client, page))
    assert "<h3>How we follow up requests</h3>" in notice
    assert "No decision with legal or similarly significant effects" in notice
    with override_settings(
        WAGTAIL_LEADGEN={"FORM_MIN_FILL_SECONDS": 0, "LEAD_SCORING": False}
    ):
        assert "How we follow up" not in notice_of(page_text(client, page))


def test_the_privacy_policy_is_linked_when_published(client, controller):
    policy = site_root().add_child(
        instance=site_root().specific_class(title="Privacy", slug="privacy")
    )
    controller.privacy_page = policy
    controller.save()
    notice = notice_of(page_text(client, make_landing_page()))
    assert f'<a href="{policy.url}">Read our privacy policy</a>' in notice


# -- The "my data" page ------------------------------------------------------------------


def test_the_my_data_page_is_linked_as_soon_as_it_exists(client, controller):
    text = page_text(client, make_landing_page())
    assert 'use <a href="/leadgen/my-data/">your data page</a>' in text


# -- One structure for every channel, and older templates -----------------------------


def test_the_notice_as_data_for_a_headless_front_end(controller):
    newsletter = make_purpose(checkbox_label="Send me the newsletter")
    settings = destinations(hubspot={"RECIPIENT": HUBSPOT})
    with override_settings(WAGTAIL_LEADGEN=settings):
        page = make_landing_page(purposes=[newsletter])
        data = build_notice(page, page.get_form_class()).as_dict()
    assert data["controller"]["name"] == "Acme SAS"
    assert data["controller"]["dpo_email"] == "dpo@acme.example"
    request, consent = data["processings"]
    assert request["kind"] == "request"
    assert request["legal_basis"] == "contract"
    assert request["processors"] == [
        {"name": "HubSpot Inc.", "country": "USA", "safeguard": "EU-US DPF"}
    ]
    assert consent == {
        "kind": "consent",
        "purpose_id": newsletter.pk,
        "label": "Send me the newsletter",
        "purpose_html": newsletter.purpose_html,
        "legal_basis": "consent",
        "legal_basis_label": "Consent",
        "legitimate_interest": "",
        "recipients": newsletter.recipients,
        "processors": [],
        "retention_months": newsletter.retention_months,
        "requires_confirmation": False,
    }
    assert data["fields"] == [{"name": "email", "label": "Email", "required": True}]
    assert data["rights"] == list(RIGHTS)
    assert data["supervisory_authority"] == {
        "name": "CNIL",
        "url": "https://www.cnil.fr",
    }
    assert data["profiling"] is True
    assert data["my_data_url"] == "/leadgen/my-data/"


def test_the_notice_tag_renders_the_notice_alone(controller):
    page = make_landing_page(purposes=[make_purpose()])
    request = RequestFactory().get(page.url)
    rendered = Template("{% load leadgen_tags %}{% leadgen_notice form %}").render(
        Context({"page": page, "request": request, "form": page.get_form()})
    )
    assert "Acme SAS (1 rue de Paris) is responsible" in rendered
    assert "<details" in rendered and "<form" not in rendered


def test_a_template_written_for_the_old_notice_still_renders(controller):
    """Overrides of includes/notice.html may still read ``controller`` and ``purposes``."""
    old = engines["django"].from_string(
        "{% for purpose in purposes %}<i>{{ purpose.checkbox_label }}</i>{% endfor %}"
        "<b>{{ controller.controller_name }}</b>"
    )
    page = make_landing_page(
        purposes=[make_purpose(checkbox_label="Send me the newsletter")]
    )
    request = RequestFactory().get(page.url)
    context = notice_context(
        Context({"page": page, "request": request}), page.get_form()
    )
    assert old.render(context) == "<i>Send me the newsletter</i><b>Acme SAS</b>"


# -- What was shown is kept with each submission ----------------------------------------


def test_each_submission_keeps_the_request_wording_it_was_shown(client, controller):
    processing = make_request_processing(summary="We send you the guide.")
    page = make_landing_page(request_processing=processing)
    shown = processing.live_revision_id
    data = form_data(client, page, email="ann@example.com")
    processing.summary = "We send you the guide and call you back."
    processing.save_revision().publish()  # while the form was open
    assert client.post(page.url, data).status_code in (200, 303)
    submission = Submission.objects.get()
    assert submission.request_revision_id == shown
    assert submission.request_wording.startswith("We send you the guide.\n")
    assert submission.request_wording_sha256 == wording_sha256(
        submission.request_wording
    )
