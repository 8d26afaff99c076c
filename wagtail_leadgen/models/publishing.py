"""What a lead page needs before it can be published from the admin (R10).

A form that collects personal data must come with a complete information
notice: who the controller is and how to reach them, and the processing the
request itself rests on. Drafts stay possible (an editor writes the page
before the settings are filled in); publishing is refused with an error that
says where to fix it.

Wagtail's page form is the place: the model's ``clean()`` runs on every
save, drafts included, while the form knows whether required fields are
deferred (``is_deferred_validation``: a draft save) or enforced (publish,
submit for moderation, and Wagtail 8's API when it publishes).

``LeadCaptureMixin.base_form_class`` is ``LeadPageForm``; a page type with
a form class of its own combines both (see ``LeadPageForm``). Publishing
outside a form (``revision.publish()`` in code, the publish action of
Wagtail's API on an existing revision) is not checked here: the
``wagtail_leadgen.W010`` system check reports live pages that lack a notice.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.models import Site

from .settings import LeadgenSiteSettings

#: Where the editor fills in the controller identity (the setting's menu path).
SETTINGS_PATH = _("Settings › Lead generation: data controller")


def site_for_page(page: Any, parent_page: Any = None) -> Site | None:
    """The site a page belongs (or will belong) to; the default site if none."""
    for candidate in (page, parent_page):
        if candidate is None or not (candidate.pk or getattr(candidate, "path", "")):
            continue
        try:
            site = candidate.get_site()
        except Exception:  # an unsaved tree position may not resolve to a site
            site = None
        if site is not None:
            return site
    return Site.objects.filter(is_default_site=True).first()


def publishing_problems(
    site: Site | None, processing: Any, *, processing_missing: bool = False
) -> dict[str | None, Any]:
    """Why a lead page of ``site`` with the request processing ``processing``
    may not be published yet, keyed by form field (None: the whole form);
    empty when it may. ``processing_missing``: chosen once, deleted since."""
    problems: dict[str | None, Any] = {}
    if site is None or not LeadgenSiteSettings.for_site(site).is_complete:
        problems[None] = _(
            "This page cannot be published until the data controller's name and "
            "contact email are filled in (%(settings)s): its information notice "
            "would not say who is responsible for the data."
        ) % {"settings": SETTINGS_PATH}
    if processing is None or processing_missing:
        problems["request_processing"] = _(
            "Choose the request processing before publishing: the notice next to "
            "the button must say what is done with the data to answer the request."
        )
    elif not processing.live:
        problems["request_processing"] = _(
            "The request processing “%(name)s” is not published: publish it "
            "before this page."
        ) % {"name": processing.name}
    return problems


class LeadPageForm(WagtailAdminPageForm):
    """The admin form of lead pages (``LeadCaptureMixin.base_form_class``):
    publishing needs a complete notice, drafts do not.

    A page type with a form class of its own puts this one first::

        class MyPageForm(LeadPageForm, MySiteAdminPageForm): ...
    """

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        if self.is_deferred_validation:  # a draft
            return cleaned_data
        missing = False
        if "request_processing" in self.fields:
            processing = cleaned_data.get("request_processing")
        else:
            try:
                processing = self.instance.request_processing
            except ObjectDoesNotExist:
                processing, missing = None, True
        site = site_for_page(self.instance, self.parent_page)
        problems = publishing_problems(site, processing, processing_missing=missing)
        if "request_processing" in self.errors:
            problems.pop("request_processing", None)  # its own error says enough
        for field, message in problems.items():
            self.add_error(field if field in self.fields else None, message)
        return cleaned_data
