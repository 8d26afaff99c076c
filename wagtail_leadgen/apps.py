from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WagtailLeadgenConfig(AppConfig):
    name = "wagtail_leadgen"
    label = "wagtail_leadgen"
    verbose_name = _("Lead generation")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: Django imports this module before the
        # models are loaded, and these modules import models.
        from . import (  # noqa: F401 - the system checks
            callback_checks,
            checks,
            deploy_checks,
            experiment_checks,
            headless_checks,
        )

        # What ready() connects, for the same reason.
        from .api_v3 import register_v3_routes
        from .models.freshness import connect_receivers as watch_form_content
        from .panels import adopt_panel_content_fields
        from .services import frontend_cache
        from .services.hints.summaries import connect_receivers

        adopt_panel_content_fields()
        connect_receivers()
        register_v3_routes()
        frontend_cache.connect_receivers()
        watch_form_content()
