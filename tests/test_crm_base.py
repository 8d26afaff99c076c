"""The fixed sequence every CRM backend runs (build -> send -> parse), the HTTP
transport base, capability flags, and the "adding a backend" example of
docs/crm.md run against the real-socket fake CRM.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wagtail_leadgen.crm import locmem
from wagtail_leadgen.crm.base import (
    BaseCRMBackend,
    CRMConfigurationError,
    CRMError,
    DeliveryResult,
    DestinationGone,
    ManualActionNeeded,
    PermanentCRMError,
    Steps,
    TransientCRMError,
    UnsupportedFeature,
    UpdateSteps,
    requires_options,
)
from wagtail_leadgen.crm.console import ConsoleBackend
from wagtail_leadgen.crm.database import DatabaseBackend
from wagtail_leadgen.crm.email import EmailBackend
from wagtail_leadgen.crm.http import (
    USER_AGENT,
    HttpCRMBackend,
    HttpRequest,
    HttpResponse,
)
from wagtail_leadgen.crm.hubspot import HubSpotBackend
from wagtail_leadgen.crm.locmem import LocmemBackend
from wagtail_leadgen.crm.salesforce import SalesforceBackend
from wagtail_leadgen.crm.webhook import WebhookBackend

from .crm_payloads import (
    change_payload,
    configuration_error,
    lead_payload,
    withdrawal,
)
from .fake_crm import FakeCRM
from .fake_http import FakeHTTP, json_response

DOCS = Path(__file__).resolve().parent.parent / "docs" / "crm.md"
SECRET = "whsec_3q2+7wEjRWeJq83vASNFZ4mrze8BI0VniavN7wEjRWc="
ORG_ID = "00D5g000004XyZa"
FORM_GUID = "78c2891f-ebdd-44c0-bd94-15c012bbbfbf"
TOKEN = "pat-eu1-0000aaaa-1111-bbbb-2222-cccc3333dddd"
EMAIL = "ada@example.com"


def setting(alias: str, option: str) -> str:
    return f'WAGTAIL_LEADGEN["CRM_BACKENDS"]["{alias}"]["OPTIONS"]["{option}"]'


# The three HTTP providers, configured to need no network (``http.post`` is
# replaced by ``fake_http``), with their URL options.
def webhook(**options) -> WebhookBackend:
    options.setdefault("URL", "https://crm.example.com/hook")
    return WebhookBackend("crm", {"SECRET": SECRET, **options})


def hubspot(**options) -> HubSpotBackend:
    return HubSpotBackend(
        "crm", {"PORTAL_ID": "12345678", "FORM_GUID": FORM_GUID, **options}
    )


def salesforce(**options) -> SalesforceBackend:
    return SalesforceBackend("crm", {"ORG_ID": ORG_ID, **options})


HTTP_PROVIDERS = [webhook, hubspot, salesforce]
URL_OPTIONS = [
    (webhook, "URL"),
    (hubspot, "FORMS_BASE"),
    (hubspot, "API_BASE"),
    (salesforce, "URL"),
    (salesforce, "INSTANCE_URL"),
]


@pytest.fixture
def fake_http(monkeypatch) -> FakeHTTP:
    return FakeHTTP.install(monkeypatch)


@pytest.fixture
def crm():
    with FakeCRM(path="/v1/leads") as server:
        yield server


# -- The fixed sequence ---------------------------------------------------------------
class Recorder(BaseCRMBackend[str, str]):
    """A non-HTTP backend that notes each step it is asked to run."""

    OPTIONS = {"FAIL_IN": ""}

    def configure(self) -> None:
        self.steps: list[str] = []

    def build_delivery(self, lead):
        self.steps.append("build")
        return f"request {lead.delivery_id}"

    def send(self, request):
        self.steps.append(f"send {request}")
        if self.options["FAIL_IN"] == "send":
            raise TransientCRMError("the transport failed")
        return "answer"

    def parse_delivery(self, response, lead):
        self.steps.append(f"parse {response}")
        if self.options["FAIL_IN"] == "parse":
            raise PermanentCRMError("a refusal in disguise")
        return DeliveryResult(remote_id="r-1")


def test_deliver_runs_build_then_send_then_parse():
    backend = Recorder("rec")

    assert backend.deliver(lead_payload(delivery_id=7)) == DeliveryResult(
        remote_id="r-1"
    )
    assert backend.steps == ["build", "send request 7", "parse answer"]


@pytest.mark.parametrize("step", ["send", "parse"])
def test_errors_from_any_step_are_tagged_with_the_alias(step):
    with pytest.raises(CRMError) as caught:
        Recorder("rec", {"FAIL_IN": step}).deliver(lead_payload())
    assert caught.value.backend == "rec"


def test_an_error_already_tagged_keeps_its_backend():
    error = TransientCRMError("down", backend="elsewhere")
    backend = LocmemBackend("sales", {"FAIL_WITH": lambda lead: error})

    with pytest.raises(TransientCRMError):
        backend.deliver(lead_payload())
    assert error.backend == "elsewhere"


def test_deliver_update_and_erase_are_final():
    for name in ("deliver", "update", "erase"):
        assert getattr(BaseCRMBackend, name).__final__ is True


@pytest.mark.parametrize(
    "error",
    [
        TransientCRMError("timed out"),
        TransientCRMError("the CRM asked to retry later", status=429, retry_after=10.0),
        TransientCRMError("the CRM failed", status=503, retry_after=30.0),
        PermanentCRMError("the CRM refused the lead", status=400),
        PermanentCRMError("redirects are not followed", status=302),
        DestinationGone("the destination is gone", status=410),
    ],
)
@pytest.mark.parametrize("provider", HTTP_PROVIDERS)
def test_transport_errors_pass_through_tagged_with_the_alias(
    fake_http, provider, error
):
    error.backend = ""
    fake_http.answers.append(error)

    with pytest.raises(type(error)) as caught:
        provider().deliver(lead_payload())

    assert caught.value is error
    assert caught.value.backend == "crm"
    assert caught.value.retry_after == error.retry_after


# -- The HTTP transport -----------------------------------------------------------------
@pytest.mark.parametrize("provider", HTTP_PROVIDERS)
def test_every_http_provider_goes_through_one_transport(fake_http, provider):
    provider(CONNECT_TIMEOUT=2, READ_TIMEOUT=4.5).deliver(lead_payload())

    [call] = fake_http.calls
    assert call["headers"]["User-Agent"] == USER_AGENT
    assert (call["connect_timeout"], call["read_timeout"]) == (2, 4.5)
    assert (call["allow_http"], call["allow_private"]) == (False, False)
    assert call["method"] == "POST"


@pytest.mark.parametrize("provider", HTTP_PROVIDERS)
@pytest.mark.parametrize("option", ["CONNECT_TIMEOUT", "READ_TIMEOUT"])
def test_timeouts_are_validated_once_for_every_provider(provider, option):
    assert setting("crm", option) in configuration_error(provider, **{option: 0})


@pytest.mark.parametrize(("provider", "option"), URL_OPTIONS)
@pytest.mark.parametrize(
    "url",
    [
        "https://user:hunter2@crm.example.com/x",
        "http://crm.example.com/x",
        "https://crm.example.com:99999/x",
        f"https://{'a' * 64}.example.com/x",
        "https://[::1/x",
        "crm.example.com/x",
        42,
    ],
)
def test_url_options_share_one_validation(provider, option, url):
    options = {option: url}
    if option == "INSTANCE_URL":
        options["ACCESS_TOKEN"] = "00D5g000004XyZa!AQ0AQExample"
    message = configuration_error(provider, **options)
    assert setting("crm", option) in message
    assert "hunter2" not in message


@pytest.mark.parametrize(
    ("provider", "option"), [(hubspot, "FORMS_BASE"), (salesforce, "INSTANCE_URL")]
)
def test_a_base_url_has_no_query(provider, option):
    options = {option: "https://crm.example.com/?x=1"}
    if option == "INSTANCE_URL":
        options["ACCESS_TOKEN"] = "00D5g000004XyZa!AQ0AQExample"
    assert "plain base URL" in configuration_error(provider, **options)


def test_a_minimal_http_backend_only_builds_the_request(crm):
    class Ping(HttpCRMBackend):
        OPTIONS = {**HttpCRMBackend.OPTIONS, **HttpCRMBackend.SELF_HOSTED_OPTIONS}

        def build_delivery(self, lead):
            return HttpRequest("PUT", crm.url, lead.email.encode())

    backend = Ping("ping", {"ALLOW_HTTP": True, "ALLOW_PRIVATE_ADDRESSES": True})

    assert backend.deliver(lead_payload()) == DeliveryResult(detail="HTTP 200")
    [request] = crm.requests
    assert (request.method, request.body) == ("PUT", EMAIL.encode())
    assert request.header("user-agent") == USER_AGENT


def test_the_transport_options_are_only_those_declared():
    message = configuration_error(hubspot, ALLOW_HTTP=True)
    assert setting("crm", "ALLOW_HTTP") in message
    assert "valid options" in message


# -- Capabilities ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "backend",
    [
        lambda: EmailBackend("crm", {"TO": ["sales@example.com"]}),
        lambda: ConsoleBackend("crm"),
        lambda: DatabaseBackend("crm"),
    ],
    ids=["email", "console", "database"],
)
def test_erase_without_support_is_the_same_clear_error_everywhere(backend):
    with pytest.raises(UnsupportedFeature) as caught:
        backend().erase(EMAIL)
    error = caught.value
    assert isinstance(error, CRMConfigurationError)
    assert isinstance(error, NotImplementedError)
    assert not isinstance(error, CRMError)
    assert "cannot erase people (supports_erasure is False)" in str(error)
    assert EMAIL not in str(error)


@pytest.mark.parametrize(
    ("provider", "options"),
    [(hubspot, ["ACCESS_TOKEN"]), (salesforce, ["INSTANCE_URL", "ACCESS_TOKEN"])],
)
def test_erase_without_credentials_names_the_options_to_set(
    fake_http, provider, options
):
    with pytest.raises(UnsupportedFeature) as caught:
        provider().erase(EMAIL)
    for option in options:
        assert setting("crm", option) in str(caught.value)
    assert fake_http.calls == []


@pytest.mark.parametrize(
    "backend",
    [hubspot, salesforce, lambda: DatabaseBackend("crm")],
    ids=["hubspot", "salesforce", "database"],
)
def test_update_is_refused_where_it_is_not_supported(fake_http, backend):
    built = backend()
    assert built.supports_update is False
    with pytest.raises(UnsupportedFeature):
        built.update(change_payload())
    assert fake_http.calls == []


@pytest.mark.parametrize(
    ("backend", "supported"),
    [
        (webhook, True),
        (lambda: hubspot(ACCESS_TOKEN=TOKEN), True),
        (
            lambda: salesforce(
                INSTANCE_URL="https://example.my.salesforce.com", ACCESS_TOKEN=TOKEN
            ),
            True,
        ),
        (lambda: EmailBackend("crm", {"TO": ["sales@example.com"]}), True),
        (lambda: ConsoleBackend("crm"), True),
        (lambda: LocmemBackend("crm"), True),
        (lambda: DatabaseBackend("crm"), False),
    ],
    ids=["webhook", "hubspot", "salesforce", "email", "console", "locmem", "db"],
)
def test_which_backends_apply_consent_changes(backend, supported):
    assert backend().supports_update is supported


def test_the_database_keeps_consent_changes_already():
    assert DatabaseBackend("crm").needs_update(withdrawal()) is False


def test_an_update_is_a_consent_change():
    with pytest.raises(ValueError, match="lead.change"):
        LocmemBackend("sales").update(lead_payload())


def test_a_flag_that_follows_the_options_is_read_only_and_false_on_the_class():
    assert HubSpotBackend.supports_erasure is False
    backend = hubspot(ACCESS_TOKEN=TOKEN)
    assert backend.supports_erasure is True
    with pytest.raises(AttributeError):
        backend.supports_erasure = False


def test_requires_options_declares_a_capability():
    class Partial(Recorder):
        OPTIONS = {**Recorder.OPTIONS, "TOKEN": None}
        supports_update = requires_options("TOKEN", to="update leads in Partial")

    assert Partial("p", {"TOKEN": "t"}).supports_update is True
    message = configuration_error(Partial("p").update, change_payload())
    assert message == f"{setting('p', 'TOKEN')} is needed to update leads in Partial."


def test_a_removed_option_says_what_to_use_instead():
    class Renamed(Recorder):
        REMOVED_OPTIONS = {"OLD": "use NEW instead."}

    message = configuration_error(Renamed, "r", {"OLD": True})
    assert message == (
        f"{setting('r', 'OLD')} is no longer an option of Renamed: use NEW instead."
    )


def test_manual_action_needed_is_a_runtime_error_never_a_configuration_error():
    assert issubclass(ManualActionNeeded, CRMError)
    assert not issubclass(ManualActionNeeded, CRMConfigurationError)


def test_locmem_records_updates_and_fails_them_on_request():
    lead = change_payload()

    result = LocmemBackend("sales").update(lead)

    assert locmem.updated == [("sales", lead)]
    assert result.detail == "update 1 recorded"
    failing = LocmemBackend("sales", {"FAIL_WITH": lambda lead: TransientCRMError("x")})
    with pytest.raises(TransientCRMError) as caught:
        failing.update(lead)
    assert caught.value.backend == "sales"
    assert len(locmem.updated) == 1


# -- Erasure is a conversation ----------------------------------------------------------
class Conversation(Recorder):
    supports_erasure = True

    def send(self, request):
        self.steps.append(f"send {request}")
        if request == "delete b":
            raise PermanentCRMError("already deleted", status=404)
        if request == "delete c":
            raise TransientCRMError("the CRM failed", status=503)
        return "a b" if request == "find" else "ok"

    def build_erasure(self, email, *, idempotency_key) -> Steps[str, str]:
        found = yield "find"
        for record in found.split():
            try:
                answer = yield f"delete {record}"
            except PermanentCRMError as error:
                if error.status != 404:
                    raise
                answer = "gone"
            self.steps.append(f"{record}: {answer}")


def test_erase_sends_what_the_steps_yield_and_hands_back_answers_and_errors():
    backend = Conversation("conv")

    assert backend.erase(EMAIL) is None

    assert backend.steps == [
        "send find",
        "send delete a",
        "a: ok",
        "send delete b",
        "b: gone",
    ]


def test_update_is_a_conversation_that_returns_its_result():
    class Updater(Conversation):
        supports_update = True

        def build_update(self, lead) -> UpdateSteps[str, str]:
            found = yield "find"
            for record in found.split():
                yield f"patch {record} {lead.change.decision}"
            return DeliveryResult(detail=f"{len(found.split())} records")

    backend = Updater("conv")
    assert backend.update(change_payload()) == DeliveryResult(detail="2 records")
    assert backend.steps == [
        "send find",
        "send patch a withdrawn",
        "send patch b withdrawn",
    ]


def test_an_update_that_returns_nothing_succeeds_plainly():
    class Quiet(Conversation):
        supports_update = True

        def build_update(self, lead):
            yield "find"

    assert Quiet("conv").update(change_payload()) == DeliveryResult()


def test_an_error_the_steps_do_not_handle_propagates_tagged():
    class Unlucky(Conversation):
        def build_erasure(self, email, *, idempotency_key):
            yield "delete c"
            self.steps.append("never reached")

    backend = Unlucky("conv")
    with pytest.raises(TransientCRMError) as caught:
        backend.erase(EMAIL)
    assert caught.value.backend == "conv"
    assert backend.steps == ["send delete c"]


# -- The example of docs/crm.md, run as written --------------------------------------
def docs_example() -> dict:
    """Execute the first Python block under "Adding a CRM backend" in docs/crm.md."""
    section = DOCS.read_text().split("## Adding a CRM backend", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    namespace: dict = {"__name__": "acme_example"}
    exec(compile(code, str(DOCS), "exec"), namespace)  # noqa: S102 -- our own docs
    return namespace


@pytest.fixture
def acme(crm):
    """The documented AcmeBackend, allowed to reach the fake CRM on 127.0.0.1."""
    documented = docs_example()["AcmeBackend"]

    class LocalAcme(documented):
        OPTIONS = {**documented.OPTIONS, **HttpCRMBackend.SELF_HOSTED_OPTIONS}

    return LocalAcme(
        "acme",
        {
            "API_KEY": "ak_test",
            "URL": crm.url,
            "ALLOW_HTTP": True,
            "ALLOW_PRIVATE_ADDRESSES": True,
        },
    )


def test_the_documented_backend_delivers_to_a_real_server(crm, acme):
    lead = lead_payload()

    result = acme.deliver(lead)

    assert result == DeliveryResult(remote_id="crm-1")
    [request] = crm.requests
    assert (request.method, request.path) == ("POST", "/v1/leads")
    assert request.header("authorization") == "Bearer ak_test"
    assert request.header("idempotency-key") == lead.idempotency_key
    assert request.header("user-agent") == USER_AGENT
    assert request.json() == {
        "email": EMAIL,
        "source": "https://www.example.com/e-book/",
        "consents": ["E-book"],
    }


def test_the_documented_backend_erases_in_two_steps(crm, acme):
    crm.script("status", 200, None, b'[{"id": "l_1"}, {"id": "l_2"}]')

    acme.erase(EMAIL)

    assert [(r.method, r.path) for r in crm.requests] == [
        ("GET", "/v1/leads?email=ada%40example.com"),
        ("DELETE", "/v1/leads/l_1"),
        ("DELETE", "/v1/leads/l_2"),
    ]
    assert all(r.header("authorization") == "Bearer ak_test" for r in crm.requests)


def test_the_documented_backend_refuses_an_unexpected_id(crm, acme):
    crm.script("status", 200, None, b'[{"id": "../admin"}]')

    with pytest.raises(PermanentCRMError) as caught:
        acme.erase(EMAIL)

    assert caught.value.backend == "acme"
    assert len(crm.requests) == 1


def test_the_documented_backend_gets_classified_errors_tagged(crm, acme):
    crm.script("status", 503, {"Retry-After": "7"})

    with pytest.raises(TransientCRMError) as caught:
        acme.deliver(lead_payload())

    assert (caught.value.backend, caught.value.retry_after) == ("acme", 7.0)


def test_the_documented_backend_names_its_setting():
    documented = docs_example()["AcmeBackend"]
    message = configuration_error(documented, "acme", {"API_KEY": "secret-value"})
    assert setting("acme", "API_KEY") in message
    assert "secret-value" not in message


def test_the_fake_http_module_answers_like_a_crm(fake_http):
    fake_http.answers.append(json_response({"id": 5}, status=201))
    assert webhook().deliver(lead_payload()).remote_id == "5"
    assert fake_http.json()["type"] == "lead.created"


def test_http_response_json_is_none_for_anything_else():
    assert HttpResponse(200, {}, b"\xff").json() is None
    assert HttpResponse(200, {}, b"not json").json() is None
    assert HttpResponse(200, {}, b'{"id": 1}').json() == {"id": 1}


def test_the_console_prints_a_consent_change_without_the_address(capsys):
    ConsoleBackend("dev").update(change_payload(delivery_id=9))
    printed = capsys.readouterr().out
    assert "consent change 9" in printed
    assert "purpose='Newsletter' withdrawn" in printed
    assert "ada@example.com" not in printed and "email=***" in printed
