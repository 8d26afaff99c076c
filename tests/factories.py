"""Builder functions for test data: ``make_x(**overrides)`` with sensible defaults."""

from __future__ import annotations

import itertools

import swapper
from django.core.files.base import ContentFile
from django.utils import timezone
from wagtail.documents import get_document_model
from wagtail.models import AbstractPage, Collection, CollectionViewRestriction, Site

from wagtail_leadgen.models import (
    CallToAction,
    ConsentPurpose,
    EbookPage,
    Experiment,
    ExperimentStatus,
    ExperimentVariant,
    LandingPage,
    LeadgenSiteSettings,
    RequestProcessing,
    ThankYouPage,
)
from wagtail_leadgen.models.freshness import bump_stamp

_counter = itertools.count(1)
PDF_BYTES = b"%PDF-1.4\n% test file\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def page_model() -> type[AbstractPage]:
    """The base page model: Wagtail's ``Page``, or ``WAGTAIL_PAGE_MODEL``'s."""
    return swapper.load_model("wagtailcore", "Page")


def page_permission(action: str) -> str:
    """A page permission's codename, named after the base page model:
    ``add_page`` on Wagtail's ``Page``, ``add_basepage`` on a swapped-in ``BasePage``."""
    return f"{action}_{page_model()._meta.model_name}"


def site_root() -> AbstractPage:
    return Site.objects.get(is_default_site=True).root_page


def make_purpose(*, publish: bool = True, **kwargs) -> ConsentPurpose:
    n = next(_counter)
    kwargs.setdefault("name", f"Purpose {n}")
    kwargs.setdefault("checkbox_label", f"Send me news {n}")
    kwargs.setdefault("purpose_text", f"<p>We send news number {n}.</p>")
    kwargs.setdefault("recipients", "Our marketing team")
    purpose = ConsentPurpose(**kwargs)
    purpose.save()
    if publish:
        purpose.save_revision().publish()
        purpose.refresh_from_db()
    return purpose


def make_request_processing(*, publish: bool = True, **kwargs) -> RequestProcessing:
    """What answering the request involves, stated next to the button."""
    n = next(_counter)
    kwargs.setdefault("name", f"Request {n}")
    kwargs.setdefault("summary", f"We use your email address to answer request {n}.")
    kwargs.setdefault("purpose_text", "<p>We send you what you asked for.</p>")
    kwargs.setdefault("recipients", "Our sales team")
    processing = RequestProcessing(**kwargs)
    processing.save()
    if publish:
        processing.save_revision().publish()
        processing.refresh_from_db()
    return processing


def republish(purpose: ConsentPurpose, **changes) -> ConsentPurpose:
    for field, value in changes.items():
        setattr(purpose, field, value)
    purpose.save_revision().publish()
    purpose.refresh_from_db()
    return purpose


def make_thank_you_page(parent: AbstractPage | None = None, **kwargs) -> ThankYouPage:
    kwargs.setdefault("title", "Thank you")
    kwargs.setdefault("slug", f"thanks-{next(_counter)}")
    kwargs.setdefault("message", "<p>Thanks!</p>")
    return (parent or site_root()).add_child(instance=ThankYouPage(**kwargs))


def _with_form(page, purposes, thank_you):
    if purposes:
        page.consent_purposes.set(purposes)
    if page.request_processing_id is None:
        page.request_processing = make_request_processing()
    if thank_you is not False:
        page.thank_you_page = thank_you or make_thank_you_page(page)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def make_landing_page(
    *, purposes=(), thank_you=None, parent=None, **kwargs
) -> LandingPage:
    """A published landing page; ``thank_you=False`` leaves it without a thank-you page."""
    kwargs.setdefault("title", "Free audit")
    kwargs.setdefault("slug", f"landing-{next(_counter)}")
    kwargs.setdefault("intro", "Book a free audit.")
    page = (parent or site_root()).add_child(instance=LandingPage(**kwargs))
    return _with_form(page, purposes, thank_you)


def gated_collection() -> Collection:
    collection = Collection.objects.filter(name="Gated").first()
    if collection is None:
        collection = Collection.get_first_root_node().add_child(name="Gated")
        CollectionViewRestriction.objects.create(
            collection=collection, restriction_type=CollectionViewRestriction.LOGIN
        )
    return collection


def make_document(*, restricted: bool = True, content: bytes = PDF_BYTES, **kwargs):
    kwargs.setdefault("title", "The guide")
    kwargs.setdefault(
        "collection",
        gated_collection() if restricted else Collection.get_first_root_node(),
    )
    return get_document_model().objects.create(
        file=ContentFile(content, name=f"guide-{next(_counter)}.pdf"), **kwargs
    )


def make_ebook_page(
    *, purposes=(), thank_you=None, parent=None, document=None, **kwargs
) -> EbookPage:
    kwargs.setdefault("title", "The guide")
    kwargs.setdefault("slug", f"ebook-{next(_counter)}")
    kwargs.setdefault("summary", "<p>A useful guide.</p>")
    kwargs["document"] = document or make_document()
    page = (parent or site_root()).add_child(instance=EbookPage(**kwargs))
    return _with_form(page, purposes, thank_you)


def make_cta(**kwargs) -> CallToAction:
    kwargs.setdefault("label", "Get the guide")
    if not any(k in kwargs for k in ("target_page", "target_url", "phone_number")):
        kwargs["target_url"] = "https://example.com/guide/"
    return CallToAction.objects.create(**kwargs)


def set_controller(**fields) -> LeadgenSiteSettings:
    """Fill the default site's data-controller settings (the information notice)."""
    settings = LeadgenSiteSettings.for_site(Site.objects.get(is_default_site=True))
    for field, value in fields.items():
        setattr(settings, field, value)
    settings.save()
    return settings


def make_lead(email: str = "ann@example.com", *, page=None, **kwargs):
    """Capture a lead the way the form does; returns the ``CaptureResult``.

    Keyword arguments go to ``capture_lead``: ``answers``, ``decisions``
    (``{purpose: ticked}``), ``destinations``, ``document``; ``utm`` and
    ``referrer`` go to the submission context.
    """
    from wagtail_leadgen.services.capture import SubmissionContext, capture_lead

    context = SubmissionContext(
        page=page or make_landing_page(),
        language=kwargs.pop("language", "en"),
        referrer=kwargs.pop("referrer", ""),
        utm=kwargs.pop("utm", {}),
    )
    kwargs.setdefault("answers", {})
    kwargs.setdefault("decisions", {})
    kwargs.setdefault("shown_versions", {})
    return capture_lead(context=context, email=email, **kwargs)


def make_submission(page=None, email: str = "ann@example.com", **kwargs):
    """One captured submission, routed to the page's CRM destinations as the
    form routes it; keyword arguments as for ``make_lead``."""
    page = page or make_landing_page()
    kwargs.setdefault("destinations", page.get_crm_destinations())
    return make_lead(email, page=page, **kwargs).submission


def make_staff(*codenames: str, username: str = "staff"):
    """A staff user in a group with admin access and the given permissions."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission

    user = get_user_model().objects.create_user(username, f"{username}@corp.test", "pw")
    group = Group.objects.create(name=f"group-{username}")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    for codename in codenames:
        group.permissions.add(Permission.objects.get(codename=codename))
    user.groups.add(group)
    return user


def make_experiment(page=None, *, variants=None, running: bool = True, **kwargs):
    """An A/B test of ``page`` (a new landing page by default), with one
    variant "b" unless ``variants`` (dicts of ExperimentVariant fields) say
    otherwise; running unless ``running=False``."""
    page = page or make_landing_page()
    kwargs.setdefault("name", "Headline test")
    if running:
        kwargs.setdefault("status", ExperimentStatus.RUNNING)
        kwargs.setdefault("started_at", timezone.now())
    test = Experiment.objects.create(page=page, **kwargs)
    for order, fields in enumerate(
        variants if variants is not None else [{"key": "b", "title": "Audit in 48 h"}]
    ):
        ExperimentVariant.objects.create(experiment=test, sort_order=order, **fields)
    bump_stamp()  # as starting a test does: served pages see it at once
    return test
