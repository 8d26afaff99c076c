"""Abstract page mixins, for sites that build their own page types on their own base page.

The concrete pages in ``pages.py`` are these mixins on the configured base
page (Wagtail's ``Page``, or the site's own when ``WAGTAIL_PAGE_MODEL`` swaps
it); a site's own page types combine the same mixins with that base, or with
any page type built on it.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

import swapper
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalManyToManyField
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, PageChooserPanel
from wagtail.admin.widgets import AdminPageChooser
from wagtail.api import APIField
from wagtail.fields import StreamField
from wagtail.models import get_page_models

from ..blocks import FormFieldsBlock
from ..conf import leadgen_settings
from ..forms import (
    REFERRER_FIELD,
    TOKEN_FIELD,
    LeadForm,
    LeadFormBuilder,
    referrer_origin,
)
from ..responses import private, shared, with_csp

# A page serves itself, as Wagtail's own FormMixin does: serve() hands the
# bound form to the intake and counts the view. These two imports are the
# only way up from the models layer (named in the import-linter contract).
from ..services.intake import CHANGED_MESSAGE, Offer, Outcome, process_submission
from ..services.tracking import count_page_view
from ..tokens import (
    InvalidToken,
    make_form_token,
    make_page_form_token,
    read_form_token,
)
from .api_fields import (
    FormDefinitionField,
    FormSchemaUrlField,
    PurposesField,
    ThankYouPageField,
)
from .consent import ConsentPurpose
from .freshness import cached
from .processing import RequestProcessing
from .publishing import LeadPageForm
from .sharing import form_post_urls, may_share, rendered_once

if TYPE_CHECKING:
    # The mixins are mixed into a Wagtail page, whose methods (get_context,
    # get_template, serve...) they call; to the type checker they are pages
    # already (Wagtail ships no type hints, so that page type is opaque).
    # AbstractPage: the base page may be swapped (WAGTAIL_PAGE_MODEL).
    from wagtail.models import AbstractPage as _MixedIntoPage
else:
    _MixedIntoPage = models.Model


class ThankYouPageChooserPanel(PageChooserPanel):
    """The thank-you page chooser: it lists thank-you pages only (every page
    type built on ``ThankYouMixin``, the site's own included)."""

    def get_form_options(self) -> dict[str, Any]:
        options = super().get_form_options()
        options.setdefault("widgets", {})[self.field_name] = AdminPageChooser(
            target_models=thank_you_page_models()
        )
        return options


class LeadCaptureMixin(_MixedIntoPage):
    """A page that carries a lead form: its fields, purposes and thank-you page."""

    form_heading = models.CharField(
        _("form heading"), max_length=120, blank=True, default=""
    )
    submit_label = models.CharField(
        _("submit button label"), max_length=60, blank=True, default=""
    )
    form_fields = StreamField(
        FormFieldsBlock(),
        blank=True,
        verbose_name=_("extra form fields"),
        help_text=_(
            "Email is always asked for. Every extra field lowers conversions: "
            "ask only what the purpose needs."
        ),
    )
    request_processing = models.ForeignKey(
        "wagtail_leadgen.RequestProcessing",
        verbose_name=_("request processing"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_(
            "What is done with the data to answer the request: stated next to the "
            "button, no checkbox."
        ),
    )
    consent_purposes = ParentalManyToManyField(
        ConsentPurpose,
        blank=True,
        related_name="+",
        verbose_name=_("consent purposes"),
        help_text=_("One optional checkbox per purpose, never pre-ticked."),
    )
    thank_you_page = models.ForeignKey(
        swapper.get_model_name("wagtailcore", "Page"),
        verbose_name=_("thank-you page"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    crm_destinations = models.CharField(
        _("CRM destinations"),
        max_length=255,
        blank=True,
        help_text=_(
            "Comma-separated destination names from the site's settings; "
            "leave empty to send this page's leads to every destination."
        ),
    )

    form_panels = [
        MultiFieldPanel(
            [
                FieldPanel("form_heading"),
                FieldPanel("form_fields"),
                FieldPanel(
                    "request_processing",
                    help_text=_(
                        "What the visitor asks for (the e-book, the call back) needs "
                        "no checkbox: sending the form is the request. Choose what is "
                        "done with the data to answer it; it is stated next to the "
                        "button. Required to publish."
                    ),
                ),
                FieldPanel(
                    "consent_purposes",
                    widget=forms.CheckboxSelectMultiple,
                    help_text=_(
                        "Only optional extras the visitor may agree to (newsletter, "
                        "partner offers): one box each, never pre-ticked, never "
                        "required. Not for what the visitor asks for."
                    ),
                ),
                FieldPanel("submit_label"),
                ThankYouPageChooserPanel("thank_you_page"),
                FieldPanel("crm_destinations"),
            ],
            heading=_("Lead form"),
        )
    ]

    # What Wagtail's page APIs show of the form: the fields and purposes the
    # HTML form shows, the thank-you page, and where the plugin's API serves
    # the form schema. A page type's own ``api_fields`` add these to theirs.
    lead_form_api_fields = [
        APIField("form_heading"),
        APIField("form", serializer=FormDefinitionField()),
        APIField("purposes", serializer=PurposesField()),
        APIField("thank_you_page", serializer=ThankYouPageField()),
        APIField("form_schema_url", serializer=FormSchemaUrlField()),
    ]
    api_fields = lead_form_api_fields

    # Publishing needs a complete notice (controller, request processing);
    # see ``publishing.LeadPageForm`` to combine it with a form of your own.
    base_form_class = LeadPageForm

    class Meta:
        abstract = True

    # -- Form ---------------------------------------------------------------
    def get_purposes(self) -> list[ConsentPurpose]:
        """Published purposes attached to this page. Override to choose them otherwise."""
        return list(self.consent_purposes.filter(live=True))

    def get_form_builder(
        self, purposes: list[ConsentPurpose] | None = None
    ) -> LeadFormBuilder:
        """Override this to use a builder with more or different field kinds."""
        return LeadFormBuilder(
            self.form_fields, self.get_purposes() if purposes is None else purposes
        )

    def get_form_class(
        self, purposes: list[ConsentPurpose] | None = None
    ) -> type[LeadForm]:
        return self.get_form_builder(purposes).get_form_class()

    def shown_purposes(
        self, data: Any, current: Sequence[ConsentPurpose] = ()
    ) -> tuple[list[ConsentPurpose], bool] | None:
        """The purposes a posted form showed, read from its signed token, and
        whether any of them no longer exists; None for a token that cannot be
        read (the intake then decides: spam, or a form shown again).

        The answers are read, and the proof written, against what the visitor
        saw, not against the page as it is now: a purpose published or removed
        while the form was open must not get a record for a box nobody saw.
        ``current``: the page's purposes as they are now, taken as they are
        (no query) when the token names exactly them at their live revisions.
        """
        try:
            token = read_form_token(str(data.get(TOKEN_FIELD, "")), page_id=self.pk)
        except InvalidToken:
            return None
        if current and token.purpose_versions == {
            purpose.pk: purpose.live_revision_id for purpose in current
        }:
            return list(current), False
        found = ConsentPurpose.objects.in_bulk(list(token.purpose_versions))
        purposes = [found[pk] for pk in token.purpose_versions if pk in found]
        return purposes, len(purposes) < len(token.purpose_versions)

    def form_cache_key(self) -> Hashable | None:
        """What this page's built form (its class, purposes and request
        processing) depends on besides the content stamp (see
        ``models.freshness``): the page, its live revision and the language.

        Override this to return None when your ``get_purposes`` or
        ``get_form_builder`` depend on the request: the form is then built
        on every view."""
        if self.pk is None:
            return None
        return ("form", type(self), self.pk, self.live_revision_id, get_language())

    def built_form(
        self, request: HttpRequest | None = None
    ) -> tuple[type[LeadForm], RequestProcessing | None]:
        """The page's form class and request processing as they are now,
        built once per revision and content stamp for a served page (never
        in a preview, never without a request)."""

        def build() -> tuple[type[LeadForm], RequestProcessing | None]:
            return self.get_form_class(), self.get_request_processing()

        key = self.form_cache_key()
        form_class, processing = build() if key is None else cached(request, key, build)
        if processing is not None and self.request_processing_id == processing.pk:
            # Read below (the notice, the offer) without another query.
            self.request_processing = processing
        return form_class, processing

    def get_form(
        self,
        data: Any = None,
        *,
        request: HttpRequest | None = None,
        current: bool = False,
        shared: bool = False,
    ) -> LeadForm:
        """The form, with a fresh time-trap token whether it is new or shown again.

        A posted form is rebuilt with the purposes its token says were shown,
        unless ``current`` asks for the page's purposes as they are now.
        ``shared``: the form of a page a shared cache may hold, with the page
        token (the same for every visitor) and nothing from the request.
        """
        form_class, processing = self.built_form(request)
        if data is not None and not current:
            shown = self.shown_purposes(data, form_class.purposes)
            if shown is not None and list(shown[0]) != list(form_class.purposes):
                form_class = self.get_form_class(shown[0])
        else:
            shown = None
        make_token = (
            make_page_form_token if shared and data is None else make_form_token
        )
        token = make_token(
            self.pk,
            {purpose.pk: purpose.live_revision_id for purpose in form_class.purposes},
            processing.live_revision_id if processing else None,
        )
        if data is not None:
            form = form_class(data, fresh_token=token)
            form.shown_purposes_missing = bool(shown and shown[1])
            return form
        referrer = (
            referrer_origin(request.headers.get("Referer", ""))
            if request and not shared
            else ""  # a shared page's script fills it in from document.referrer
        )
        return form_class(initial={TOKEN_FIELD: token, REFERRER_FIELD: referrer})

    def get_request_processing(self) -> RequestProcessing | None:
        """The processing the request itself rests on, stated next to the button."""
        if self.request_processing_id is None:
            return None
        return self.request_processing

    def get_gated_document(self):
        """The document a submission unlocks; none for a plain landing page."""
        return None

    def get_crm_destinations(self) -> list[str]:
        """The CRM aliases this page's leads go to. Override to route otherwise."""
        chosen = [
            alias.strip() for alias in self.crm_destinations.split(",") if alias.strip()
        ]
        return chosen or leadgen_settings.configured_aliases()

    # -- Serving ------------------------------------------------------------
    def may_be_shared(self, request: HttpRequest) -> bool:
        """Whether a shared cache (a CDN) may hold this response for every
        anonymous visitor (``sharing.may_share``). Override this to keep some
        pages private."""
        return may_share(request, self.pk)

    def form_post_context(
        self, request: HttpRequest, *, shared: bool = False
    ) -> dict[str, Any]:
        """Where the form posts and, on a shared page, where its script fetches
        the visitor's token (read by ``{% leadgen_form %}``)."""
        return form_post_urls(request, self.pk, shared=shared)

    def serve(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            return private(self.serve_submission(request))
        is_shared = self.may_be_shared(request)

        def render() -> HttpResponse:
            context = self.get_context(request, *args, **kwargs)
            context["form"] = self.get_form(request=request, shared=is_shared)
            context.update(self.form_post_context(request, shared=is_shared))
            return TemplateResponse(request, self.get_template(request), context)

        if is_shared:
            # Counted where its script fetches the visitor's token.
            response = rendered_once(request, self.pk, render)
            return shared(response, leadgen_settings.shared_cache_max_age)
        count_page_view(request, self)  # no SQL: the cache counts
        response = render()
        if leadgen_settings.shared_cache_max_age > 0:
            return private(response)  # an editor's page must never be shared
        return with_csp(response)

    def get_preview_context(
        self, request: HttpRequest, mode_name: str
    ) -> dict[str, Any]:
        context = super().get_preview_context(request, mode_name)
        context["form"] = self.get_form(request=request)
        return context

    def get_offer(self) -> Offer:
        """What a submission on this page is for. Override to route or unlock otherwise."""
        return Offer(
            page=self,
            destinations=self.get_crm_destinations(),
            document=self.get_gated_document(),
            request_processing=self.get_request_processing(),
        )

    def serve_submission(self, request: HttpRequest) -> HttpResponse:
        """Override this to change what happens after a form is posted."""
        intake = process_submission(
            self.get_form(request.POST, request=request),
            request=request,
            offer=self.get_offer(),
        )
        if intake.looks_successful:
            return self.render_success(request, download_token=intake.download_token)
        form = intake.form
        if intake.outcome == Outcome.CHANGED:
            # Shown again with the texts as they are now, answers kept.
            form = self.get_form(request.POST, request=request, current=True)
            form.is_valid()
            form.add_error(None, CHANGED_MESSAGE)
        context = self.get_context(request)
        context["form"] = form
        context.update(self.form_post_context(request))
        return private(
            TemplateResponse(
                request, self.get_template(request), context, status=intake.status_code
            )
        )

    def thank_you_url(self, request: HttpRequest | None = None) -> str | None:
        """Where a visitor goes after a submission: the live thank-you page's
        URL, or None to thank them on this page. Cached per revision and
        content stamp, like the form (the redirect fetches no page)."""

        def build() -> str | None:
            thank_you = self.thank_you_page
            if thank_you is None or not thank_you.live:
                return None
            return thank_you.url

        key = self.form_cache_key()
        if key is None:
            return build()
        return cached(request, ("thank-you", key), build)

    def render_success(
        self, request: HttpRequest, *, download_token: str | None
    ) -> HttpResponse:
        """Send the visitor to the thank-you page, or thank them here if there is none."""
        url = self.thank_you_url(request)
        if url is not None:
            if download_token:
                url = f"{url}?download={download_token}"
            return HttpResponseRedirect(url, status=303)
        context = self.get_context(request)
        context["download_token"] = download_token
        return private(
            TemplateResponse(
                request, "wagtail_leadgen/pages/thank_you_inline.html", context
            )
        )

    def clean(self) -> None:
        super().clean()
        available = leadgen_settings.configured_aliases()
        unknown = set(self.get_crm_destinations()) - set(available)
        if unknown:
            raise ValidationError(
                {
                    "crm_destinations": _(
                        "Unknown destination(s): %(names)s. Available: %(available)s."
                    )
                    % {
                        "names": ", ".join(sorted(unknown)),
                        "available": ", ".join(available),
                    }
                }
            )
        thank_you = self.thank_you_page
        if thank_you is not None and not isinstance(thank_you.specific, ThankYouMixin):
            raise ValidationError(
                {
                    "thank_you_page": _(
                        "Choose a thank-you page: only it can give the visitor their download."
                    )
                }
            )


class ThankYouMixin(_MixedIntoPage):
    """A thank-you page: shows the download just unlocked, if any (R4).

    Its URL may carry a download token, so responses are never cached and
    never leak the URL as a referrer.
    """

    class Meta:
        abstract = True

    @classmethod
    def clean_parent_page_models(cls) -> list[type[Any]]:
        """Under an offer page (any page type with a lead form), the offer it
        thanks for and shares, unless the page type sets ``parent_page_types``."""
        if getattr(cls, "parent_page_types", None) is None:
            return lead_capture_page_models()
        return super().clean_parent_page_models()

    def get_context(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        token = request.GET.get("download", "")
        context["download_token"] = token or None
        return context

    def serve(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return private(super().serve(request, *args, **kwargs))


def lead_capture_page_models() -> list[type[Any]]:
    """Every page type with a lead form: the offers thank-you pages go under."""
    return [model for model in get_page_models() if issubclass(model, LeadCaptureMixin)]


def thank_you_page_models() -> list[type[Any]]:
    """Every page type that thanks a visitor: what the thank-you chooser lists."""
    return [model for model in get_page_models() if issubclass(model, ThankYouMixin)]
