"""Salesforce backend: the Web-to-Lead form post, REST consent updates and
erasure, HTTP mocked."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from wagtail_leadgen.crm import build_backend, http
from wagtail_leadgen.crm.base import (
    ConsentItem,
    LeadPayload,
    ManualActionNeeded,
    PermanentCRMError,
    TransientCRMError,
)
from wagtail_leadgen.crm.salesforce import PLACEHOLDER, SalesforceBackend

from .crm_payloads import (
    change_payload,
    configuration_error,
    consent_item,
    every_answer,
    lead_payload,
    withdrawal,
)
from .fake_http import FakeHTTP, json_response

ORG_ID = "00D5g000004XyZa"
WEB_TO_LEAD = "https://webto.salesforce.com/servlet/servlet.WebToLead?encoding=UTF-8"
INSTANCE = "https://example.my.salesforce.com"
TOKEN = "00D5g000004XyZa!AQ0AQExampleExampleExample.Example_Token"

SETTING = 'WAGTAIL_LEADGEN["CRM_BACKENDS"]["sales"]["OPTIONS"]'


def make_consent(**kwargs) -> ConsentItem:
    return consent_item(**kwargs)


def make_lead(**kwargs) -> LeadPayload:
    kwargs.setdefault("consents", (make_consent(),))
    return lead_payload(**kwargs)


def make_backend(alias: str = "sales", **options) -> SalesforceBackend:
    options.setdefault("ORG_ID", ORG_ID)
    return SalesforceBackend(alias, options)


def rest_backend(**options) -> SalesforceBackend:
    return make_backend(INSTANCE_URL=INSTANCE, ACCESS_TOKEN=TOKEN, **options)


@pytest.fixture
def fake_http(monkeypatch) -> FakeHTTP:
    return FakeHTTP.install(monkeypatch)


# -- Delivery -----------------------------------------------------------------------
def test_deliver_posts_a_web_to_lead_form(fake_http):
    result = make_backend().deliver(make_lead())

    call = fake_http.last
    assert call["url"] == WEB_TO_LEAD
    assert call["method"] == "POST"
    assert call["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert (call["connect_timeout"], call["read_timeout"]) == (
        http.DEFAULT_CONNECT_TIMEOUT,
        http.DEFAULT_READ_TIMEOUT,
    )
    assert fake_http.form() == [
        ("oid", ORG_ID),
        ("email", "ada@example.com"),
        ("first_name", "Ada"),
        ("last_name", "Lovelace"),
        ("company", "Analytical Engines"),
        ("lead_source", "Web"),
    ]
    assert result.remote_id == ""


def test_backend_is_built_from_its_dotted_path(fake_http):
    backend = build_backend(
        "sales",
        {
            "BACKEND": "wagtail_leadgen.crm.salesforce.SalesforceBackend",
            "OPTIONS": {"ORG_ID": ORG_ID},
        },
    )
    backend.deliver(make_lead())
    assert fake_http.last["url"] == WEB_TO_LEAD


def test_body_is_utf8_form_encoded(fake_http):
    make_backend().deliver(
        make_lead(answers={"last_name": "Lövelace & Co", "company": "É"})
    )
    body = fake_http.last["body"]
    assert b"last_name=L%C3%B6velace+%26+Co" in body
    assert ("company", "É") in fake_http.form()


def test_default_field_map_covers_every_answer_kind(fake_http):
    make_backend().deliver(make_lead(answers=every_answer()))
    assert dict(fake_http.form()) == {
        "oid": ORG_ID,
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company": "Analytical Engines",
        "title": "Analyst",
        "phone": "+44 20 7946 0000",
        "country": "GB",
        "description": "Can I get\ntwo copies?",
        "lead_source": "Web",
    }


def test_only_answers_mapped_in_field_map_are_sent(fake_http):
    backend = make_backend(
        FIELD_MAP={"last_name": "last_name", "phone": "MobilePhone__c"},
        LEAD_SOURCE="Partner Referral",
    )
    lead = make_lead(answers=every_answer(question="Something private"))
    backend.deliver(lead)
    assert fake_http.form() == [
        ("oid", ORG_ID),
        ("email", "ada@example.com"),
        ("last_name", "Lovelace"),
        ("MobilePhone__c", "+44 20 7946 0000"),
        # Salesforce requires a company: the form did not send one.
        ("company", PLACEHOLDER),
        ("lead_source", "Partner Referral"),
    ]
    body = fake_http.last["body"].decode("ascii")
    assert "Ada" not in body
    assert "private" not in body


def test_required_lead_fields_get_a_placeholder(fake_http):
    make_backend().deliver(make_lead(answers={"first_name": "Ada", "last_name": " "}))
    form = dict(fake_http.form())
    assert form["last_name"] == "[not provided]"
    assert form["company"] == "[not provided]"
    assert form["first_name"] == "Ada"


def test_lead_source_can_be_left_out(fake_http):
    make_backend(LEAD_SOURCE=None).deliver(make_lead())
    assert "lead_source" not in dict(fake_http.form())


def test_extra_and_consent_fields(fake_http):
    newsletter = make_consent(
        purpose_id=2, purpose_name="Newsletter", legal_basis="consent"
    )
    events = make_consent(
        purpose_id=3, purpose_name="Events", legal_basis="consent", granted=False
    )
    backend = make_backend(
        EXTRA_FIELDS={"Campaign_ID": "7015g000000AbCd", "00N5g00000Abcde": 1},
        CONSENT_FIELDS={2: "Newsletter_Opt_In__c", "Events": "Events_Opt_In__c"},
    )
    backend.deliver(make_lead(consents=(make_consent(), newsletter, events)))
    form = dict(fake_http.form())
    assert form["Campaign_ID"] == "7015g000000AbCd"
    assert form["00N5g00000Abcde"] == "1"
    assert form["Newsletter_Opt_In__c"] == "1"
    # A refused purpose is not marked.
    assert "Events_Opt_In__c" not in form


def test_values_longer_than_the_lead_field_are_shortened(fake_http):
    make_backend().deliver(make_lead(answers={"last_name": "x" * 100, "company": "Co"}))
    last_name = dict(fake_http.form())["last_name"]
    assert len(last_name) == 80
    assert last_name.endswith("…")


def test_the_email_is_never_shortened(fake_http):
    email = "a" * 90 + "@example.com"
    make_backend().deliver(make_lead(email=email))
    assert dict(fake_http.form())["email"] == email


# -- Erasure ------------------------------------------------------------------------
def test_erasure_needs_instance_url_and_token():
    assert make_backend().supports_erasure is False
    assert rest_backend().supports_erasure is True
    assert SalesforceBackend.supports_erasure is False


@pytest.mark.parametrize(
    ("options", "missing"),
    [
        ({"INSTANCE_URL": INSTANCE}, "ACCESS_TOKEN"),
        ({"ACCESS_TOKEN": TOKEN}, "INSTANCE_URL"),
    ],
)
def test_half_configured_erasure_is_reported(options, missing):
    message = configuration_error(make_backend, **options)
    assert f'{SETTING}["{missing}"]' in message
    assert TOKEN not in message


def test_erase_queries_lead_ids_then_deletes_each(fake_http):
    fake_http.answers += [
        json_response(
            {
                "totalSize": 2,
                "done": True,
                "records": [
                    {
                        "attributes": {
                            "type": "Lead",
                            "url": "/services/data/v62.0/sobjects/Lead/00Q5g00000AbCdEEAV",
                        },
                        "Id": "00Q5g00000AbCdEEAV",
                    },
                    {"attributes": {"type": "Lead"}, "Id": "00Q5g00000AbCdF"},
                ],
            }
        ),
        http.HttpResponse(204, {}, b""),
        http.HttpResponse(204, {}, b""),
    ]
    rest_backend().erase("o'brien@example.com")

    query, first, second = fake_http.calls
    parts = urlsplit(query["url"])
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        f"{INSTANCE}/services/data/v62.0/query/"
    )
    assert parse_qsl(parts.query) == [
        ("q", "SELECT Id FROM Lead WHERE Email = 'o\\'brien@example.com'")
    ]
    assert query["method"] == "GET"
    assert query["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert query["headers"]["Sforce-Query-Options"] == "batchSize=200"

    assert (
        first["url"]
        == f"{INSTANCE}/services/data/v62.0/sobjects/Lead/00Q5g00000AbCdEEAV"
    )
    assert (
        second["url"] == f"{INSTANCE}/services/data/v62.0/sobjects/Lead/00Q5g00000AbCdF"
    )
    for call in (first, second):
        assert call["method"] == "DELETE"
        assert call["body"] == b""
        assert call["headers"]["Authorization"] == f"Bearer {TOKEN}"


def test_erase_follows_next_records_url(fake_http):
    fake_http.answers += [
        json_response(
            {
                "done": False,
                "records": [{"Id": "00Q5g00000AbCdE"}],
                "nextRecordsUrl": "/services/data/v62.0/query/01gD0000002HU6KIAW-200",
            }
        ),
        json_response({"done": True, "records": [{"Id": "00Q5g00000AbCdF"}]}),
    ]
    rest_backend().erase("ada@example.com")
    urls = [call["url"] for call in fake_http.calls]
    assert urls[1] == f"{INSTANCE}/services/data/v62.0/query/01gD0000002HU6KIAW-200"
    assert urls[2:] == [
        f"{INSTANCE}/services/data/v62.0/sobjects/Lead/00Q5g00000AbCdE",
        f"{INSTANCE}/services/data/v62.0/sobjects/Lead/00Q5g00000AbCdF",
    ]


def test_erase_without_leads_deletes_nothing(fake_http):
    fake_http.answers.append(
        json_response({"totalSize": 0, "done": True, "records": []})
    )
    rest_backend().erase("ada@example.com")
    assert len(fake_http.calls) == 1


def test_erase_treats_an_already_deleted_lead_as_done(fake_http):
    fake_http.answers += [
        json_response({"done": True, "records": [{"Id": "00Q5g00000AbCdE"}]}),
        PermanentCRMError("the CRM refused the lead", status=404),
    ]
    rest_backend().erase("ada@example.com")


def test_erase_refuses_a_next_page_on_another_host(fake_http):
    fake_http.answers.append(
        json_response(
            {"done": False, "records": [], "nextRecordsUrl": "https://evil.example/x"}
        )
    )
    with pytest.raises(PermanentCRMError):
        rest_backend().erase("ada@example.com")
    assert len(fake_http.calls) == 1


def test_erase_refuses_an_unexpected_record_id(fake_http):
    fake_http.answers.append(
        json_response({"done": True, "records": [{"Id": "../../sobjects/Account/1"}]})
    )
    with pytest.raises(PermanentCRMError):
        rest_backend().erase("ada@example.com")
    assert len(fake_http.calls) == 1


def test_an_expired_token_is_a_clear_permanent_error(fake_http):
    fake_http.answers.append(PermanentCRMError("the CRM refused the lead", status=401))
    with pytest.raises(PermanentCRMError) as excinfo:
        rest_backend().erase("ada@example.com")
    assert excinfo.value.status == 401
    assert "access token" in str(excinfo.value)
    assert TOKEN not in str(excinfo.value)


def test_erase_transient_errors_pass_through(fake_http):
    error = TransientCRMError("the CRM failed", status=503)
    fake_http.answers.append(error)
    with pytest.raises(TransientCRMError) as excinfo:
        rest_backend().erase("ada@example.com")
    assert excinfo.value is error


def test_erase_without_credentials_is_a_configuration_error(fake_http):
    configuration_error(make_backend().erase, "ada@example.com")
    assert fake_http.calls == []


# -- Configuration ------------------------------------------------------------------
# -- Consent changes ------------------------------------------------------------------
CONSENT_FIELDS = {"Newsletter": "Newsletter_Opt_In__c", 3: "Events_Opt_In__c"}
LEAD_A = "00Q5g00000AbCdEEAV"
LEAD_B = "00Q5g00000AbCdF"


def leads_found(*records) -> http.HttpResponse:
    return json_response(
        {"totalSize": len(records), "done": True, "records": list(records)}
    )


def test_updates_need_instance_url_and_token():
    assert make_backend().supports_update is False
    assert rest_backend().supports_update is True


def test_a_withdrawal_unticks_the_purpose_on_every_lead_and_opts_out_of_email(
    fake_http,
):
    fake_http.answers += [
        leads_found(
            {"Id": LEAD_A, "IsConverted": False}, {"Id": LEAD_B, "IsConverted": False}
        ),
        http.HttpResponse(204, {}, b""),
        http.HttpResponse(204, {}, b""),
    ]
    backend = rest_backend(CONSENT_FIELDS=CONSENT_FIELDS)

    result = backend.update(change_payload(withdrawal()))

    query, first, second = fake_http.calls
    assert parse_qsl(urlsplit(query["url"]).query) == [
        ("q", "SELECT Id, IsConverted FROM Lead WHERE Email = 'ada@example.com'")
    ]
    assert [first["url"], second["url"]] == [
        f"{INSTANCE}/services/data/v62.0/sobjects/Lead/{LEAD_A}",
        f"{INSTANCE}/services/data/v62.0/sobjects/Lead/{LEAD_B}",
    ]
    for index, call in ((1, first), (2, second)):
        assert call["method"] == "PATCH"
        assert call["headers"]["Authorization"] == f"Bearer {TOKEN}"
        assert call["headers"]["Content-Type"] == "application/json"
        assert fake_http.json(index) == {
            "Newsletter_Opt_In__c": False,
            "HasOptedOutOfEmail": True,
        }
    assert result.detail == "2 Lead(s) updated"


def test_email_stays_allowed_while_another_purpose_with_a_checkbox_is_granted(
    fake_http,
):
    fake_http.answers.append(leads_found({"Id": LEAD_A, "IsConverted": False}))
    events = consent_item(purpose_id=3, purpose_name="Events", legal_basis="consent")
    partners = consent_item(purpose_id=4, purpose_name="Partners")
    change = withdrawal()
    rest_backend(CONSENT_FIELDS=CONSENT_FIELDS).update(
        change_payload(change, consents=(change, events, partners))
    )
    assert fake_http.json() == {
        "Newsletter_Opt_In__c": False,
        "HasOptedOutOfEmail": False,
    }


def test_a_grant_ticks_the_purpose_and_allows_email_again(fake_http):
    fake_http.answers.append(leads_found({"Id": LEAD_A, "IsConverted": False}))
    grant = withdrawal(granted=True, decision="granted")
    rest_backend(CONSENT_FIELDS=CONSENT_FIELDS).update(change_payload(grant))
    assert fake_http.json() == {
        "Newsletter_Opt_In__c": True,
        "HasOptedOutOfEmail": False,
    }


def test_the_email_opt_out_field_can_be_left_alone(fake_http):
    fake_http.answers.append(leads_found({"Id": LEAD_A, "IsConverted": False}))
    rest_backend(CONSENT_FIELDS=CONSENT_FIELDS, EMAIL_OPT_OUT_FIELD=None).update(
        change_payload()
    )
    assert fake_http.json() == {"Newsletter_Opt_In__c": False}


def test_a_purpose_without_a_checkbox_needs_no_update():
    backend = rest_backend(CONSENT_FIELDS=CONSENT_FIELDS)
    assert backend.needs_update(withdrawal()) is True
    assert backend.needs_update(withdrawal(purpose_id=4, purpose_name="X")) is False


def test_no_lead_with_the_address_is_nothing_to_update(fake_http):
    fake_http.answers.append(leads_found())
    result = rest_backend(CONSENT_FIELDS=CONSENT_FIELDS).update(change_payload())
    assert len(fake_http.calls) == 1
    assert result.detail == "no Lead with this address in Salesforce"


def test_a_converted_lead_needs_manual_action_after_the_others_are_updated(
    fake_http,
):
    fake_http.answers.append(
        leads_found(
            {"Id": LEAD_A, "IsConverted": True}, {"Id": LEAD_B, "IsConverted": False}
        )
    )
    with pytest.raises(ManualActionNeeded) as caught:
        rest_backend(CONSENT_FIELDS=CONSENT_FIELDS).update(change_payload())
    assert [call["method"] for call in fake_http.calls] == ["GET", "PATCH"]
    assert fake_http.calls[1]["url"].endswith(LEAD_B)
    assert "1 Lead(s) with this address were converted" in str(caught.value)
    assert "ada@example.com" not in str(caught.value)
    assert caught.value.backend == "sales"


def test_consent_fields_must_be_api_names_when_changes_use_the_rest_api():
    message = configuration_error(
        rest_backend, CONSENT_FIELDS={"Newsletter": "00N5g00000Abc12"}
    )
    assert f'{SETTING}["CONSENT_FIELDS"]["Newsletter"]' in message
    assert "API name" in message
    # Web-to-Lead alone may use the form's field id.
    make_backend(CONSENT_FIELDS={"Newsletter": "00N5g00000Abc12"})


def test_org_id_is_required():
    assert f'{SETTING}["ORG_ID"]' in configuration_error(SalesforceBackend, "sales", {})


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ({"ORG_ID": "12345"}, "ORG_ID"),
        ({"FIELD_MAP": {"title": "title"}}, "FIELD_MAP"),
        ({"FIELD_MAP": {"phone": "email"}}, "FIELD_MAP"),
        ({"FIELD_MAP": {"phone": "phone", "question": "phone"}}, "FIELD_MAP"),
        ({"LEAD_SOURCE": 3}, "LEAD_SOURCE"),
        ({"EXTRA_FIELDS": {"oid": "00D000000000001"}}, "EXTRA_FIELDS"),
        ({"EXTRA_FIELDS": {"last_name": "Smith"}}, "EXTRA_FIELDS"),
        ({"EXTRA_FIELDS": {"Flag__c": None}}, "EXTRA_FIELDS"),
        ({"CONSENT_FIELDS": {2: "company"}}, "CONSENT_FIELDS"),
        ({"URL": "http://webto.salesforce.com/servlet/servlet.WebToLead"}, "URL"),
        ({"READ_TIMEOUT": -1}, "READ_TIMEOUT"),
        ({"API_VERSION": "62"}, "API_VERSION"),
        ({"EMAIL_OPT_OUT_FIELD": "Has Opted Out"}, "EMAIL_OPT_OUT_FIELD"),
        (
            {"INSTANCE_URL": "example.my.salesforce.com", "ACCESS_TOKEN": TOKEN},
            "INSTANCE_URL",
        ),
    ],
)
def test_invalid_options_name_the_setting(options, setting):
    assert f'{SETTING}["{setting}"]' in configuration_error(make_backend, **options)


@pytest.mark.parametrize("token", [f"{TOKEN}\nX-Injected: 1", f"Bearer {TOKEN}", 12345])
def test_a_malformed_token_is_refused_without_being_shown(token):
    message = configuration_error(
        make_backend, INSTANCE_URL=INSTANCE, ACCESS_TOKEN=token
    )
    assert f'{SETTING}["ACCESS_TOKEN"]' in message
    assert TOKEN not in message


def test_configuration_errors_are_not_runtime_errors():
    configuration_error(make_backend, ORG_ID="nope")  # and not a CRMError
