"""Progressive profiling: a page's queue of further questions for people the site knows.

A stranger gets the page's standard form. A known visitor (``models.known``:
a profiling link from the plugin's own emails, or a remember-me cookie
backed by a consent in force) is not asked again what the site knows:

- not the email: the submission is bound to the known person (the form shows
  a masked address and a "Not you?" link instead of the field). Nothing to
  retype, nothing to mistype, and no address in the HTML;
- not a field of the form they already answered;
- instead, the next questions of the page's **profiling queue** they have not
  answered, at most ``profiling_questions`` per visit, in the queue's order.

A visitor who gave every answer of the form thus sees only the next queue
questions: a shorter form than a stranger's. The answers are stored like any
other (one submission each: the history), and the latest value of each wins
where the lead's details are shown.

A personalised form is built for its request only: never from the
per-revision form cache, never rendered once for everyone, and its response
is private (``Cache-Control: private, no-store``); docs/caching.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import StreamField

from ..blocks import FormFieldsBlock
from ..forms import TOKEN_FIELD, LeadForm
from ..responses import private
from .known import (
    NOT_YOU,
    KnownVisitor,
    carries_identifier,
    forget_device,
    known_visitor,
    link_parameter,
    remember_device,
)
from .leads import Lead

if TYPE_CHECKING:
    # Mixed into a lead page (``LeadCaptureMixin``), whose methods it extends.
    from .mixins import LeadCaptureMixin as _MixedIntoLeadPage
else:
    _MixedIntoLeadPage = models.Model

# Where the page keeps the form a POST was read with, for its own response.
_POSTED_FORM = "_leadgen_posted_form"


class ProfiledForm:
    """Mixed into a page's built form for a known visitor: no email field
    (the known person's address is the submission's), the fields chosen by
    ``profiled_form_class``."""

    known_visitor: KnownVisitor
    not_you_url: str = ""
    extra_field_kinds: tuple[str, ...]

    @classmethod
    def asked_field_names(cls) -> tuple[str, ...]:
        return tuple(cls.extra_field_kinds)

    @property
    def known_as(self) -> str:
        return self.known_visitor.masked_email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()  # type: ignore[misc]
        cleaned["email"] = self.known_visitor.lead.email
        return cleaned


def profiled_kinds(
    standard: list[str], queue: list[str], known: frozenset[str], per_visit: int
) -> list[str]:
    """What a known visitor is asked: the form's fields they did not answer,
    then up to ``per_visit`` queue questions they did not answer, in order."""
    asked = [kind for kind in standard if kind not in known]
    extra = [
        kind for kind in dict.fromkeys(queue) if kind not in known and kind not in asked
    ]
    return asked + extra[:per_visit]


def profiled_form_class(
    form_class: type[LeadForm], page: Any, visitor: KnownVisitor
) -> type[LeadForm]:
    """``form_class`` (the page's built form) as a known visitor gets it."""
    standard = list(form_class.extra_field_kinds)
    queue = {block.block_type: block for block in page.profiling_fields or ()}
    kinds = profiled_kinds(
        standard, list(queue), visitor.known_kinds, page.profiling_questions
    )
    builder = page.get_form_builder(list(form_class.purposes))
    attrs: dict[str, Any] = {"email": None}  # None removes the inherited field
    for kind in standard:
        if kind not in kinds:
            attrs[kind] = None
    for kind in kinds:
        if kind not in standard:
            attrs[kind] = builder.build_field(kind, dict(queue[kind].value))
    attrs["extra_field_kinds"] = tuple(kinds)
    attrs["known_visitor"] = visitor
    attrs["not_you_url"] = f"{page.url or ''}?{link_parameter()}={NOT_YOU}"
    return type("ProfiledLeadForm", (ProfiledForm, form_class), attrs)


class ProfilingMixin(_MixedIntoLeadPage):
    """A lead page with a profiling queue. Put it before ``LeadCaptureMixin``
    in the page's bases: it extends the form and how the page is served."""

    profiling_fields = StreamField(
        FormFieldsBlock(),
        blank=True,
        verbose_name=_("profiling queue"),
        help_text=_(
            "Further questions, in order, for people who come back from one of "
            "our emails or asked to be remembered on their device. They are "
            "never asked what they already told us, nor their email."
        ),
    )
    profiling_questions = models.PositiveSmallIntegerField(
        _("profiling questions per visit"),
        default=1,
        help_text=_(
            "How many questions of the queue a returning person gets on top of "
            "the form's fields they have not answered."
        ),
    )

    profiling_panels = [
        MultiFieldPanel(
            [FieldPanel("profiling_fields"), FieldPanel("profiling_questions")],
            heading=_("Progressive profiling"),
            classname="collapsed",
        )
    ]

    class Meta:
        abstract = True

    def known_visitor(self, request: HttpRequest | None) -> KnownVisitor | None:
        """The person this request comes from, when the site may know it.
        Override this to recognise people otherwise (say, your site's own
        logged-in members) — never by a means that needs tracking consent."""
        return known_visitor(request) if request is not None else None

    def may_be_shared(self, request: HttpRequest) -> bool:
        # A request naming a person, rightly or not, is answered for it alone.
        return super().may_be_shared(request) and not carries_identifier(request)

    def get_form(
        self,
        data: Any = None,
        *,
        request: HttpRequest | None = None,
        current: bool = False,
        shared: bool = False,
    ) -> LeadForm:
        form = super().get_form(data, request=request, current=current, shared=shared)
        visitor = None if shared else self.known_visitor(request)
        if visitor is not None:
            form_class = profiled_form_class(type(form), self, visitor)
            if data is None:
                form = form_class(initial=form.initial)
            else:
                missing = form.shown_purposes_missing
                # The posted token stays the one to check; the fresh one is shown.
                form = form_class(data, fresh_token=form.data.get(TOKEN_FIELD))
                form.shown_purposes_missing = missing
        if data is not None and request is not None:
            setattr(request, _POSTED_FORM, form)
        return form

    def serve(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().serve(request, *args, **kwargs)
        if request.method != "POST" and carries_identifier(request):
            response = private(response)
            if request.GET.get(link_parameter()) == NOT_YOU:
                forget_device(response, request)
        return response

    def serve_submission(self, request: HttpRequest) -> HttpResponse:
        response = super().serve_submission(request)
        self.remember_if_asked(request, response)
        return response

    def remember_if_asked(self, request: HttpRequest, response: HttpResponse) -> None:
        """After a captured submission whose visitor ticked a purpose that
        remembers the device, set the remember-me cookie. Captured: answered
        as a success and validated (spam is answered like a success but never
        validated, so it never gets a cookie)."""
        form = getattr(request, _POSTED_FORM, None)
        if (
            form is None
            or response.status_code >= 400
            or getattr(form, "cleaned_data", None) is None
            or form.errors
        ):
            return
        purposes = [
            purpose
            for purpose, ticked in form.consent_answers().items()
            if ticked and purpose.remembers_device
        ]
        if not purposes:
            return
        lead = (
            Lead.objects.filter(email=form.cleaned_data["email"])
            .only("pk", "preferences_nonce")
            .first()
        )
        if lead is not None:
            remember_device(response, request, lead, purposes[0])


def has_profiling(page: Any) -> bool:
    """Whether a page can ask known visitors further questions."""
    return isinstance(page, ProfilingMixin) and bool(page.profiling_fields)
