"""Per-site editorial settings: who the controller is (R10). Never secrets."""

from __future__ import annotations

import swapper
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting


@register_setting(icon="lock")
class LeadgenSiteSettings(BaseSiteSetting):
    """The data controller's identity, shown in the information notice of every form."""

    controller_name = models.CharField(
        _("data controller"),
        max_length=200,
        blank=True,
        help_text=_("The company responsible for the data, e.g. 'Example SAS'."),
    )
    controller_address = models.CharField(
        _("postal address"), max_length=300, blank=True
    )
    contact_email = models.EmailField(
        _("contact for data requests"),
        blank=True,
        help_text=_("Where visitors send access, correction or erasure requests."),
    )
    dpo_email = models.EmailField(_("data protection officer"), blank=True)
    privacy_page = models.ForeignKey(
        swapper.get_model_name("wagtailcore", "Page"),
        verbose_name=_("privacy policy page"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    panels = [
        FieldPanel("controller_name"),
        FieldPanel("controller_address"),
        FieldPanel("contact_email"),
        FieldPanel("dpo_email"),
        FieldPanel("privacy_page"),
    ]

    class Meta:
        verbose_name = _("lead generation: data controller")

    @property
    def is_complete(self) -> bool:
        return bool(self.controller_name and self.contact_email)
