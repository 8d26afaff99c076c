"""Email backend: a notification to a sales inbox, with nothing personal by default."""

from __future__ import annotations

import smtplib

import pytest
from django.core.mail.backends.base import BaseEmailBackend

from wagtail_leadgen.crm import build_backend
from wagtail_leadgen.crm.base import (
    LeadPayload,
    PermanentCRMError,
    TransientCRMError,
)
from wagtail_leadgen.crm.email import EmailBackend, clean_header

from .crm_payloads import (
    change_payload,
    configuration_error,
    consent_item,
    every_answer,
    lead_payload,
    withdrawal,
)

ADMIN_URL = "https://www.example.com/admin/leadgen/leads/inspect/42/"
SETTING = 'WAGTAIL_LEADGEN["CRM_BACKENDS"]["inbox"]["OPTIONS"]'
ANSWERS = every_answer(question="Please call me\nbefore noon")


def make_lead(**kwargs) -> LeadPayload:
    kwargs.setdefault("answers", dict(ANSWERS))
    kwargs.setdefault(
        "consents",
        (consent_item(purpose_name="Call-back", wording="Call me back", version=1),),
    )
    kwargs.setdefault("page_title", "Request a call-back")
    kwargs.setdefault("page_url", "https://www.example.com/call-back/")
    kwargs.setdefault("admin_url", ADMIN_URL)
    return lead_payload(**kwargs)


def make_backend(alias: str = "inbox", **options) -> EmailBackend:
    options.setdefault("TO", ["sales@example.com"])
    return EmailBackend(alias, options)


# A mail backend that fails the way SMTP does, to prove errors are classified.
failure: list[Exception] = []


class FailingEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise failure[0]


@pytest.fixture
def failing_mail(settings):
    settings.EMAIL_BACKEND = "tests.test_crm_email.FailingEmailBackend"
    failure.clear()
    yield failure
    failure.clear()


# -- The default mail -----------------------------------------------------------------
def test_default_mail_links_to_the_admin_and_holds_nothing_personal(
    mailoutbox, settings
):
    settings.DEFAULT_FROM_EMAIL = "leads@example.com"
    result = make_backend().deliver(make_lead())

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["sales@example.com"]
    assert message.from_email == "leads@example.com"
    assert message.subject == "New lead from Request a call-back"
    assert ADMIN_URL in message.body
    assert "Request a call-back" in message.body
    mime = message.message()
    # Headers as sent plus the decoded body (Django 6.1 may base64-encode it).
    everything = mime.as_string() + mime.get_payload(decode=True).decode()
    assert ADMIN_URL in everything
    assert "ada@example.com" not in everything
    for value in ANSWERS.values():
        for line in value.splitlines():
            assert line not in everything
    assert result.remote_id == message.extra_headers["Message-ID"]


def test_backend_is_built_from_its_dotted_path(mailoutbox):
    backend = build_backend(
        "inbox",
        {
            "BACKEND": "wagtail_leadgen.crm.email.EmailBackend",
            "OPTIONS": {"TO": ["sales@example.com", "boss@example.com"]},
        },
    )
    backend.deliver(make_lead())
    assert mailoutbox[0].to == ["sales@example.com", "boss@example.com"]


def test_nothing_the_visitor_typed_goes_into_a_header(mailoutbox):
    make_backend(FIELDS=["email", *ANSWERS]).deliver(make_lead())
    message = mailoutbox[0].message()
    headers = "\n".join(f"{name}: {value}" for name, value in message.items())
    assert "ada@example.com" not in headers
    for value in ANSWERS.values():
        assert value.splitlines()[0] not in headers
    assert "Reply-To" not in message


def test_message_id_is_stable_across_retries(mailoutbox):
    backend = make_backend()
    backend.deliver(make_lead())
    backend.deliver(make_lead())
    first, second = (m.extra_headers["Message-ID"] for m in mailoutbox)
    assert first == second
    assert first.startswith("<leadgen.1b7e1a52-6d0e-4c43-9d8a-8f3f3c0f6b11@")


def test_from_email_option(mailoutbox):
    make_backend(FROM_EMAIL="Leads <leads@example.com>").deliver(make_lead())
    assert mailoutbox[0].from_email == "Leads <leads@example.com>"


def test_without_an_admin_link_the_mail_says_where_to_look(mailoutbox):
    make_backend().deliver(make_lead(admin_url=""))
    assert "admin" in mailoutbox[0].body


# -- FIELDS -------------------------------------------------------------------------
def test_fields_opt_answers_in_call_back_first(mailoutbox):
    make_backend(FIELDS=["first_name", "email", "phone", "question"]).deliver(
        make_lead()
    )
    body = mailoutbox[0].body
    assert body.splitlines()[0] == "Call back: +44 20 7946 0000"
    assert "First name:\n    Ada" in body
    assert "Email:\n    ada@example.com" in body
    assert "Your question:\n    Please call me\n    before noon" in body
    # Only what was opted in.
    for unlisted in ("Lovelace", "Analytical Engines", "Analyst"):
        assert unlisted not in body
    # The admin link comes before anything the visitor typed.
    assert body.index(ADMIN_URL) < body.index("Ada")


def test_call_back_first_can_be_turned_off(mailoutbox):
    make_backend(FIELDS=["first_name", "phone"], CALL_BACK_FIRST=False).deliver(
        make_lead()
    )
    body = mailoutbox[0].body
    assert not body.startswith("Call back")
    assert body.index("First name:") < body.index("Phone:\n    +44 20 7946 0000")


def test_phone_is_not_first_unless_listed(mailoutbox):
    make_backend(FIELDS=["first_name"]).deliver(make_lead())
    assert "+44" not in mailoutbox[0].body
    assert not mailoutbox[0].body.startswith("Call back")


def test_unanswered_fields_are_left_out(mailoutbox):
    make_backend(FIELDS=["phone", "company"]).deliver(
        make_lead(answers={"company": "Co"})
    )
    body = mailoutbox[0].body
    assert "Call back" not in body
    assert "Phone" not in body
    assert "Company:\n    Co" in body


def test_typed_lines_cannot_pass_for_ours(mailoutbox):
    answers = {
        "first_name": "Ada\nOpen the lead in the admin:\nhttps://evil.example/\x0b"
    }
    make_backend(FIELDS=["first_name"]).deliver(make_lead(answers=answers))
    body = mailoutbox[0].body
    assert (
        "First name:\n    Ada Open the lead in the admin: https://evil.example/\n"
        in body
    )
    assert "\x0b" not in body


# -- Subject ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "title",
    [
        "Call-back\r\nBcc: victim@example.com",
        "Call-back\x0bBcc: victim@example.com",
        "Call-back\x1cBcc: victim@example.com",
        "Call-back\x85Bcc: victim@example.com",
        "Call-back\u2028Bcc: victim@example.com",
        "Call-back\x00\u202eBcc: victim@example.com",
    ],
)
def test_control_characters_in_the_page_title_are_removed_from_the_subject(
    mailoutbox, title
):
    make_backend().deliver(make_lead(page_title=title))
    message = mailoutbox[0]
    assert message.subject == "New lead from Call-back Bcc: victim@example.com"
    parsed = message.message()
    assert "Bcc" not in parsed
    assert message.recipients() == ["sales@example.com"]


def test_custom_subject_uses_only_the_page_title(mailoutbox):
    make_backend(SUBJECT="[Leads] {page_title} — call back!").deliver(make_lead())
    assert mailoutbox[0].subject == "[Leads] Request a call-back — call back!"


def test_clean_header_shortens_long_titles():
    cleaned = clean_header("x" * 500)
    assert len(cleaned) == 200
    assert cleaned.endswith("…")


# -- Errors -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "error",
    [
        smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
        smtplib.SMTPRecipientsRefused({"sales@example.com": (450, b"try later")}),
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError("timed out"),
    ],
)
def test_smtp_failures_are_transient(failing_mail, error):
    failing_mail.append(error)
    with pytest.raises(TransientCRMError) as excinfo:
        make_backend().deliver(make_lead())
    assert excinfo.value.backend == "inbox"
    assert "ada@example.com" not in str(excinfo.value)


def test_smtp_code_is_kept(failing_mail):
    failing_mail.append(smtplib.SMTPDataError(451, b"local error"))
    with pytest.raises(TransientCRMError) as excinfo:
        make_backend().deliver(make_lead())
    assert "SMTP 451" in str(excinfo.value)


@pytest.mark.parametrize(
    "error", [ValueError("bad header"), UnicodeEncodeError("ascii", "é", 0, 1, "no")]
)
def test_bad_messages_are_permanent(failing_mail, error):
    failing_mail.append(error)
    with pytest.raises(PermanentCRMError):
        make_backend().deliver(make_lead())


def test_a_refused_header_is_permanent(mailoutbox, monkeypatch):
    from django.core.mail import EmailMessage

    def explode(self, fail_silently=False):
        raise ValueError("Header values can't contain newlines")

    monkeypatch.setattr(EmailMessage, "send", explode)
    with pytest.raises(PermanentCRMError):
        make_backend().deliver(make_lead())


def test_a_backend_that_sends_nothing_is_retried(mailoutbox, monkeypatch):
    from django.core.mail import EmailMessage

    monkeypatch.setattr(EmailMessage, "send", lambda self, fail_silently=False: 0)
    with pytest.raises(TransientCRMError):
        make_backend().deliver(make_lead())


# -- Consent changes --------------------------------------------------------------------
def test_a_withdrawal_is_mailed_with_nothing_personal(mailoutbox):
    lead = change_payload(
        withdrawal(purpose_name="Monthly\nnewsletter"),
        admin_url=ADMIN_URL,
        answers=dict(ANSWERS),
    )

    result = make_backend(FIELDS=["phone", "first_name"]).update(lead)

    (message,) = mailoutbox
    assert message.to == ["sales@example.com"]
    assert message.subject == "Consent withdrawn: Monthly newsletter"
    assert message.body == (
        "The person withdrew their consent to “Monthly newsletter” on "
        "2026-03-05 10:00 UTC.\n"
        "Stop using their data for this purpose. What they asked for (the "
        "request itself) is not affected.\n"
        "\n"
        "Open the lead in the admin:\n"
        f"{ADMIN_URL}\n"
    )
    for personal in ("ada@example.com", "Ada", "+44"):
        assert personal not in message.body
    assert result.remote_id == message.extra_headers["Message-ID"]


def test_a_grant_is_mailed_too(mailoutbox):
    grant = withdrawal(granted=True, decision="granted")
    make_backend().update(change_payload(grant, admin_url=ADMIN_URL))
    (message,) = mailoutbox
    assert message.subject == "Consent given: Newsletter"
    assert message.body.startswith(
        "The person consented to “Newsletter” on 2026-03-05 10:00 UTC.\n"
    )


def test_a_retried_change_keeps_its_message_id(mailoutbox):
    backend = make_backend()
    lead = change_payload()
    backend.update(lead)
    backend.update(lead)
    first, second = (m.extra_headers["Message-ID"] for m in mailoutbox)
    assert first == second


def test_erasure_is_not_supported():
    assert make_backend().supports_erasure is False
    with pytest.raises(NotImplementedError):
        make_backend().erase("ada@example.com")


# -- Configuration ------------------------------------------------------------------
def test_to_is_required():
    assert f'{SETTING}["TO"]' in configuration_error(EmailBackend, "inbox", {})


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ({"TO": "sales@example.com"}, "TO"),
        ({"TO": []}, "TO"),
        ({"TO": ["not an address"]}, "TO"),
        ({"TO": ["sales@example.com\nBcc: x@example.com"]}, "TO"),
        ({"FROM_EMAIL": "leads@example.com\r\nBcc: x@example.com"}, "FROM_EMAIL"),
        ({"SUBJECT": "Lead from {page_title} ({email})"}, "SUBJECT"),
        ({"SUBJECT": "Lead from {page_title.__class__}"}, "SUBJECT"),
        ({"SUBJECT": "Lead from {page_title!r}"}, "SUBJECT"),
        ({"SUBJECT": "Lead from {}"}, "SUBJECT"),
        ({"SUBJECT": "Lead from {"}, "SUBJECT"),
        ({"FIELDS": "phone"}, "FIELDS"),
        ({"FIELDS": ["telephone"]}, "FIELDS"),
        ({"FIELDS": ["phone", "phone"]}, "FIELDS"),
        ({"CALL_BACK_FIRST": "yes"}, "CALL_BACK_FIRST"),
    ],
)
def test_invalid_options_name_the_setting(options, setting):
    assert f'{SETTING}["{setting}"]' in configuration_error(make_backend, **options)


def test_unknown_field_error_lists_the_valid_ones():
    assert (
        "email, first_name, last_name, company, job_title, phone, country, question"
        in configuration_error(make_backend, FIELDS=["telephone"])
    )
