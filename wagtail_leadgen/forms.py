"""The visitor's lead form: email, a few editor-chosen fields, one checkbox per purpose.

``LeadFormBuilder`` dispatches by kind name (``create_<kind>_field``), so a new
field kind is one method. Consent checkboxes are never pre-ticked and never
required (R8, R9): what the visitor asks for rests on the request itself, and
has no box. ``LeadForm.required_consent_purposes`` finds a box a custom
builder made required anyway (a system check and an editor hint report it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from .cleaning import clean_metadata, normalise, parse_url
from .conf import leadgen_settings
from .field_kinds import CORRECTABLE_KINDS, FORM_FIELD_KINDS
from .validators import (
    EMAIL_MAX_LENGTH,
    normalise_email,
    validate_lead_email,
    validate_no_control_characters,
    validate_no_control_characters_multiline,
)

if TYPE_CHECKING:  # the form sits below the models: it only reads purposes
    from .models.consent import ConsentPurpose

HONEYPOT_FIELD = "leadgen_hp"
TOKEN_FIELD = "leadgen_token"  # noqa: S105 - a field name, not a secret
REFERRER_FIELD = "leadgen_ref"
CONSENT_PREFIX = "consent_"
HONEYPOT_ATTRS = {
    "hidden": True,
    "aria-hidden": "true",
    "tabindex": "-1",
    "autocomplete": "off",
}


REFERRER_MAX_LENGTH = 500


def referrer_origin(value: str) -> str:
    """Keep where a visitor came from, without a query string that may hold
    personal data; "" for anything that is not a clean http(s) URL."""
    parts = parse_url(str(value or "")[: 2 * REFERRER_MAX_LENGTH])
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    origin = f"{parts.scheme}://{parts.netloc}{parts.path}"
    return clean_metadata(origin, REFERRER_MAX_LENGTH)


class ReferrerField(forms.Field):
    """Where the visitor came from: metadata, never a reason to refuse a form.

    Anything that is not a clean http(s) URL becomes "" (the visitor could
    not correct a hidden field anyway).
    """

    def to_python(self, value: Any) -> str:
        return referrer_origin(value)


class NormalisedCharField(forms.CharField):
    """A text answer in NFC, so one text typed two ways is stored one way."""

    def to_python(self, value: Any) -> str:
        return normalise(super().to_python(value) or "")


class UnknownFieldKind(ValueError):
    """An editor-chosen field kind the builder cannot build."""


CONSENT_GIVEN = "yes"


class ConsentCheckboxInput(forms.CheckboxInput):
    """A checkbox ticked only by the visitor's own answer (R8).

    It renders ``value="yes"`` and only that exact value means "granted":
    Django's own checkbox takes any non-empty value (``0``, ``off``, ``no``)
    for a tick, which would record a consent nobody gave. ``LeadForm`` drops
    any initial value for consent fields, so a form shown for the first time
    never has a ticked box; a form shown again after an error keeps what the
    visitor ticked.
    """

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(
            {**(attrs or {}), "value": CONSENT_GIVEN},
            check_test=lambda value: value is True,
        )

    def value_from_datadict(self, data: Any, files: Any, name: str) -> bool:
        return data.get(name) == CONSENT_GIVEN


class LeadEmailField(forms.CharField):
    """One address: NFC before it is validated, canonical once it is clean."""

    def to_python(self, value: Any) -> str:
        return normalise(super().to_python(value) or "")

    def clean(self, value: Any) -> str:
        return normalise_email(super().clean(value))


class LeadForm(forms.Form):
    """Base of every built form; ``LeadFormBuilder`` adds the page's fields."""

    email = LeadEmailField(
        label=_("Email"),
        max_length=EMAIL_MAX_LENGTH,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        validators=[validate_lead_email],
    )
    # A field humans never see, whatever the site's CSS: HTML ``hidden``,
    # out of the accessibility tree, no tab stop, no autofill. Bots that fill
    # every input in the markup fill it too.
    leadgen_hp = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs=HONEYPOT_ATTRS),
    )
    leadgen_token = forms.CharField(widget=forms.HiddenInput, required=False)
    # Where the visitor came from before the landing page (origin and path only).
    leadgen_ref = ReferrerField(widget=forms.HiddenInput, required=False)

    purposes: Sequence[ConsentPurpose] = ()
    extra_field_kinds: Sequence[str] = ()
    # Set when the posted token names purposes that no longer exist: the
    # answers cannot be recorded against what the visitor read.
    shown_purposes_missing: bool = False

    def __init__(
        self,
        data: Any = None,
        *args: Any,
        fresh_token: str | None = None,
        **kwargs: Any,
    ) -> None:
        """``fresh_token`` replaces the posted time-trap token in the bound data,
        so a form shown again carries a new one; the posted token stays
        readable as ``posted_token`` for the intake to check."""
        self.posted_token = str(data.get(TOKEN_FIELD, "")) if data is not None else ""
        if data is not None and fresh_token is not None:
            data = data.copy()
            data[TOKEN_FIELD] = fresh_token
        super().__init__(data, *args, **kwargs)
        for purpose in self.purposes:
            self.initial.pop(self.consent_field_name(purpose), None)

    @property
    def honeypot_hit(self) -> bool:
        return bool(self.data.get(HONEYPOT_FIELD))

    def consent_field_name(self, purpose: ConsentPurpose) -> str:
        return f"{CONSENT_PREFIX}{purpose.pk}"

    @classmethod
    def required_consent_purposes(cls) -> list[ConsentPurpose]:
        """Purposes whose box this form class makes required: there must be
        none (R8), whatever builder made the class."""
        return [
            purpose
            for purpose in cls.purposes
            if getattr(
                cls.base_fields.get(f"{CONSENT_PREFIX}{purpose.pk}"), "required", False
            )
        ]

    def consent_fields(self) -> list[forms.BoundField]:
        return [self[self.consent_field_name(purpose)] for purpose in self.purposes]

    @classmethod
    def answer_names(cls) -> tuple[str, ...]:
        """The names of the visitor's answer fields, email first. Override
        this (with ``answer_fields``) when a form asks more than its kinds."""
        return ("email", *cls.extra_field_kinds)

    def answer_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.answer_names()]

    def consent_answers(self) -> dict[ConsentPurpose, bool]:
        """Each purpose shown, with True when ticked; unticked is a refusal, not an error."""
        return {
            purpose: bool(self.cleaned_data.get(self.consent_field_name(purpose)))
            for purpose in self.purposes
        }

    @classmethod
    def describe_answer_fields(cls) -> list[dict[str, Any]]:
        """The visitor's answer fields as plain data, email first: what a
        decoupled front end renders (name, kind, label, help text, required,
        maximum length, choices, input type, autocomplete token), read from the
        very fields the HTML form shows."""
        described = []
        for name in cls.answer_names():
            field = cls.base_fields[name]
            choices = getattr(field, "choices", None)
            described.append(
                {
                    "name": name,
                    "kind": name,
                    "label": str(field.label or ""),
                    "help_text": str(field.help_text or ""),
                    "required": bool(field.required),
                    "max_length": getattr(field, "max_length", None),
                    "choices": [
                        {"value": str(value), "label": str(label)}
                        for value, label in choices
                    ]
                    if choices is not None
                    else None,
                    "input_type": _input_type(field),
                    "autocomplete": field.widget.attrs.get("autocomplete"),
                }
            )
        return described

    def answers(self) -> dict[str, str]:
        """The extra answers, keyed by field kind; empty ones are left out."""
        return {
            kind: self.cleaned_data[kind]
            for kind in self.extra_field_kinds
            if self.cleaned_data.get(kind)
        }


def _input_type(field: forms.Field) -> str:
    """The HTML input a front end should use: what the HTML form renders."""
    widget = field.widget
    if isinstance(widget, forms.Textarea):
        return "textarea"
    return str(widget.attrs.get("type") or getattr(widget, "input_type", "text"))


class LeadFormBuilder:
    """Builds a ``LeadForm`` subclass from a page's field blocks and purposes.

    Override ``create_<kind>_field`` to change a kind, or add one to support a
    new kind (and add the block to ``FormFieldsBlock``).
    """

    def __init__(
        self,
        field_blocks: Iterable[Any],
        purposes: Sequence[ConsentPurpose],
    ) -> None:
        self.field_blocks = list(field_blocks)
        self.purposes = list(purposes)

    @property
    def valid_kinds(self) -> list[str]:
        return sorted(
            name.removeprefix("create_").removesuffix("_field")
            for name in dir(self)
            if name.startswith("create_") and name.endswith("_field")
        )

    def build_field(self, kind: str, options: dict[str, Any]) -> forms.Field:
        method = getattr(self, f"create_{kind}_field", None)
        if method is None:
            raise UnknownFieldKind(
                f"Unknown lead form field kind {kind!r}; valid kinds are: "
                + ", ".join(self.valid_kinds)
            )
        field = method(options)
        field.label = options.get("label") or FORM_FIELD_KINDS.get(kind, kind)
        field.required = bool(options.get("required"))
        field.help_text = options.get("help_text") or ""
        return field

    def _text_field(self, autocomplete: str, **kwargs: Any) -> forms.CharField:
        return NormalisedCharField(
            max_length=leadgen_settings.MAX_TEXT_LENGTH,
            validators=[validate_no_control_characters],
            widget=forms.TextInput(attrs={"autocomplete": autocomplete}),
            **kwargs,
        )

    def create_first_name_field(self, options: dict[str, Any]) -> forms.Field:
        return self._text_field("given-name")

    def create_last_name_field(self, options: dict[str, Any]) -> forms.Field:
        return self._text_field("family-name")

    def create_company_field(self, options: dict[str, Any]) -> forms.Field:
        return self._text_field("organization")

    def create_job_title_field(self, options: dict[str, Any]) -> forms.Field:
        return self._text_field("organization-title")

    def create_country_field(self, options: dict[str, Any]) -> forms.Field:
        return self._text_field("country-name")

    def create_phone_field(self, options: dict[str, Any]) -> forms.Field:
        return NormalisedCharField(
            max_length=32,
            validators=[
                validate_no_control_characters,
                RegexValidator(
                    r"^\+?[0-9][0-9 .()-]{4,30}$",
                    message=_("Enter a phone number such as +33 1 23 45 67 89."),
                ),
            ],
            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        )

    def create_question_field(self, options: dict[str, Any]) -> forms.Field:
        return NormalisedCharField(
            max_length=leadgen_settings.MAX_QUESTION_LENGTH,
            validators=[validate_no_control_characters_multiline],
            widget=forms.Textarea(attrs={"rows": 4}),
        )

    def create_consent_field(self, purpose: ConsentPurpose) -> forms.BooleanField:
        help_text = format_html(
            '<div class="leadgen-purpose-text">{}</div>',
            mark_safe(purpose.purpose_html),  # noqa: S308 - sanitised by nh3
        )
        # Never required (R8): not ticking is a refusal, not an error.
        return forms.BooleanField(
            label=purpose.checkbox_label,
            required=False,
            initial=False,
            help_text=help_text,
            widget=ConsentCheckboxInput(),
        )

    def get_form_class(self) -> type[LeadForm]:
        attrs: dict[str, Any] = {}
        kinds: list[str] = []
        for block in self.field_blocks:
            attrs[block.block_type] = self.build_field(
                block.block_type, dict(block.value)
            )
            kinds.append(block.block_type)
        for purpose in self.purposes:
            attrs[f"{CONSENT_PREFIX}{purpose.pk}"] = self.create_consent_field(purpose)
        attrs["purposes"] = tuple(self.purposes)
        attrs["extra_field_kinds"] = tuple(kinds)
        return type("BuiltLeadForm", (LeadForm,), attrs)


class CorrectionForm(forms.Form):
    """A person's correctable answers, prefilled with their current values.

    Each field is the lead form's own (``LeadFormBuilder``), so a correction
    is validated exactly as the answer was. Only answers the person gave are
    offered; none may be emptied (removing a detail is an erasure, not a
    correction). ``changes()`` gives the answers whose value differs.
    """

    def __init__(
        self,
        current: Mapping[str, str],
        data: Any = None,
        *args: Any,
        builder: LeadFormBuilder | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, *args, **kwargs)
        builder = builder or LeadFormBuilder((), ())
        self.current = {
            kind: str(current[kind]) for kind in CORRECTABLE_KINDS if current.get(kind)
        }
        for kind, value in self.current.items():
            field = builder.build_field(kind, {"required": True})
            field.initial = value
            field.error_messages["required"] = _(
                "Enter the corrected value: a detail cannot be removed by a "
                "correction, only by erasing the lead."
            )
            self.fields[kind] = field
        self.order_fields(list(self.current))

    def changes(self) -> dict[str, str]:
        """The corrected answers whose value differs from the current one."""
        return {
            kind: self.cleaned_data[kind]
            for kind in self.current
            if self.cleaned_data[kind] != self.current[kind]
        }
