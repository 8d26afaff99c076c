"""The webhook backend: Standard Webhooks v1 signing, event format, HTTP
classification against a real (fake) server, configuration and SSRF refusal.

No database: leads are built by hand; the receiver is ``tests.fake_crm``.
"""

import json
import logging
import socket
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.fake_crm import FakeCRM, verify_standard_webhook
from wagtail_leadgen.crm import build_backend
from wagtail_leadgen.crm.base import (
    ConsentItem,
    CRMConfigurationError,
    CRMError,
    DestinationGone,
    LeadPayload,
    PermanentCRMError,
    TransientCRMError,
)
from wagtail_leadgen.crm.webhook import WebhookBackend, sign

from .crm_payloads import (
    change_payload,
    configuration_error,
    consent_item,
    lead_payload,
    withdrawal,
)

# 32 random-looking bytes, base64: a valid Standard Webhooks secret.
SECRET = "whsec_3q2+7wEjRWeJq83vASNFZ4mrze8BI0VniavN7wEjRWc="
SECRET_PATH = 'WAGTAIL_LEADGEN["CRM_BACKENDS"]["hooks"]["OPTIONS"]["SECRET"]'
URL_PATH = 'WAGTAIL_LEADGEN["CRM_BACKENDS"]["hooks"]["OPTIONS"]["URL"]'
EMAIL = "ada@example.com"


def make_consent(**kwargs) -> ConsentItem:
    kwargs.setdefault("purpose_id", 7)
    kwargs.setdefault("purpose_name", "Newsletter")
    kwargs.setdefault("legal_basis", "consent")
    kwargs.setdefault("wording", "Send me the monthly newsletter.")
    kwargs.setdefault("wording_sha256", "ab" * 32)
    kwargs.setdefault("decided_at", datetime(2025, 3, 4, 10, 0, 1, tzinfo=UTC))
    return consent_item(**kwargs)


def make_lead(**kwargs) -> LeadPayload:
    kwargs.setdefault("idempotency_key", str(uuid.uuid4()))
    kwargs.setdefault("delivery_id", 11)
    kwargs.setdefault("submission_id", 42)
    kwargs.setdefault("submitted_at", datetime(2025, 3, 4, 10, 0, 0, tzinfo=UTC))
    kwargs.setdefault("email", EMAIL)
    kwargs.setdefault("answers", {"first_name": "Ada", "company": "Analytical Engines"})
    kwargs.setdefault("consents", (make_consent(),))
    kwargs.setdefault("page_id", 5)
    kwargs.setdefault("page_title", "Whitepaper")
    kwargs.setdefault("page_url", "https://www.example.com/whitepaper/")
    kwargs.setdefault("utm", {"utm_source": "newsletter"})
    kwargs.setdefault("referrer", "https://search.example/")
    return lead_payload(**kwargs)


def make_backend(url: str, **options) -> WebhookBackend:
    """A backend for the fake CRM: plain http and loopback allowed, short timeouts."""
    options.setdefault("SECRET", SECRET)
    options.setdefault("ALLOW_HTTP", True)
    options.setdefault("ALLOW_PRIVATE_ADDRESSES", True)
    options.setdefault("CONNECT_TIMEOUT", 1)
    options.setdefault("READ_TIMEOUT", 2)
    return WebhookBackend("hooks", {"URL": url, **options})


@pytest.fixture
def crm():
    with FakeCRM() as server:
        yield server


# -- Signature ----------------------------------------------------------------------
def test_sign_reproduces_the_specification_vector():
    # standard-webhooks/standard-webhooks, libraries/python/tests/test_webhooks.py
    # (test_sign_function), the vector every reference library is tested with.
    signature = sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_sign_depends_on_every_signed_part():
    args = (SECRET, "msg_1", 1700000000, b"{}")
    reference = sign(*args)
    assert sign(SECRET, "msg_2", 1700000000, b"{}") != reference
    assert sign(SECRET, "msg_1", 1700000001, b"{}") != reference
    assert sign(SECRET, "msg_1", 1700000000, b"{ }") != reference
    assert sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", *args[1:]) != reference


def test_sign_refuses_an_id_with_a_dot():
    with pytest.raises(ValueError):
        sign(SECRET, "a.b", 1700000000, b"{}")


# -- A real delivery, verified at the receiver ---------------------------------------
def test_delivery_is_signed_and_verifiable_by_the_receiver(crm):
    lead = make_lead()
    before = int(time.time())

    result = make_backend(crm.url).deliver(lead)

    assert result.remote_id == "crm-1"
    [request] = crm.requests
    assert request.method == "POST"
    assert request.path == "/webhook"
    assert request.header("content-type") == "application/json"
    assert request.header("user-agent") == "wagtail-leadgen"
    assert request.webhook_id == lead.idempotency_key
    assert before <= int(request.header("webhook-timestamp")) <= int(time.time())
    event = verify_standard_webhook(SECRET, request)
    assert event["id"] == lead.idempotency_key
    # A receiver with another secret, or a tampered body, must fail.
    with pytest.raises(AssertionError):
        verify_standard_webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", request)
    request.body = request.body.replace(b"ada@", b"eve@")
    with pytest.raises(AssertionError):
        verify_standard_webhook(SECRET, request)


def test_event_format(crm):
    paris = timezone(timedelta(hours=2))
    lead = make_lead(
        idempotency_key="0b6f6c1e-8f7e-4d55-9a43-3c1b1c0e2b7a",
        submitted_at=datetime(2025, 3, 4, 12, 0, 0, 250000, tzinfo=paris),
        consents=(
            make_consent(),
            make_consent(
                purpose_id=8,
                purpose_name="Partners",
                granted=False,
                wording="Share my details with partners.",
                wording_sha256="cd" * 32,
                version=None,
                decision="refused",
            ),
        ),
    )

    make_backend(crm.url, FIELDS=["company", "first_name"]).deliver(lead)

    [request] = crm.requests
    assert request.json() == {
        "type": "lead.created",
        "version": 1,
        "id": "0b6f6c1e-8f7e-4d55-9a43-3c1b1c0e2b7a",
        "timestamp": "2025-03-04T10:00:00.250Z",
        "data": {
            "submission_id": 42,
            "submitted_at": "2025-03-04T10:00:00.250Z",
            "email": EMAIL,
            "answers": {"first_name": "Ada", "company": "Analytical Engines"},
            "page": {
                "id": 5,
                "title": "Whitepaper",
                "url": "https://www.example.com/whitepaper/",
            },
            "language": "en",
            "utm": {"utm_source": "newsletter"},
            "referrer": "https://search.example/",
            "consents": [
                {
                    "purpose_id": 7,
                    "purpose": "Newsletter",
                    "legal_basis": "consent",
                    "decision": "granted",
                    "granted": True,
                    "version": 3,
                    "wording_sha256": "ab" * 32,
                    "decided_at": "2025-03-04T10:00:01Z",
                },
                {
                    "purpose_id": 8,
                    "purpose": "Partners",
                    "legal_basis": "consent",
                    "decision": "refused",
                    "granted": False,
                    "version": None,
                    "wording_sha256": "cd" * 32,
                    "decided_at": "2025-03-04T10:00:01Z",
                },
            ],
        },
    }
    # The hash travels, not the wording; the body is compact, sorted JSON.
    assert b"monthly newsletter" not in request.body
    canonical = json.dumps(request.json(), sort_keys=True, separators=(",", ":"))
    assert request.body == canonical.encode()


def test_non_ascii_text_is_escaped_and_still_verifies(crm):
    lead = make_lead(answers={"first_name": "Zoë", "question": "\ud800?"})

    make_backend(crm.url, FIELDS=["first_name", "question"]).deliver(lead)

    [request] = crm.requests
    assert request.body.isascii()
    assert (
        verify_standard_webhook(SECRET, request)["data"]["answers"]["first_name"]
        == "Zoë"
    )


def test_a_retry_carries_the_same_id_and_body(crm):
    backend = make_backend(crm.url)
    lead = make_lead()

    first = backend.deliver(lead)
    second = backend.deliver(lead)

    one, two = crm.requests
    assert one.webhook_id == two.webhook_id == lead.idempotency_key
    assert one.body == two.body
    for request in (one, two):
        verify_standard_webhook(SECRET, request)
    assert crm.unique_ids == [lead.idempotency_key]
    assert crm.duplicates == 1
    assert first.remote_id == second.remote_id == "crm-1"


def test_two_leads_have_different_ids(crm):
    backend = make_backend(crm.url)
    backend.deliver(make_lead())
    backend.deliver(make_lead())

    assert len(crm.unique_ids) == 2


@pytest.mark.parametrize(
    ("behaviour", "remote_id"),
    [
        (("ok", "CRM-123"), "CRM-123"),
        (("ok", 987), "987"),
        (("status", 204, None, b""), ""),
        (("status", 202, {"Content-Type": "text/plain"}, b"queued"), ""),
        (("status", 200, None, b'["not", "an", "object"]'), ""),
        (("status", 200, None, b'{"id": {"nested": 1}}'), ""),
    ],
)
def test_remote_id_comes_from_a_json_id_when_there_is_one(crm, behaviour, remote_id):
    crm.script(*behaviour)

    assert make_backend(crm.url).deliver(make_lead()).remote_id == remote_id


# -- Classification of answers, through the real server -----------------------------
@pytest.mark.parametrize(
    ("status", "headers", "error_class", "retry_after"),
    [
        (500, None, TransientCRMError, None),
        (502, None, TransientCRMError, None),
        (503, {"Retry-After": "7"}, TransientCRMError, 7.0),
        (500, {"Retry-After": "120"}, TransientCRMError, 120.0),
        (408, None, TransientCRMError, None),
        (425, None, TransientCRMError, None),
        (429, {"Retry-After": "30"}, TransientCRMError, 30.0),
        (410, None, DestinationGone, None),
        (400, None, PermanentCRMError, None),
        (401, None, PermanentCRMError, None),
        (404, None, PermanentCRMError, None),
    ],
)
def test_error_statuses_are_classified(crm, status, headers, error_class, retry_after):
    crm.script("status", status, headers)

    with pytest.raises(CRMError) as caught:
        make_backend(crm.url).deliver(make_lead())

    error = caught.value
    assert type(error) is error_class
    assert error.status == status
    assert error.retry_after == retry_after
    assert error.backend == "hooks"
    assert EMAIL not in str(error)
    assert crm.accepted == []


def test_a_redirect_is_not_followed(crm):
    crm.script("status", 302, {"Location": f"{crm.base_url}/elsewhere"})

    with pytest.raises(PermanentCRMError) as caught:
        make_backend(crm.url).deliver(make_lead())

    assert type(caught.value) is PermanentCRMError
    assert caught.value.status == 302
    assert [request.path for request in crm.requests] == ["/webhook"]


def test_a_hanging_crm_times_out(crm):
    crm.script("hang", 5)
    started = time.monotonic()

    with pytest.raises(TransientCRMError) as caught:
        make_backend(crm.url, READ_TIMEOUT=0.5).deliver(make_lead())

    assert time.monotonic() - started < 2
    assert "timed out" in str(caught.value)
    assert len(crm.requests) == 1


def test_a_late_answer_then_a_retry_is_one_lead_for_the_crm(crm):
    """The CRM stored the lead but answered after our timeout: the retry repeats
    the id, so the CRM can tell it is the same lead."""
    crm.script("hang", 1)
    backend = make_backend(crm.url, READ_TIMEOUT=0.3)
    lead = make_lead()

    with pytest.raises(TransientCRMError):
        backend.deliver(lead)
    # The fake CRM stores it once the hang is over and answers a closed socket.
    crm.wait_for_accepted(1)
    result = backend.deliver(lead)

    assert len(crm.accepted) == 2
    assert crm.unique_ids == [lead.idempotency_key]
    assert result.remote_id == "crm-1"


def test_a_connection_reset_is_transient(crm):
    crm.script("reset")

    with pytest.raises(TransientCRMError) as caught:
        make_backend(crm.url).deliver(make_lead())

    assert "connection failed" in str(caught.value)
    assert len(crm.requests) == 1


def test_a_stopped_crm_is_transient_and_recovers():
    with FakeCRM() as crm:
        backend = make_backend(crm.url)
        lead = make_lead()
        crm.stop()
        with pytest.raises(TransientCRMError):
            backend.deliver(lead)
        crm.start()
        assert backend.deliver(lead).remote_id == "crm-1"
        assert crm.unique_ids == [lead.idempotency_key]


def test_nothing_personal_or_secret_is_logged(crm, caplog):
    caplog.set_level(logging.DEBUG)
    backend = make_backend(crm.url)
    crm.script("status", 500)

    with pytest.raises(TransientCRMError) as caught:
        backend.deliver(make_lead())
    backend.deliver(make_lead())
    backend.erase(EMAIL)

    for text in (caplog.text, str(caught.value), caught.value.detail):
        assert EMAIL not in text
        assert "Analytical" not in text
        assert SECRET.removeprefix("whsec_") not in text


# -- Configuration --------------------------------------------------------------------
def config_error(**options) -> str:
    options.setdefault("URL", "https://crm.example.com/hook")
    options.setdefault("SECRET", SECRET)
    message = configuration_error(WebhookBackend, "hooks", options)
    assert SECRET not in message
    assert SECRET.removeprefix("whsec_") not in message
    return message


def test_a_valid_configuration_builds():
    backend = WebhookBackend(
        "hooks", {"URL": "https://crm.example.com/hook", "SECRET": SECRET}
    )
    assert backend.options["READ_TIMEOUT"] == 15
    assert backend.options["CONNECT_TIMEOUT"] == 5
    assert backend.options["FIELDS"] == []
    assert backend.supports_erasure
    assert backend.supports_update


def test_it_builds_from_a_settings_entry():
    backend = build_backend(
        "hooks",
        {
            "BACKEND": "wagtail_leadgen.crm.webhook.WebhookBackend",
            "OPTIONS": {"URL": "https://crm.example.com/hook", "SECRET": SECRET},
        },
    )
    assert isinstance(backend, WebhookBackend)


def test_configuration_errors_are_not_crm_errors():
    assert not issubclass(CRMConfigurationError, CRMError)


def test_plain_http_needs_allow_http():
    message = config_error(URL="http://crm.example.com/hook")
    assert URL_PATH in message
    assert "ALLOW_HTTP" in message

    WebhookBackend(
        "hooks",
        {"URL": "http://crm.example.com/hook", "SECRET": SECRET, "ALLOW_HTTP": True},
    )


def test_missing_url():
    assert URL_PATH in configuration_error(WebhookBackend, "hooks", {"SECRET": SECRET})


@pytest.mark.parametrize(
    "url",
    [
        "",
        None,
        42,
        "crm.example.com/hook",
        "ftp://crm.example.com/hook",
        "https:///hook",
        "https://crm.example.com:99999/hook",
        "https://crm.example.com:port/hook",
        f"https://{'a' * 64}.example.com/hook",
    ],
)
def test_invalid_urls(url):
    assert URL_PATH in config_error(URL=url)


def test_credentials_in_the_url_are_refused_without_repeating_them():
    message = config_error(URL="https://user:hunter2@crm.example.com/hook")
    assert URL_PATH in message
    assert "hunter2" not in message


def test_missing_secret():
    message = configuration_error(
        WebhookBackend, "hooks", {"URL": "https://crm.example.com/hook"}
    )
    assert SECRET_PATH in message
    assert SECRET_PATH in config_error(SECRET="")
    assert SECRET_PATH in config_error(SECRET=None)


@pytest.mark.parametrize(
    "secret",
    [
        SECRET.removeprefix("whsec_"),  # no prefix
        "whsk_" + SECRET.removeprefix("whsec_"),  # an asymmetric key
        "whsec_not base64 at all!!",
        "whsec_" + "A" * 33,  # impossible base64 length
        "whsec_c2hvcnQ=",  # valid, but 5 bytes: too short
        "whsec_",
        b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    ],
)
def test_malformed_secrets_name_the_setting_and_never_echo_the_value(secret):
    message = config_error(SECRET=secret)
    assert SECRET_PATH in message
    text = secret.decode() if isinstance(secret, bytes) else secret
    if text.removeprefix("whsec_"):
        assert text.removeprefix("whsec_") not in message


def test_an_unpadded_secret_is_accepted():
    WebhookBackend(
        "hooks", {"URL": "https://crm.example.com/hook", "SECRET": SECRET.rstrip("=")}
    )


def test_unknown_option():
    message = config_error(SECRETS=SECRET)
    assert 'WAGTAIL_LEADGEN["CRM_BACKENDS"]["hooks"]["OPTIONS"]["SECRETS"]' in message
    assert "valid options" in message


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("ALLOW_HTTP", "yes"),
        ("ALLOW_PRIVATE_ADDRESSES", 1),
        ("FIELDS", "company"),
        ("FIELDS", ["company", "company"]),
        ("FIELDS", ["email"]),
        ("FIELDS", ["favourite_colour"]),
        ("CONNECT_TIMEOUT", 0),
        ("READ_TIMEOUT", -1),
        ("READ_TIMEOUT", "15"),
        ("READ_TIMEOUT", True),
    ],
)
def test_option_types(option, value):
    path = f'WAGTAIL_LEADGEN["CRM_BACKENDS"]["hooks"]["OPTIONS"]["{option}"]'
    assert path in config_error(**{option: value})


# -- SSRF -------------------------------------------------------------------------------
def test_loopback_is_refused_before_anything_reaches_the_crm(crm):
    for url in (
        f"https://127.0.0.1:{crm.port}/webhook",
        f"https://localhost:{crm.port}/webhook",
        f"http://127.0.0.1:{crm.port}/webhook",
    ):
        backend = make_backend(url, ALLOW_PRIVATE_ADDRESSES=False)
        with pytest.raises(PermanentCRMError) as caught:
            backend.deliver(make_lead())
        assert "SSRF" in str(caught.value)
        assert caught.value.backend == "hooks"
    assert crm.requests == []


@pytest.mark.parametrize(
    "host",
    [
        "10.0.0.1",
        "192.168.1.10",
        "169.254.169.254",
        "[::1]",
        "[fe80::1]",
        "0.0.0.0",  # noqa: S104 -- a target here, nothing binds to it
    ],
)
def test_private_and_link_local_targets_are_never_connected_to(monkeypatch, host):
    def refuse(*args, **kwargs):
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(socket, "create_connection", refuse)
    backend = WebhookBackend("hooks", {"URL": f"https://{host}/hook", "SECRET": SECRET})

    with pytest.raises(PermanentCRMError, match="SSRF"):
        backend.deliver(make_lead())
    with pytest.raises(PermanentCRMError, match="SSRF"):
        backend.erase(EMAIL)


# -- Purpose limitation -----------------------------------------------------------------
def test_by_default_no_answer_is_sent(crm):
    make_backend(crm.url).deliver(make_lead())

    [request] = crm.requests
    data = verify_standard_webhook(SECRET, request)["data"]
    assert data["answers"] == {}
    assert b"Ada" not in request.body
    assert b"Analytical" not in request.body
    assert data["email"] == EMAIL


def test_only_the_answers_listed_in_fields_are_sent(crm):
    lead = make_lead(answers={"first_name": "Ada", "company": "AE", "phone": "+33 1"})
    make_backend(crm.url, FIELDS=["phone", "job_title"]).deliver(lead)

    [request] = crm.requests
    assert verify_standard_webhook(SECRET, request)["data"]["answers"] == {
        "phone": "+33 1"
    }


def test_the_old_include_answers_option_says_to_use_fields():
    for value in (True, False):
        message = config_error(INCLUDE_ANSWERS=value)
        assert (
            'WAGTAIL_LEADGEN["CRM_BACKENDS"]["hooks"]["OPTIONS"]["INCLUDE_ANSWERS"] '
            "is no longer an option of WebhookBackend"
        ) in message
        assert "FIELDS" in message


# -- Consent changes ---------------------------------------------------------------------
def test_a_consent_change_is_a_signed_lead_consent_changed_event(crm):
    change = withdrawal(
        purpose_id=7,
        wording_sha256="ab" * 32,
        decided_at=datetime(2025, 6, 1, 10, 0, 0, tzinfo=UTC),
    )
    lead = change_payload(
        change,
        idempotency_key="5d2f7a0e-3c4b-4e8a-9b1d-2f6e8c7a1b3d",
        submission_id=42,
        email=EMAIL,
    )

    result = make_backend(crm.url, FIELDS=["company"]).update(lead)

    [request] = crm.requests
    assert request.webhook_id == lead.idempotency_key
    assert verify_standard_webhook(SECRET, request) == {
        "type": "lead.consent_changed",
        "version": 1,
        "id": "5d2f7a0e-3c4b-4e8a-9b1d-2f6e8c7a1b3d",
        "timestamp": "2025-06-01T10:00:00Z",
        "data": {
            "email": EMAIL,
            "submission_id": 42,
            "purpose_id": 7,
            "purpose": "Newsletter",
            "legal_basis": "consent",
            "decision": "withdrawn",
            "granted": False,
            "version": 3,
            "wording_sha256": "ab" * 32,
            "decided_at": "2025-06-01T10:00:00Z",
        },
    }
    assert result.remote_id == "crm-1"
    # Who and what changed; no answers, no wording, whatever FIELDS says.
    assert b"answers" not in request.body
    assert b"Send me the newsletter" not in request.body


def test_a_retried_consent_change_sends_the_same_id_and_body(crm):
    backend = make_backend(crm.url)
    lead = change_payload()
    crm.script("status", 503)

    with pytest.raises(TransientCRMError):
        backend.update(lead)
    backend.update(lead)

    first, second = crm.requests
    assert first.webhook_id == second.webhook_id == lead.idempotency_key
    assert first.body == second.body
    assert crm.unique_ids == [lead.idempotency_key]


# -- Erasure ------------------------------------------------------------------------------
def test_erase_sends_a_signed_lead_erased_event(crm):
    backend = make_backend(crm.url)
    started = datetime.now(UTC).replace(microsecond=0)

    assert backend.erase(EMAIL) is None
    backend.erase(EMAIL)

    one, two = crm.requests
    event = verify_standard_webhook(SECRET, one)
    assert event["type"] == "lead.erased"
    assert event["version"] == 1
    assert event["data"] == {"email": EMAIL}
    assert event["id"] == one.webhook_id
    uuid.UUID(event["id"])
    assert datetime.fromisoformat(event["timestamp"]) >= started
    # Without a delivery's key, each erasure request is its own event.
    assert verify_standard_webhook(SECRET, two)["id"] != event["id"]


def test_a_retried_erasure_is_the_same_event_with_the_delivery_s_key(crm):
    backend = make_backend(crm.url)
    key = str(uuid.uuid4())

    backend.erase(EMAIL, idempotency_key=key)  # say the first answer came too late
    backend.erase(EMAIL, idempotency_key=key)

    one, two = crm.requests
    assert one.webhook_id == two.webhook_id == key
    assert verify_standard_webhook(SECRET, one)["id"] == key
    assert crm.unique_ids == [key] and crm.duplicates == 1


def test_erase_errors_propagate(crm):
    crm.script("status", 503, {"Retry-After": "60"})

    with pytest.raises(TransientCRMError) as caught:
        make_backend(crm.url).erase(EMAIL)

    assert caught.value.retry_after == 60.0
    assert EMAIL not in str(caught.value)
