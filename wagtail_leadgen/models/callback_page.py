"""The call-back offer (issue 14): a lead page whose form asks for a phone
number and when to call, and whose confirmation says when the call comes.

A page type of its own rather than a landing page option: its form always
asks the phone (a builder of its own, ``CallbackFormBuilder``), each
submission records a ``CallbackRequest`` and alerts sales, and the editor
hints and the dashboard find call-back offers by type. A CTA block anywhere
on the site links to it like to any other offer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.api import APIField
from wagtail.search import index

from ..callback_forms import CallbackFormBuilder, callback_promise
from ..forms import LeadForm, LeadFormBuilder
from ..panels import ContentHintsPanel
from ..responses import private
from .base_page import configured_page_model
from .consent import ConsentPurpose
from .mixins import LeadCaptureMixin
from .pages import OfferPage

if TYPE_CHECKING:
    from wagtail.models import AbstractPage as BasePage
else:
    BasePage = configured_page_model()

#: Where the posted form waits for ``render_success`` within one request.
_POSTED_FORM = "_leadgen_posted_form"


class CallbackPage(OfferPage, LeadCaptureMixin, BasePage):
    """ "Call me back": phone, when to call, the consent purposes as usual."""

    page_description = _(
        "A call-back offer: the visitor leaves a phone number and when to call; "
        "sales is alerted at once."
    )

    intro = models.TextField(
        _("introduction"),
        blank=True,
        help_text=_("Who will call, about what, and how fast."),
    )

    # What the call-back hints look for (services/hints/rules_callback.py).
    is_callback_offer = True
    content_hint_fields = ["intro"]
    content_panels = [
        *BasePage.content_panels,
        FieldPanel("intro"),
        ContentHintsPanel(),
        *LeadCaptureMixin.form_panels,
    ]
    search_fields = [*BasePage.search_fields, index.SearchField("intro")]
    api_fields = [APIField("intro"), *LeadCaptureMixin.lead_form_api_fields]
    template = "wagtail_leadgen/pages/callback_page.html"

    class Meta:
        verbose_name = _("call-back page")
        verbose_name_plural = _("call-back pages")

    def get_form_builder(
        self, purposes: list[ConsentPurpose] | None = None
    ) -> LeadFormBuilder:
        return CallbackFormBuilder(
            self.form_fields, self.get_purposes() if purposes is None else purposes
        )

    def get_form(
        self, data: Any = None, *, request: HttpRequest | None = None, **kwargs: Any
    ) -> LeadForm:
        form = super().get_form(data, request=request, **kwargs)
        if data is not None and request is not None:
            setattr(request, _POSTED_FORM, form)  # for the promise on success
        return form

    def render_success(
        self, request: HttpRequest, *, download_token: str | None
    ) -> HttpResponse:
        """Thank the visitor here with when they will be called (it depends on
        their answer and the hours), linking to the thank-you page if any."""
        context = self.get_context(request)
        context["promise"] = callback_promise(getattr(request, _POSTED_FORM, None))
        context["thank_you_url"] = self.thank_you_url(request)
        return private(
            TemplateResponse(
                request, "wagtail_leadgen/pages/callback_thanks.html", context
            )
        )
