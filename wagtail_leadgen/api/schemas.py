"""The JSON shapes of the form endpoints, as the OpenAPI document shows them.

Field names are a contract with decoupled front ends (docs/headless-reference.md):
fields may be added, never renamed. Request bodies forbid unknown keys, so a
client can never set what the server decides (spam flags, consent versions,
timestamps, channel).
"""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field, StrictBool, StrictStr


class PageRef(Schema):
    id: int
    title: str
    url: str | None


class Choice(Schema):
    value: str
    label: str


class FormFieldOut(Schema):
    name: str = Field(description="The key of this answer in the POST's `answers`.")
    kind: str = Field(description='"email", or an extra field kind (first_name, …).')
    label: str
    help_text: str
    required: bool
    max_length: int | None
    choices: list[Choice] | None
    input_type: str = Field(description='"email", "text", "tel" or "textarea".')
    autocomplete: str | None


class ConsentOut(Schema):
    id: int = Field(description="The key of this box in the POST's `consents`.")
    version: int | None = Field(description="The published revision shown.")
    name: str = Field(
        description="What the visitor ticks (or, for the request, reads)."
    )
    text: str = Field(description="The exact purpose text shown, as sanitised HTML.")
    is_request: bool = Field(
        description="The processing the request itself rests on: stated next to "
        "the button, no checkbox (never send it in `consents`)."
    )
    requires_confirmation: bool = Field(
        description="A tick counts only once confirmed from an email (double opt-in)."
    )


class AntiSpamOut(Schema):
    token: str = Field(description="Send it back as `token`: signed, time-limited.")
    honeypot_field: str = Field(
        description="Name of a hidden input humans leave empty; send its value "
        "as `honeypot`."
    )
    proof_of_work: dict[str, Any] | None = Field(
        description="An ALTCHA challenge when proof of work is on; send the "
        "solution as `proof_of_work`."
    )


class FormSchemaOut(Schema):
    page: PageRef
    language: str
    heading: str
    submit_label: str
    fields: list[FormFieldOut]
    consents: list[ConsentOut]
    notice: dict[str, Any] = Field(
        description="The information notice: `html` as the page shows it, and "
        "its structured parts (controller, processings, rights, …)."
    )
    anti_spam: AntiSpamOut
    submit_url: str


class StrictBody(Schema):
    """A request body that refuses any field it does not name (no mass
    assignment: a client never sets what the server decides)."""

    model_config = ConfigDict(extra="forbid")


class SubmissionIn(StrictBody):
    """A submission: the form's answers, one decision per consent box, the
    schema's token; nothing else."""

    answers: dict[StrictStr, StrictStr] = Field(
        description='Keyed by field `name`; "email" is required by every form.'
    )
    consents: dict[StrictStr, StrictBool] = Field(
        default_factory=dict,
        description="Keyed by consent `id` (as a string); a box left out is a refusal.",
    )
    token: StrictStr = Field(description="`anti_spam.token` from the schema.")
    honeypot: StrictStr = Field(default="", description="Leave empty.")
    proof_of_work: StrictStr = Field(
        default="", description="The ALTCHA solution, when the schema asked for one."
    )
    referrer: StrictStr = Field(
        default="",
        description="Where the visitor came from (origin and path are kept).",
    )


class SubmissionOut(Schema):
    submission_id: str = Field(description="An opaque reference to quote to support.")
    thank_you_page: PageRef | None
    download_url: str | None = Field(
        description="The gated document's link, for an offer that has one."
    )
    confirmation_requested: bool = Field(
        description="A confirmation email is on its way (double opt-in)."
    )


class ProblemError(Schema):
    field: str | None
    code: str
    message: str


class Problem(Schema):
    """An RFC 9457 problem document (``application/problem+json``)."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemError] | None = None
