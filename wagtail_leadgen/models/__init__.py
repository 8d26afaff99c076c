from .consent import ConsentDecision, ConsentPurpose, ConsentRecord, LegalBasis
from .delivery import Delivery, DeliveryStatus, PausedDestination
from .leads import DownloadGrant, Lead, Submission
from .mixins import GatedDocumentMixin, LeadCaptureMixin, ThankYouMixin
from .pages import EbookPage, LandingPage, ThankYouPage
from .settings import LeadgenSiteSettings
from .snippets import CallToAction, CTAStyle

__all__ = [
    "CTAStyle",
    "CallToAction",
    "ConsentDecision",
    "ConsentPurpose",
    "ConsentRecord",
    "Delivery",
    "DeliveryStatus",
    "DownloadGrant",
    "EbookPage",
    "GatedDocumentMixin",
    "LandingPage",
    "Lead",
    "LeadCaptureMixin",
    "LeadgenSiteSettings",
    "LegalBasis",
    "PausedDestination",
    "Submission",
    "ThankYouMixin",
    "ThankYouPage",
]
