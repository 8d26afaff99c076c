"""All admin wiring of wagtail-leadgen."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from .gating import is_gated_document
from .models import CallToAction, ConsentPurpose, Delivery, Lead
from .views.admin import LeadgenViewSetGroup, ReadOnlyPermissionPolicy


class ConsentPurposeViewSet(SnippetViewSet):
    model = ConsentPurpose
    icon = "tick-inverse"
    menu_label = _("Consent purposes")
    list_display = ["name", "legal_basis", "is_offer", "live"]
    list_filter = ["legal_basis", "is_offer"]
    search_fields = ["name", "checkbox_label"]
    add_to_admin_menu = True
    menu_order = 250


class CallToActionViewSet(SnippetViewSet):
    model = CallToAction
    icon = "pick"
    menu_label = _("Calls to action")
    list_display = ["label", "style", "href"]
    search_fields = ["label"]


register_snippet(ConsentPurposeViewSet)
register_snippet(CallToActionViewSet)


register_permission_policy(Lead, ReadOnlyPermissionPolicy(Lead), exact_class=True)
register_permission_policy(
    Delivery, ReadOnlyPermissionPolicy(Delivery), exact_class=True
)


@hooks.register("register_admin_viewset")
def register_leads_and_deliveries():
    return LeadgenViewSetGroup()


@hooks.register("before_serve_document")
def refuse_gated_documents_outside_token_view(document, request):
    """Defence in depth: even if its collection loses its privacy, a gated file is
    served by Wagtail's document URL only to people who can use the admin."""
    if is_gated_document(document) and not request.user.has_perm(
        "wagtailadmin.access_admin"
    ):
        raise Http404
