"""HubSpot backend: the Forms submission payload and GDPR delete, HTTP mocked."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from wagtail_leadgen.crm import build_backend, http
from wagtail_leadgen.crm.base import ConsentItem, LeadPayload, PermanentCRMError
from wagtail_leadgen.crm.hubspot import GENERIC_CONSENT_TEXT, HubSpotBackend

from .crm_payloads import configuration_error, consent_item, every_answer, lead_payload
from .fake_http import FakeHTTP

PORTAL_ID = "12345678"
FORM_GUID = "78c2891f-ebdd-44c0-bd94-15c012bbbfbf"
TOKEN = "pat-eu1-0000aaaa-1111-bbbb-2222-cccc3333dddd"
SUBMIT_URL = (
    f"https://api.hsforms.com/submissions/v3/integration/submit/{PORTAL_ID}/{FORM_GUID}"
)
GDPR_URL = "https://api.hubapi.com/crm/v3/objects/contacts/gdpr-delete"
SETTING = 'WAGTAIL_LEADGEN["CRM_BACKENDS"]["sales"]["OPTIONS"]'

SUBMITTED_AT = datetime(2026, 3, 2, 9, 30, 15, 250000, tzinfo=UTC)
OFFER_WORDING = "Send me the e-book\n\n<p>We email you the e-book you asked for.</p>"
NEWSLETTER_WORDING = (
    "Send me the newsletter\n\n<p>Once a month, unsubscribe anytime.</p>"
)


def make_consent(**kwargs) -> ConsentItem:
    kwargs.setdefault("wording", OFFER_WORDING)
    kwargs.setdefault("decided_at", SUBMITTED_AT)
    kwargs.setdefault("is_offer", kwargs.get("legal_basis", "contract") == "contract")
    return consent_item(**kwargs)


def make_lead(**kwargs) -> LeadPayload:
    kwargs.setdefault("submitted_at", SUBMITTED_AT)
    kwargs.setdefault("consents", (make_consent(),))
    kwargs.setdefault("admin_url", "https://www.example.com/admin/leads/5/")
    return lead_payload(**kwargs)


def make_backend(alias: str = "sales", **options) -> HubSpotBackend:
    options.setdefault("PORTAL_ID", PORTAL_ID)
    options.setdefault("FORM_GUID", FORM_GUID)
    return HubSpotBackend(alias, options)


@pytest.fixture
def fake_http(monkeypatch) -> FakeHTTP:
    return FakeHTTP.install(monkeypatch)


# -- Delivery -----------------------------------------------------------------------
def test_deliver_posts_the_documented_forms_payload(fake_http):
    result = make_backend().deliver(make_lead())

    assert len(fake_http.calls) == 1
    call = fake_http.last
    assert call["url"] == SUBMIT_URL
    assert call["headers"]["Content-Type"] == "application/json"
    assert "Authorization" not in call["headers"]
    assert call.get("method", "POST") == "POST"
    assert call["connect_timeout"] == http.DEFAULT_CONNECT_TIMEOUT
    assert call["read_timeout"] == http.DEFAULT_READ_TIMEOUT
    assert fake_http.json() == {
        "submittedAt": "1772443815250",
        "fields": [
            {"name": "email", "value": "ada@example.com"},
            {"name": "firstname", "value": "Ada"},
            {"name": "lastname", "value": "Lovelace"},
            {"name": "company", "value": "Analytical Engines"},
        ],
        "context": {
            "pageUri": "https://www.example.com/e-book/",
            "pageName": "The e-book",
        },
        "legalConsentOptions": {
            "consent": {
                "consentToProcess": True,
                "text": OFFER_WORDING,
                "communications": [],
            }
        },
    }
    assert result.remote_id == ""


def test_backend_is_built_from_its_dotted_path(fake_http):
    backend = build_backend(
        "sales",
        {
            "BACKEND": "wagtail_leadgen.crm.hubspot.HubSpotBackend",
            "OPTIONS": {"PORTAL_ID": 12345678, "FORM_GUID": FORM_GUID.upper()},
        },
    )
    backend.deliver(make_lead())
    assert fake_http.last["url"] == SUBMIT_URL


def test_default_field_map_covers_every_answer_kind(fake_http):
    make_backend().deliver(make_lead(answers=every_answer()))
    assert fake_http.json()["fields"] == [
        {"name": "email", "value": "ada@example.com"},
        {"name": "firstname", "value": "Ada"},
        {"name": "lastname", "value": "Lovelace"},
        {"name": "company", "value": "Analytical Engines"},
        {"name": "jobtitle", "value": "Analyst"},
        {"name": "phone", "value": "+44 20 7946 0000"},
        {"name": "country", "value": "GB"},
        {"name": "message", "value": "Can I get\ntwo copies?"},
    ]


def test_only_answers_mapped_in_field_map_are_sent(fake_http):
    backend = make_backend(FIELD_MAP={"company": "company", "phone": "mobilephone"})
    lead = make_lead(answers=every_answer(question="Something private"))
    backend.deliver(lead)
    body = fake_http.last["body"].decode("utf-8")
    assert fake_http.json()["fields"] == [
        {"name": "email", "value": "ada@example.com"},
        {"name": "company", "value": "Analytical Engines"},
        {"name": "mobilephone", "value": "+44 20 7946 0000"},
    ]
    for unmapped in ("Ada", "Lovelace", "Something private"):
        assert unmapped not in body


def test_empty_answers_are_not_sent(fake_http):
    make_backend().deliver(make_lead(answers={"first_name": "", "company": "  "}))
    assert fake_http.json()["fields"] == [{"name": "email", "value": "ada@example.com"}]


def test_granted_purposes_with_a_subscription_type_become_communications(fake_http):
    newsletter = make_consent(
        purpose_id=2,
        purpose_name="Newsletter",
        legal_basis="consent",
        wording=NEWSLETTER_WORDING,
    )
    events = make_consent(
        purpose_id=3,
        purpose_name="Events",
        legal_basis="consent",
        granted=False,
        wording="Invite me to events",
    )
    partners = make_consent(
        purpose_id=4, purpose_name="Partners", legal_basis="consent", wording="Partners"
    )
    backend = make_backend(
        SUBSCRIPTION_TYPES={2: 111, "Events": "222", "E-book": 333}, FIELD_MAP={}
    )
    backend.deliver(make_lead(consents=(make_consent(), newsletter, events, partners)))

    consent = fake_http.json()["legalConsentOptions"]["consent"]
    assert consent == {
        "consentToProcess": True,
        "text": OFFER_WORDING,
        "communications": [
            # The offer purpose is mapped by name, the newsletter by id; the
            # refused "Events" and the unmapped "Partners" are not sent.
            {"value": True, "subscriptionTypeId": 333, "text": OFFER_WORDING},
            {"value": True, "subscriptionTypeId": 111, "text": NEWSLETTER_WORDING},
        ],
    }


def test_a_subscription_type_is_sent_once(fake_http):
    first = make_consent(purpose_id=2, purpose_name="News", legal_basis="consent")
    second = make_consent(purpose_id=3, purpose_name="Offers", legal_basis="consent")
    make_backend(SUBSCRIPTION_TYPES={2: 111, 3: 111}).deliver(
        make_lead(consents=(first, second))
    )
    communications = fake_http.json()["legalConsentOptions"]["consent"][
        "communications"
    ]
    assert [c["subscriptionTypeId"] for c in communications] == [111]


def test_without_an_offer_purpose_the_generic_text_is_sent(fake_http):
    newsletter = make_consent(
        purpose_id=2, purpose_name="Newsletter", legal_basis="consent"
    )
    refused_offer = make_consent(granted=False)
    make_backend().deliver(make_lead(consents=(refused_offer, newsletter)))
    consent = fake_http.json()["legalConsentOptions"]["consent"]
    assert consent["consentToProcess"] is True
    assert consent["text"] == GENERIC_CONSENT_TEXT


def test_context_leaves_out_what_is_unknown(fake_http):
    make_backend().deliver(make_lead(page_url="", page_title=""))
    assert "context" not in fake_http.json()


def test_timeouts_and_bases_are_configurable(fake_http):
    backend = make_backend(
        CONNECT_TIMEOUT=2,
        READ_TIMEOUT=4.5,
        FORMS_BASE="https://forms.hubspot.test/",
        API_BASE="https://api.hubspot.test",
        ACCESS_TOKEN=TOKEN,
    )
    backend.deliver(make_lead())
    backend.erase("ada@example.com")
    assert fake_http.calls[0]["url"] == (
        f"https://forms.hubspot.test/submissions/v3/integration/submit/{PORTAL_ID}/{FORM_GUID}"
    )
    assert fake_http.calls[1]["url"] == (
        "https://api.hubspot.test/crm/v3/objects/contacts/gdpr-delete"
    )
    for call in fake_http.calls:
        assert (call["connect_timeout"], call["read_timeout"]) == (2, 4.5)


# -- Erasure ------------------------------------------------------------------------
def test_erasure_needs_an_access_token():
    assert make_backend().supports_erasure is False
    assert make_backend(ACCESS_TOKEN="").supports_erasure is False
    assert make_backend(ACCESS_TOKEN=TOKEN).supports_erasure is True
    # The class-level flag stays a plain bool for code that inspects classes.
    assert HubSpotBackend.supports_erasure is False


def test_erase_calls_gdpr_delete_by_email(fake_http):
    fake_http.answers.append(http.HttpResponse(204, {}, b""))
    make_backend(ACCESS_TOKEN=TOKEN).erase("ada@example.com")

    call = fake_http.last
    assert call["url"] == GDPR_URL
    assert call.get("method", "POST") == "POST"
    assert call["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert call["headers"]["Content-Type"] == "application/json"
    assert fake_http.json() == {"idProperty": "email", "objectId": "ada@example.com"}


def test_the_token_is_never_sent_with_a_form_submission(fake_http):
    make_backend(ACCESS_TOKEN=TOKEN).deliver(make_lead())
    assert TOKEN not in json.dumps(fake_http.last["headers"])
    assert TOKEN.encode() not in fake_http.last["body"]


def test_erase_without_a_token_is_a_configuration_error(fake_http):
    message = configuration_error(make_backend().erase, "ada@example.com")
    assert f'{SETTING}["ACCESS_TOKEN"]' in message
    assert fake_http.calls == []


def test_erase_errors_pass_through_without_the_token(fake_http):
    fake_http.answers.append(PermanentCRMError("the CRM refused the lead", status=401))
    with pytest.raises(PermanentCRMError) as excinfo:
        make_backend(ACCESS_TOKEN=TOKEN).erase("ada@example.com")
    assert TOKEN not in str(excinfo.value)


# -- Configuration ------------------------------------------------------------------
@pytest.mark.parametrize("option", ["PORTAL_ID", "FORM_GUID"])
def test_required_options_name_the_setting(option):
    options = {"PORTAL_ID": PORTAL_ID, "FORM_GUID": FORM_GUID}
    del options[option]
    message = configuration_error(HubSpotBackend, "sales", options)
    assert f'{SETTING}["{option}"]' in message


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ({"PORTAL_ID": "12ab"}, "PORTAL_ID"),
        ({"PORTAL_ID": True}, "PORTAL_ID"),
        ({"FORM_GUID": "../../other"}, "FORM_GUID"),
        ({"FIELD_MAP": {"jobtitle": "jobtitle"}}, "FIELD_MAP"),
        ({"FIELD_MAP": {"email": "email"}}, "FIELD_MAP"),
        ({"FIELD_MAP": {"phone": "phone", "question": "phone"}}, "FIELD_MAP"),
        ({"FIELD_MAP": ["company"]}, "FIELD_MAP"),
        ({"SUBSCRIPTION_TYPES": {"Newsletter": "abc"}}, "SUBSCRIPTION_TYPES"),
        ({"READ_TIMEOUT": 0}, "READ_TIMEOUT"),
        ({"CONNECT_TIMEOUT": "5"}, "CONNECT_TIMEOUT"),
        ({"FORMS_BASE": "http://api.hsforms.com"}, "FORMS_BASE"),
        ({"API_BASE": "https://api.hubapi.com/?x=1"}, "API_BASE"),
    ],
)
def test_invalid_options_name_the_setting(options, setting):
    assert f'{SETTING}["{setting}"]' in configuration_error(make_backend, **options)


def test_a_misspelled_option_is_reported():
    message = configuration_error(make_backend, PORTALID=PORTAL_ID)
    assert f'{SETTING}["PORTALID"]' in message


@pytest.mark.parametrize(
    "token", [f"{TOKEN}\r\nX-Injected: 1", f"Bearer {TOKEN}", TOKEN.encode()]
)
def test_a_malformed_token_is_refused_without_being_shown(token):
    message = configuration_error(make_backend, ACCESS_TOKEN=token)
    assert f'{SETTING}["ACCESS_TOKEN"]' in message
    assert TOKEN not in message


def test_configuration_errors_are_not_runtime_errors():
    configuration_error(make_backend, PORTAL_ID="nope")  # and not a CRMError
