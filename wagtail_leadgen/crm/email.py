"""``email``: notifies a sales inbox, e.g. for call-backs answered within minutes.

The mail is sent with Django's ``EmailMessage``, so through the site's own
``EMAIL_BACKEND``. By default it holds a link to the lead in the admin and
nothing personal; ``FIELDS`` opts answers in. Nothing a visitor typed ever goes
into a header. A consent granted or withdrawn after the lead was mailed is
mailed too, so the team that has the lead hears of it, and so is a
correction of an answer the first mail held. See
``docs/backends/email.md``.
"""

from __future__ import annotations

import re
import smtplib
import string
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.mail.utils import DNS_NAME
from django.core.validators import validate_email
from django.utils import translation
from django.utils.translation import gettext

from ..field_kinds import FORM_FIELD_KINDS
from .base import (
    BaseCRMBackend,
    CRMConfigurationError,
    DeliveryResult,
    LeadPayload,
    PermanentCRMError,
    TransientCRMError,
    UpdateSteps,
)

DEFAULT_SUBJECT = "New lead from {page_title}"
MAX_SUBJECT_LENGTH = 200


@dataclass(frozen=True)
class SentMail:
    """What the mail transport answers: the message and how many were sent."""

    message: EmailMessage
    count: int


def field_labels() -> dict[str, Any]:
    """``email`` and the answer kinds, with their labels."""
    return {"email": gettext("Email"), **FORM_FIELD_KINDS}


def _is_invisible(char: str) -> bool:
    # Cc (controls), Cf (format, e.g. bidi overrides), Cs/Co/Cn, and the Unicode
    # line/paragraph separators, which mail software may treat as line breaks.
    return unicodedata.category(char)[0] == "C" or unicodedata.category(char) in {
        "Zl",
        "Zp",
    }


def clean_header(value: str, *, max_length: int = MAX_SUBJECT_LENGTH) -> str:
    """One line of text safe for a mail header: control characters become spaces.

    Django refuses CR/LF with ``BadHeaderError`` but lets e.g. ``\\x0b`` or
    ``\\x1c`` through, which the email package then turns into a line break.
    """
    text = "".join(" " if _is_invisible(char) else char for char in value)
    text = " ".join(text.split())
    if len(text) > max_length:
        text = text[: max_length - 1].rstrip() + "…"
    return text


def clean_body_value(value: str, *, multiline: bool = False) -> str:
    """A visitor's answer for the mail body: no control characters, no fake lines.

    Every line break ``str.splitlines`` knows (``\\x0b``, ``\\x1c``, ``\\u2028``…)
    ends a line; other invisible characters are dropped and tabs become spaces.
    """
    lines = [
        "".join(
            " " if char == "\t" else char
            for char in line
            if char == "\t" or not _is_invisible(char)
        ).strip()
        for line in str(value).splitlines()
    ]
    if not multiline:
        return " ".join(line for line in lines if line)
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines)


class EmailBackend(BaseCRMBackend[EmailMessage, SentMail]):
    """Mails a notification for each lead to ``TO``; supports no erasure.

    The sales inbox receives a link to the lead in the admin; answers appear
    only when listed in ``FIELDS``. When ``CALL_BACK_FIRST`` is on and the phone
    number is listed, it is the first line of the mail. The transport is the
    site's own ``EMAIL_BACKEND``. A consent change is a mail of its own
    (``supports_update``): which purpose, granted or withdrawn, when, and the
    admin link; nothing personal. So is a correction of an answer listed in
    ``FIELDS`` (``supports_correction``), with the new values of those.
    """

    OPTIONS = {
        "TO": BaseCRMBackend.REQUIRED,
        "FROM_EMAIL": None,  # None: settings.DEFAULT_FROM_EMAIL, read at send time
        "SUBJECT": DEFAULT_SUBJECT,
        "FIELDS": [],
        "CALL_BACK_FIRST": True,
    }
    supports_erasure = False
    supports_update = True
    supports_correction = True

    # -- Configuration ------------------------------------------------------------
    def configure(self) -> None:
        self.to = self._configure_to()
        from_email = self.options["FROM_EMAIL"]
        if from_email is not None and (
            not isinstance(from_email, str)
            or not from_email.strip()
            or any(_is_invisible(char) for char in from_email)
        ):
            raise CRMConfigurationError(
                f"{self.setting_path('FROM_EMAIL')} must be one sender address "
                "(or None for DEFAULT_FROM_EMAIL)."
            )
        self._configure_subject()
        self.fields = self._configure_fields()
        if not isinstance(self.options["CALL_BACK_FIRST"], bool):
            raise CRMConfigurationError(
                f"{self.setting_path('CALL_BACK_FIRST')} must be True or False."
            )

    def _configure_to(self) -> list[str]:
        setting = self.setting_path("TO")
        value = self.options["TO"]
        if isinstance(value, str) or not isinstance(value, Sequence) or not value:
            raise CRMConfigurationError(
                f"{setting} must be a non-empty list of addresses, e.g. "
                '["sales@example.com"].'
            )
        for index, address in enumerate(value):
            try:
                if not isinstance(address, str):
                    raise ValidationError("not a string")
                validate_email(address)
            except ValidationError:
                raise CRMConfigurationError(
                    f"{setting}[{index}] is not a valid email address."
                ) from None
        return list(value)

    def _configure_subject(self) -> None:
        setting = self.setting_path("SUBJECT")
        value = self.options["SUBJECT"]
        if not isinstance(value, str):
            raise CRMConfigurationError(f"{setting} must be a string.")
        try:
            parsed = list(string.Formatter().parse(value))
        except ValueError:
            parsed = None
        if parsed is None or any(
            name is not None and (name != "page_title" or spec or conversion)
            for _text, name, spec, conversion in parsed
        ):
            raise CRMConfigurationError(
                f"{setting} may only use the placeholder {{page_title}} "
                "(write {{ and }} for literal braces)."
            )

    def _configure_fields(self) -> list[str]:
        setting = self.setting_path("FIELDS")
        value = self.options["FIELDS"]
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise CRMConfigurationError(
                f'{setting} must be a list, e.g. ["phone", "first_name"].'
            )
        valid = list(field_labels())
        for name in value:
            if name not in valid:
                raise CRMConfigurationError(
                    f"{setting} has an unknown field {name!r}; valid fields: "
                    f"{', '.join(valid)}."
                )
        if len(set(value)) != len(value):
            raise CRMConfigurationError(f"{setting} lists a field twice.")
        return list(value)

    # -- Message ------------------------------------------------------------------------
    def get_subject(self, lead: LeadPayload) -> str:
        """The subject: ``SUBJECT`` with the page title only, on one clean line."""
        title = clean_header(lead.page_title) or gettext("a page")
        return clean_header(self.options["SUBJECT"].format(page_title=title))

    def _values(self, lead: LeadPayload) -> list[tuple[str, str]]:
        """(field, value) for each listed field the visitor answered, in order."""
        values = []
        for name in self.fields:
            raw = lead.email if name == "email" else lead.answers.get(name, "")
            value = clean_body_value(raw or "", multiline=name == "question")
            if value:
                values.append((name, value))
        if self.options["CALL_BACK_FIRST"]:
            values.sort(key=lambda item: item[0] != "phone")
        return values

    def get_body(self, lead: LeadPayload) -> str:
        """The plain-text body. Override this to change the layout.

        Visitor answers come last, each value on its own indented lines, so a
        typed line cannot pass for one of ours.
        """
        labels = field_labels()
        values = self._values(lead)
        lines: list[str] = []
        if values and values[0][0] == "phone" and self.options["CALL_BACK_FIRST"]:
            lines += [gettext("Call back: %(phone)s") % {"phone": values[0][1]}, ""]
            values = values[1:]
        title = clean_header(lead.page_title) or gettext("a page")
        lines.append(gettext("A new lead came in from “%(title)s”.") % {"title": title})
        received = lead.submitted_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        lines.append(gettext("Received: %(when)s") % {"when": received})
        lines.append("")
        if lead.admin_url:
            lines.append(gettext("Open the lead in the admin:"))
            lines.append(lead.admin_url)
        else:
            lines.append(gettext("Open the leads list in the admin to see it."))
        for name, value in values:
            lines += ["", f"{labels[name]}:"]
            lines += [f"    {line}" for line in value.split("\n")]
        return "\n".join(lines) + "\n"

    def get_change_subject(self, lead: LeadPayload) -> str:
        """The subject of a consent change: the purpose's name, on one clean line."""
        change = lead.change
        assert change is not None  # ``update`` checks it
        purpose = clean_header(change.purpose_name)
        if change.granted:
            return clean_header(
                gettext("Consent given: %(purpose)s") % {"purpose": purpose}
            )
        return clean_header(
            gettext("Consent withdrawn: %(purpose)s") % {"purpose": purpose}
        )

    def get_change_body(self, lead: LeadPayload) -> str:
        """The plain-text body of a consent change. Override this to change it."""
        change = lead.change
        assert change is not None  # ``update`` checks it
        values = {
            "purpose": clean_body_value(change.purpose_name),
            "when": change.decided_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        }
        if change.granted:
            lines = [
                gettext("The person consented to “%(purpose)s” on %(when)s.") % values
            ]
        else:
            lines = [
                gettext(
                    "The person withdrew their consent to “%(purpose)s” on %(when)s."
                )
                % values,
                gettext(
                    "Stop using their data for this purpose. What they asked for "
                    "(the request itself) is not affected."
                ),
            ]
        lines.append("")
        if lead.admin_url:
            lines += [gettext("Open the lead in the admin:"), lead.admin_url]
        else:
            lines.append(gettext("Open the leads list in the admin to see it."))
        return "\n".join(lines) + "\n"

    def needs_correction(self, kinds: Collection[str]) -> bool:
        """Only the answers in ``FIELDS`` were ever mailed."""
        return any(kind in self.fields for kind in kinds)

    def get_correction_body(self, lead: LeadPayload) -> str:
        """The plain-text body of a correction: when, and the new value of
        each corrected answer listed in ``FIELDS``. Override this to change it."""
        correction = lead.correction
        assert correction is not None  # ``correct`` checks it
        when = correction.corrected_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        lines = [
            gettext(
                "The person's details were corrected on %(when)s: update them "
                "wherever you copied them."
            )
            % {"when": when},
            "",
        ]
        if lead.admin_url:
            lines += [gettext("Open the lead in the admin:"), lead.admin_url]
        else:
            lines.append(gettext("Open the leads list in the admin to see it."))
        labels = field_labels()
        for name in self.fields:
            value = clean_body_value(correction.values.get(name, ""))
            if value:
                lines += ["", f"{labels[name]}:", f"    {value}"]
        return "\n".join(lines) + "\n"

    def message_id(self, lead: LeadPayload) -> str:
        """Stable across retries, so a repeated mail is recognisable as one."""
        key = re.sub(r"[^A-Za-z0-9.-]", "", lead.idempotency_key) or str(
            lead.delivery_id
        )
        return f"<leadgen.{key}@{DNS_NAME}>"

    def get_message(self, lead: LeadPayload) -> EmailMessage:
        with translation.override(settings.LANGUAGE_CODE):
            if lead.change is not None:
                subject, body = (
                    self.get_change_subject(lead),
                    self.get_change_body(lead),
                )
            elif lead.correction is not None:
                subject = clean_header(gettext("Lead details corrected"))
                body = self.get_correction_body(lead)
            else:
                subject, body = self.get_subject(lead), self.get_body(lead)
        return EmailMessage(
            subject=subject,
            body=body,
            from_email=self.options["FROM_EMAIL"] or settings.DEFAULT_FROM_EMAIL,
            to=self.to,
            headers={"Message-ID": self.message_id(lead)},
        )

    # -- Steps --------------------------------------------------------------------------
    def build_delivery(self, lead: LeadPayload) -> EmailMessage:
        return self.get_message(lead)

    def build_update(self, lead: LeadPayload) -> UpdateSteps[EmailMessage, SentMail]:
        sent = yield self.get_message(lead)
        return self.parse_delivery(sent, lead)

    def build_correction(
        self, lead: LeadPayload
    ) -> UpdateSteps[EmailMessage, SentMail]:
        sent = yield self.get_message(lead)
        return self.parse_delivery(sent, lead)

    def send(self, message: EmailMessage) -> SentMail:
        """Send through ``EMAIL_BACKEND``; SMTP failures are worth a retry."""
        try:
            count = message.send(fail_silently=False)
        # Django's BadHeaderError is a ValueError (and deprecated in Django 6.1).
        except ValueError as exc:
            # Not retried: the same message would fail again.
            raise PermanentCRMError(
                f"the mail could not be built: {type(exc).__name__}"
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            code = getattr(exc, "smtp_code", None)
            detail = f"sending the mail failed: {type(exc).__name__}"
            raise TransientCRMError(
                f"{detail} (SMTP {code})" if isinstance(code, int) else detail
            ) from exc
        return SentMail(message, count)

    def parse_delivery(self, response: SentMail, lead: LeadPayload) -> DeliveryResult:
        if not response.count:
            raise TransientCRMError("the mail backend sent nothing")
        return DeliveryResult(
            remote_id=response.message.extra_headers["Message-ID"],
            detail=f"mailed to {len(self.to)} recipient(s)",
        )
