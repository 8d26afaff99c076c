"""The call-back form: the lead form, a phone number that must be callable,
and when to call (as soon as possible, or a window in the future).

``CallbackFormBuilder`` is the page's ``LeadFormBuilder`` with the phone
always asked and required, read with ``phonenumbers`` and kept as E.164;
the form classes it builds are ``CallbackForm``s, so the HTML form and the
JSON API (same form, same intake) reach the same verdicts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import phonenumbers
from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from .business_hours import BusinessHours
from .cleaning import normalise
from .conf import leadgen_settings
from .forms import LeadForm, LeadFormBuilder
from .validators import validate_no_control_characters

ASAP = "asap"
LATER = "later"
PHONE_MAX_LENGTH = 32


def parse_phone(value: str) -> str:
    """The number in E.164 if it is a valid number of an accepted country
    and not of a refused type (premium rate, shared cost, ...); raises
    ``ValidationError`` with the reason otherwise."""
    section = leadgen_settings.callback
    countries = section["COUNTRY_CODES"]
    try:
        number = phonenumbers.parse(value, countries[0])
    except phonenumbers.NumberParseException:
        raise ValidationError(
            _("Enter a phone number such as +33 1 23 45 67 89."), code="invalid"
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _(
                "This is not a valid phone number. Check the digits and the country code."
            ),
            code="invalid",
        )
    if phonenumbers.region_code_for_number(number) not in countries:
        raise ValidationError(
            _("We can only call numbers in: %(countries)s."),
            code="country",
            params={"countries": ", ".join(countries)},
        )
    kind = phonenumbers.number_type(number)
    refused = {
        getattr(phonenumbers.PhoneNumberType, name, None)
        for name in section["REFUSED_NUMBER_TYPES"]
    }
    if kind in refused:
        raise ValidationError(
            _(
                "We cannot call premium-rate or special service numbers. "
                "Enter a landline or mobile number."
            ),
            code="number_type",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class PhoneNumberField(forms.CharField):
    """A phone number we can call, cleaned to E.164."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", PHONE_MAX_LENGTH)
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"})
        )
        super().__init__(**kwargs)
        self.validators.append(validate_no_control_characters)

    def to_python(self, value: Any) -> str:
        return normalise(super().to_python(value) or "")

    def clean(self, value: Any) -> str:
        cleaned = super().clean(value)
        return parse_phone(cleaned) if cleaned else cleaned


class LocalDateTimeField(forms.Field):
    """A date and time typed in the business time zone ("2026-12-01T10:00"),
    as a ``datetime-local`` input sends it."""

    widget = forms.DateTimeInput(
        attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
    )
    default_error_messages = {
        "invalid": _("Enter a date and time such as 2026-12-01 10:00."),
    }

    def to_python(self, value: Any) -> dt.datetime | None:
        text = str(value or "").strip()
        if not text:
            return None
        if len(text) > 32:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            moment = dt.datetime.fromisoformat(text.replace(" ", "T", 1))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=_zone())
            return moment.astimezone(dt.UTC)
        except (ValueError, OverflowError):  # not a date, or out of range in UTC
            raise ValidationError(
                self.error_messages["invalid"], code="invalid"
            ) from None


def _zone() -> dt.tzinfo:
    """The business time zone (``CALLBACK["TIME_ZONE"]``), hours set or not."""
    return leadgen_settings.callback["zone"]


@dataclass(frozen=True)
class CallbackDetails:
    """What the visitor asked: the number (E.164) and the window, if any."""

    phone: str
    slot_start: dt.datetime | None = None
    slot_end: dt.datetime | None = None


def _local(moment: dt.datetime) -> str:
    return formats.date_format(moment.astimezone(_zone()), "DATETIME_FORMAT")


class CallbackForm(LeadForm):
    """A lead form that also asks when to call."""

    callback_when = forms.ChoiceField(
        label=_("When should we call you?"),
        choices=[(ASAP, _("As soon as possible")), (LATER, _("At a time I choose"))],
        required=False,
        initial=ASAP,
        widget=forms.RadioSelect,
    )
    callback_at = LocalDateTimeField(
        label=_("Preferred time"),
        required=False,
        help_text=_("Only if you chose a time: the start of a one-hour window."),
    )

    @classmethod
    def asked_field_names(cls) -> tuple[str, ...]:
        return (*super().asked_field_names(), "callback_when", "callback_at")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        if cleaned.get("callback_when") != LATER:
            cleaned["callback_when"] = ASAP
            cleaned["callback_at"] = None
            return cleaned
        moment = cleaned.get("callback_at")
        if moment is None:
            if "callback_at" not in self.errors:
                self.add_error("callback_at", _("Choose when we should call you."))
            return cleaned
        error = slot_error(moment, leadgen_settings.callback, timezone.now())
        if error:
            self.add_error("callback_at", error)
        return cleaned

    def callback_details(self) -> CallbackDetails:
        start = self.cleaned_data.get("callback_at")
        minutes = leadgen_settings.callback["SLOT_MINUTES"]
        return CallbackDetails(
            phone=self.cleaned_data["phone"],
            slot_start=start,
            slot_end=start + dt.timedelta(minutes=minutes) if start else None,
        )


def slot_error(moment: dt.datetime, section: dict[str, Any], now: dt.datetime) -> Any:
    """Why a chosen time cannot be offered, or None: in the past, too far
    ahead, or outside business hours."""
    if moment <= now:
        return _("This time has passed. Choose a time in the future.")
    if moment > now + dt.timedelta(days=section["MAX_DAYS_AHEAD"]):
        return _("Choose a time within the next %(days)s days.") % {
            "days": section["MAX_DAYS_AHEAD"]
        }
    hours: BusinessHours | None = section["hours"]
    if hours is not None and not hours.is_open(moment):
        return _(
            "We call on working days between %(opens)s and %(closes)s. "
            "The next opening is %(next)s."
        ) % {
            "opens": hours.opens.strftime("%H:%M"),
            "closes": hours.closes.strftime("%H:%M"),
            "next": _local(hours.next_opening(moment)),
        }
    return None


class CallbackFormBuilder(LeadFormBuilder):
    """The page's builder, with a phone number always asked and required."""

    def create_phone_field(self, options: dict[str, Any]) -> forms.Field:
        return PhoneNumberField()

    def get_form_class(self) -> type[LeadForm]:
        if not any(block.block_type == "phone" for block in self.field_blocks):
            self.field_blocks.insert(
                0, SimpleNamespace(block_type="phone", value={"required": True})
            )
        built = super().get_form_class()
        built.base_fields["phone"].required = True
        return type("BuiltCallbackForm", (CallbackForm, built), {})


def callback_promise(form: LeadForm | None, now: dt.datetime | None = None) -> str:
    """What the visitor is told after asking: the window they chose, a call
    within the SLA during business hours, or when we open outside them."""
    now = now or timezone.now()
    section = leadgen_settings.callback
    details = (
        form.callback_details()
        if isinstance(form, CallbackForm) and form.is_valid()
        else None
    )
    if details is not None and details.slot_start is not None:
        return _("We will call you between %(start)s and %(end)s.") % {
            "start": _local(details.slot_start),
            "end": _local(details.slot_end or details.slot_start),
        }
    hours: BusinessHours | None = section["hours"]
    if hours is None or hours.is_open(now):
        return _("We will call you within %(minutes)s minutes.") % {
            "minutes": section["SLA_MINUTES"]
        }
    return _(
        "We are closed right now. We will call you as soon as we open, on %(when)s."
    ) % {"when": _local(hours.next_opening(now))}
