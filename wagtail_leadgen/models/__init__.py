from .access import AccessRequest
from .api import IdempotencyKey
from .callback_page import CallbackPage
from .callbacks import CallbackOutcome, CallbackRequest
from .consent import ConsentDecision, ConsentPurpose, ConsentRecord, LegalBasis
from .delivery import (
    Delivery,
    DeliveryKind,
    DeliveryPriority,
    DeliveryStatus,
    PausedDestination,
)
from .erasure import Erasure
from .experiment_pages import ExperimentMixin
from .experiments import Experiment, ExperimentDay, ExperimentStatus, ExperimentVariant
from .freshness import ContentStamp
from .gated import GatedDocumentMixin
from .hints import ContentHintsSummary
from .leads import DownloadGrant, Lead, Maturity, Submission
from .metrics import CTAClickDay, PageViewDay
from .mixins import LeadCaptureMixin, ThankYouMixin
from .pages import EbookPage, LandingPage, ThankYouPage
from .privacy import ConfirmationRequest, Suppression, SuppressionSource
from .processing import RequestProcessing
from .profiling import ProfilingMixin
from .rectification import Rectification, RectificationSource
from .retention import RenewalRequest
from .settings import LeadgenSiteSettings
from .snippets import CallToAction, CTAStyle

__all__ = [
    "ProfilingMixin",
    "AccessRequest",
    "CTAClickDay",
    "CTAStyle",
    "CallbackOutcome",
    "CallbackPage",
    "CallbackRequest",
    "CallToAction",
    "ConfirmationRequest",
    "ConsentDecision",
    "ConsentPurpose",
    "ConsentRecord",
    "ContentHintsSummary",
    "ContentStamp",
    "Delivery",
    "DeliveryKind",
    "DeliveryPriority",
    "DeliveryStatus",
    "DownloadGrant",
    "EbookPage",
    "Experiment",
    "ExperimentDay",
    "ExperimentMixin",
    "ExperimentStatus",
    "ExperimentVariant",
    "Erasure",
    "GatedDocumentMixin",
    "IdempotencyKey",
    "LandingPage",
    "Lead",
    "LeadCaptureMixin",
    "LeadgenSiteSettings",
    "LegalBasis",
    "Maturity",
    "PageViewDay",
    "PausedDestination",
    "Rectification",
    "RectificationSource",
    "RenewalRequest",
    "RequestProcessing",
    "Submission",
    "Suppression",
    "SuppressionSource",
    "ThankYouMixin",
    "ThankYouPage",
]
