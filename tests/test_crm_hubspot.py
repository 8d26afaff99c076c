"""HubSpot backend: the Forms submission payload (never a consent the person did
not give), subscription updates and GDPR delete, HTTP mocked."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from wagtail_leadgen.crm import build_backend, http
from wagtail_leadgen.crm.base import (
    ConsentItem,
    LeadPayload,
    PermanentCRMError,
    RequestItem,
    UnsupportedFeature,
)
from wagtail_leadgen.crm.hubspot import HubSpotBackend

from .crm_payloads import (
    change_payload,
    configuration_error,
    consent_item,
    every_answer,
    lead_payload,
    withdrawal,
)
from .fake_http import FakeHTTP, json_response

PORTAL_ID = "12345678"
FORM_GUID = "78c2891f-ebdd-44c0-bd94-15c012bbbfbf"
TOKEN = "pat-eu1-0000aaaa-1111-bbbb-2222-cccc3333dddd"
SUBMIT_URL = (
    f"https://api.hsforms.com/submissions/v3/integration/submit/{PORTAL_ID}/{FORM_GUID}"
)
GDPR_URL = "https://api.hubapi.com/crm/v3/objects/contacts/gdpr-delete"
SETTING = 'WAGTAIL_LEADGEN["CRM_BACKENDS"]["sales"]["OPTIONS"]'

STATUS_URL = (
    "https://api.hubapi.com/communication-preferences/v4/statuses/ada%40example.com"
)

SUBMITTED_AT = datetime(2026, 3, 2, 9, 30, 15, 250000, tzinfo=UTC)
REQUEST_WORDING = (
    "We use your email address to send you the e-book.\n\n"
    "<p>We email you the e-book you asked for.</p>"
)
NEWSLETTER_WORDING = (
    "Send me the newsletter\n\n<p>Once a month, unsubscribe anytime.</p>"
)


def make_request(**kwargs) -> RequestItem:
    kwargs.setdefault("name", "Sending the e-book")
    kwargs.setdefault("legal_basis", "contract")
    kwargs.setdefault("wording", REQUEST_WORDING)
    kwargs.setdefault("wording_sha256", "1" * 64)
    kwargs.setdefault("version", 9)
    return RequestItem(**kwargs)


def make_consent(**kwargs) -> ConsentItem:
    kwargs.setdefault("purpose_id", 2)
    kwargs.setdefault("purpose_name", "Newsletter")
    kwargs.setdefault("legal_basis", "consent")
    kwargs.setdefault("wording", NEWSLETTER_WORDING)
    kwargs.setdefault("decided_at", SUBMITTED_AT)
    if not kwargs.get("granted", True):
        kwargs.setdefault("decision", "refused")
    return consent_item(**kwargs)


def make_lead(**kwargs) -> LeadPayload:
    kwargs.setdefault("submitted_at", SUBMITTED_AT)
    kwargs.setdefault("consents", (make_consent(),))
    kwargs.setdefault("admin_url", "https://www.example.com/admin/leads/5/")
    kwargs.setdefault("request", make_request())
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
    result = make_backend(SUBSCRIPTION_TYPES={"Newsletter": 4321}).deliver(make_lead())

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
                "consentToProcess": False,
                "text": REQUEST_WORDING,
                "communications": [
                    {
                        "value": True,
                        "subscriptionTypeId": 4321,
                        "text": NEWSLETTER_WORDING,
                    }
                ],
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
    newsletter = make_consent()
    events = make_consent(
        purpose_id=3, purpose_name="Events", granted=False, wording="Invite me"
    )
    pending = make_consent(
        purpose_id=5,
        purpose_name="Webinars",
        granted=False,
        decision="pending",
        wording="Webinars",
    )
    partners = make_consent(purpose_id=4, purpose_name="Partners", wording="Partners")
    offers = make_consent(purpose_id=6, purpose_name="Offers", wording="Offers")
    backend = make_backend(
        SUBSCRIPTION_TYPES={2: 111, "Events": "222", "Webinars": 444, "Offers": 333},
        FIELD_MAP={},
    )
    backend.deliver(make_lead(consents=(newsletter, events, pending, partners, offers)))

    consent = fake_http.json()["legalConsentOptions"]["consent"]
    assert consent == {
        "consentToProcess": False,
        "text": REQUEST_WORDING,
        "communications": [
            # The newsletter is mapped by id, "Offers" by name; the refused
            # "Events", the unconfirmed "Webinars" and the unmapped
            # "Partners" are not sent.
            {"value": True, "subscriptionTypeId": 111, "text": NEWSLETTER_WORDING},
            {"value": True, "subscriptionTypeId": 333, "text": "Offers"},
        ],
    }


def test_a_subscription_type_is_sent_once(fake_http):
    first = make_consent(purpose_id=2, purpose_name="News")
    second = make_consent(purpose_id=3, purpose_name="Offers")
    make_backend(SUBSCRIPTION_TYPES={2: 111, 3: 111}).deliver(
        make_lead(consents=(first, second))
    )
    communications = fake_http.json()["legalConsentOptions"]["consent"][
        "communications"
    ]
    assert [c["subscriptionTypeId"] for c in communications] == [111]


@pytest.mark.parametrize(
    "consents",
    [
        (),
        (make_consent(granted=False),),
        (make_consent(granted=False, decision="pending"),),
        (make_consent(granted=False, decision="withdrawn"),),
        (make_consent(purpose_name="Unmapped", purpose_id=9),),
    ],
    ids=["no-purpose", "refused", "pending", "withdrawn", "no-subscription-type"],
)
def test_without_a_granted_subscription_nothing_is_claimed(fake_http, consents):
    make_backend(SUBSCRIPTION_TYPES={"Newsletter": 4321}).deliver(
        make_lead(consents=consents)
    )
    body = fake_http.last["body"].decode("utf-8")
    # No consent object, no "consent to process", no text the person did not
    # see: HubSpot's Forms API cannot express a request's own basis.
    assert "legalConsentOptions" not in fake_http.json()
    assert "consentToProcess" not in body
    assert NEWSLETTER_WORDING not in body and "Unmapped" not in body


def test_consent_to_process_is_never_true(fake_http):
    backend = make_backend(SUBSCRIPTION_TYPES={2: 111}, REQUEST_SUBSCRIPTION_TYPE=7)
    for lead in (
        make_lead(),
        make_lead(consents=()),
        make_lead(request=None),
        make_lead(consents=(), request=make_request(legal_basis="legitimate_interest")),
    ):
        backend.deliver(lead)
    for index in range(len(fake_http.calls)):
        legal = fake_http.json(index).get("legalConsentOptions", {})
        assert legal.get("consent", {}).get("consentToProcess", False) is False


def test_without_a_request_processing_no_text_is_made_up(fake_http):
    make_backend(SUBSCRIPTION_TYPES={2: 111}).deliver(make_lead(request=None))
    consent = fake_http.json()["legalConsentOptions"]["consent"]
    assert "text" not in consent
    assert consent["communications"][0]["text"] == NEWSLETTER_WORDING


def test_a_request_on_legitimate_interest_is_sent_as_that_basis_when_configured(
    fake_http,
):
    request = make_request(
        legal_basis="legitimate_interest",
        legitimate_interest="Answering the questions prospects ask us",
    )
    make_backend(REQUEST_SUBSCRIPTION_TYPE="4400").deliver(
        make_lead(consents=(), request=request)
    )
    assert fake_http.json()["legalConsentOptions"] == {
        "legitimateInterest": {
            "value": True,
            "subscriptionTypeId": 4400,
            "legalBasis": "LEAD",
            "text": REQUEST_WORDING,
        }
    }


@pytest.mark.parametrize("basis", ["contract", "legal_obligation"])
def test_a_request_on_another_basis_is_not_sent_as_legitimate_interest(
    fake_http, basis
):
    make_backend(REQUEST_SUBSCRIPTION_TYPE=4400).deliver(
        make_lead(consents=(), request=make_request(legal_basis=basis))
    )
    assert "legalConsentOptions" not in fake_http.json()


def test_a_granted_consent_wins_over_the_request_basis(fake_http):
    request = make_request(legal_basis="legitimate_interest")
    make_backend(SUBSCRIPTION_TYPES={2: 111}, REQUEST_SUBSCRIPTION_TYPE=4400).deliver(
        make_lead(request=request)
    )
    assert list(fake_http.json()["legalConsentOptions"]) == ["consent"]


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


# -- Consent changes -----------------------------------------------------------------
def test_updates_need_an_access_token(fake_http):
    assert make_backend().supports_update is False
    assert make_backend(ACCESS_TOKEN=TOKEN).supports_update is True
    with pytest.raises(UnsupportedFeature) as caught:
        make_backend(SUBSCRIPTION_TYPES={2: 111}).update(change_payload())
    assert f'{SETTING}["ACCESS_TOKEN"]' in str(caught.value)
    assert fake_http.calls == []


def test_a_withdrawal_unsubscribes_the_person_from_the_purpose(fake_http):
    fake_http.answers.append(json_response({"status": "COMPLETE", "results": []}))
    backend = make_backend(ACCESS_TOKEN=TOKEN, SUBSCRIPTION_TYPES={"Newsletter": 111})

    result = backend.update(change_payload(withdrawal()))

    call = fake_http.last
    assert call["url"] == STATUS_URL
    assert call.get("method", "POST") == "POST"
    assert call["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert fake_http.json() == {
        "channel": "EMAIL",
        "statusState": "NOT_SUBSCRIBED",
        "subscriptionId": 111,
        "legalBasis": "CONSENT_WITH_NOTICE",
        "legalBasisExplanation": "Consent withdrawn by the person on 2026-03-05 10:00 UTC.",
    }
    assert result.detail == "subscription status updated in HubSpot"


def test_a_grant_subscribes_with_the_exact_wording(fake_http):
    grant = withdrawal(granted=True, decision="granted", wording=NEWSLETTER_WORDING)
    make_backend(ACCESS_TOKEN=TOKEN, SUBSCRIPTION_TYPES={2: 111}).update(
        change_payload(grant)
    )
    body = fake_http.json()
    assert body["statusState"] == "SUBSCRIBED"
    assert body["legalBasisExplanation"] == (
        f"Consent given on 2026-03-05 10:00 UTC to: {NEWSLETTER_WORDING}"
    )


def test_a_purpose_without_a_subscription_type_needs_no_update():
    backend = make_backend(SUBSCRIPTION_TYPES={"Newsletter": 111})
    assert backend.needs_update(withdrawal()) is True
    assert (
        backend.needs_update(withdrawal(purpose_name="Partners", purpose_id=9)) is False
    )


def test_the_preferences_api_version_is_configurable(fake_http):
    make_backend(
        ACCESS_TOKEN=TOKEN,
        SUBSCRIPTION_TYPES={2: 111},
        PREFERENCES_API_VERSION="2026-03",
        API_BASE="https://api.hubspot.test",
    ).update(change_payload())
    assert fake_http.last["url"] == (
        "https://api.hubspot.test/communication-preferences/2026-03/statuses/"
        "ada%40example.com"
    )


@pytest.mark.parametrize(
    "answer",
    [
        {"status": "CANCELED", "results": []},
        {"status": "COMPLETE", "errors": [{"message": "ada@example.com is unknown"}]},
    ],
)
def test_a_change_hubspot_did_not_apply_is_an_error_without_the_address(
    fake_http, answer
):
    fake_http.answers.append(json_response(answer))
    backend = make_backend(ACCESS_TOKEN=TOKEN, SUBSCRIPTION_TYPES={2: 111})
    with pytest.raises(PermanentCRMError) as caught:
        backend.update(change_payload())
    assert "ada@example.com" not in str(caught.value)
    assert caught.value.backend == "sales"


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


def test_a_retried_erasure_finding_the_contact_gone_counts_as_erased(fake_http):
    fake_http.answers.append(PermanentCRMError("HTTP 404", status=404))

    assert make_backend(ACCESS_TOKEN=TOKEN).erase("ada@example.com") is None
    assert fake_http.last["url"] == GDPR_URL


def test_an_erasure_refused_otherwise_is_still_a_failure(fake_http):
    fake_http.answers.append(PermanentCRMError("HTTP 403", status=403))

    with pytest.raises(PermanentCRMError) as caught:
        make_backend(ACCESS_TOKEN=TOKEN).erase("ada@example.com")

    assert caught.value.status == 403


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
        ({"REQUEST_SUBSCRIPTION_TYPE": "one to one"}, "REQUEST_SUBSCRIPTION_TYPE"),
        ({"REQUEST_SUBSCRIPTION_TYPE": True}, "REQUEST_SUBSCRIPTION_TYPE"),
        ({"PREFERENCES_API_VERSION": "v3"}, "PREFERENCES_API_VERSION"),
        ({"PREFERENCES_API_VERSION": "2026-3"}, "PREFERENCES_API_VERSION"),
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
