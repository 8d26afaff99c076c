"""The lead page's "Correct" action: staff correct a person's details on
their request (R15), with the reason; needs ``change_lead``.

The form is the person's own correction form (``forms.CorrectionForm``, each
field validated as the lead form validates it) plus who asked and why. The
correction goes through ``services.rectification.rectify``, like the
person's own, and is written to Wagtail's audit log by field name, never by
value.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets.button import Button

from ..audit import lead_log_label, log_lead_rectified
from ..forms import CorrectionForm
from ..models import Lead, RectificationSource
from ..services.rectification import (
    NOTE_MAX_LENGTH,
    REQUESTED_BY_MAX_LENGTH,
    InvalidCorrection,
    correction_form,
    rectify,
)
from ..validators import (
    validate_no_control_characters,
    validate_no_control_characters_multiline,
)

PERMISSION = "wagtail_leadgen.change_lead"


class StaffCorrectionForm(CorrectionForm):
    """The correctable answers, then who asked and why (required)."""

    requested_by = forms.CharField(
        label=_("Request from"),
        required=False,
        max_length=REQUESTED_BY_MAX_LENGTH,
        validators=[validate_no_control_characters],
        help_text=_(
            "Who asked, when not the person themselves (e.g. their heirs, by post)."
        ),
    )
    note = forms.CharField(
        label=_("Reason"),
        max_length=NOTE_MAX_LENGTH,
        validators=[validate_no_control_characters_multiline],
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("How the request came and what it asked for."),
    )


def correct_buttons(user, lead: Lead) -> list[Button]:
    """The lead page's "Correct" button, for users who may correct leads."""
    if not user.has_perm(PERMISSION):
        return []
    return [
        Button(
            _("Correct"),
            url=reverse("wagtail_leadgen_leads:correct", args=[lead.pk]),
            icon_name="edit",
            priority=30,
        )
    ]


class CorrectLeadView(WagtailAdminTemplateMixin, FormView):
    """Show the person's current details prefilled; record what changed."""

    template_name = "wagtail_leadgen/admin/lead_correct.html"
    page_title = _("Correct the person's details")
    header_icon = "edit"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied
        self.lead = get_object_or_404(Lead, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_page_subtitle(self):
        return lead_log_label(self.lead.pk)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("wagtail_leadgen_leads:index"), "label": _("Leads")},
            {"url": self.lead_url, "label": lead_log_label(self.lead.pk)},
            {"url": "", "label": self.get_page_title()},
        ]

    @property
    def lead_url(self) -> str:
        return reverse("wagtail_leadgen_leads:inspect", args=[self.lead.pk])

    def get_form(self, form_class=None):
        data = self.request.POST if self.request.method == "POST" else None
        return correction_form(self.lead, data, form_class=StaffCorrectionForm)

    def get(self, request, *args, **kwargs):
        if not self.get_form().current:
            messages.info(
                request, _("This person gave no detail that can be corrected.")
            )
            return redirect(self.lead_url)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(lead_url=self.lead_url, **kwargs)

    def form_valid(self, form):
        try:
            rectification = rectify(
                self.lead,
                form.changes(),
                source=RectificationSource.STAFF,
                requested_by=form.cleaned_data["requested_by"],
                note=form.cleaned_data["note"],
            )
        except InvalidCorrection as refused:
            # Valid a moment ago: the person's details changed meanwhile.
            for field, errors in refused.errors.items():
                form.add_error(field if field in form.fields else None, errors)
            return self.form_invalid(form)
        if rectification is None:
            messages.info(self.request, _("Nothing changed: no correction recorded."))
        else:
            log_lead_rectified(rectification, self.request.user)
            messages.success(
                self.request,
                _(
                    "The correction is recorded and will be sent to the CRMs that have the lead."
                ),
            )
        return redirect(self.lead_url)
