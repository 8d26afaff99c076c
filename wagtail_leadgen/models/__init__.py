from .consent import ConsentDecision, ConsentPurpose, ConsentRecord, LegalBasis
from .delivery import Delivery, DeliveryStatus, PausedDestination
from .hints import ContentHintsSummary
from .leads import DownloadGrant, Lead, Maturity, Submission
from .metrics import CTAClickDay, PageViewDay
from .mixins import GatedDocumentMixin, LeadCaptureMixin, ThankYouMixin
from .pages import EbookPage, LandingPage, ThankYouPage
from .settings import LeadgenSiteSettings
from .snippets import CallToAction, CTAStyle

__all__ = [
    "CTAClickDay",
    "CTAStyle",
    "CallToAction",
    "ConsentDecision",
    "ConsentPurpose",
    "ConsentRecord",
    "ContentHintsSummary",
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
    "Maturity",
    "PageViewDay",
    "PausedDestination",
    "Submission",
    "ThankYouMixin",
    "ThankYouPage",
]
