"""Create the demo content once: pages, purposes, CTAs, a gated PDF and an admin user.

Running it again changes nothing that already exists.
"""

from datetime import timedelta
from io import BytesIO
from urllib.parse import urlsplit

from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Collection, CollectionViewRestriction, Page, Site

from demo.models import HomePage
from demo.pdf import make_cover_png, make_pdf
from wagtail_leadgen.models import (
    CallbackPage,
    CallbackRequest,
    CallToAction,
    ConfirmationRequest,
    ConsentDecision,
    ConsentPurpose,
    EbookPage,
    Experiment,
    ExperimentDay,
    ExperimentStatus,
    ExperimentVariant,
    LandingPage,
    Lead,
    LeadgenSiteSettings,
    LegalBasis,
    PageViewDay,
    RequestProcessing,
    Submission,
    ThankYouPage,
)
from wagtail_leadgen.services.capture import SubmissionContext, capture_lead
from wagtail_leadgen.services.classification import reclassify
from wagtail_leadgen.services.consent import confirm_pending

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "changeme"  # noqa: S105 - the documented demo login, as in bakerydemo


class Command(BaseCommand):
    help = "Seed the demo site with lead-generation content (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        self.ensure_admin()
        home = self.ensure_home()
        purposes = self.ensure_purposes()
        requests = self.ensure_request_processings()
        document = self.ensure_document()
        self.ensure_settings(home)
        ebook = self.ensure_ebook(home, document, purposes, requests["ebook"])
        landing = self.ensure_landing(home, purposes, requests["audit"])
        self.ensure_profiling(landing)
        callback = self.ensure_callback(home, purposes, requests["callback"])
        self.ensure_home_ctas(home, ebook, landing, callback)
        self.ensure_demo_activity(ebook, landing, purposes)
        self.ensure_ab_test(landing)
        self.ensure_callback_activity(callback)
        self.stdout.write(self.style.SUCCESS("Demo content is ready."))
        base_url = django_settings.WAGTAILADMIN_BASE_URL.rstrip("/")
        self.stdout.write(
            f"Site:  {base_url}/\n"
            f"Admin: {base_url}/admin/  "
            f"(user {ADMIN_USERNAME!r}, password {ADMIN_PASSWORD!r})"
        )

    def ensure_admin(self):
        User = get_user_model()
        if not User.objects.filter(username=ADMIN_USERNAME).exists():
            User.objects.create_superuser(
                ADMIN_USERNAME, "admin@example.com", ADMIN_PASSWORD
            )

    def ensure_home(self) -> HomePage:
        home = HomePage.objects.first()
        if home:
            return home
        root = Page.get_first_root_node()
        home = root.add_child(
            instance=HomePage(
                title="Grow with useful content",
                slug="demo-home",
                intro="Guides and audits for marketing teams. No tracking scripts, no pre-ticked boxes.",
            )
        )
        site = Site.objects.filter(is_default_site=True).first()
        old_root = site.root_page if site else None
        site = site or Site(is_default_site=True)
        # The address the demo is served on, so share links and full URLs work.
        served_on = urlsplit(django_settings.WAGTAILADMIN_BASE_URL)
        site.hostname = served_on.hostname or "127.0.0.1"
        site.port = served_on.port or (443 if served_on.scheme == "https" else 80)
        site.root_page = home
        site.save()
        if old_root and old_root.pk != home.pk and not old_root.get_children().exists():
            old_root.delete()
        return home

    def ensure_purposes(self) -> dict[str, ConsentPurpose]:
        specs = {
            "newsletter": dict(
                name="Monthly newsletter",
                checkbox_label="Send me the monthly newsletter",
                purpose_text="<p>One email a month with new guides. Unsubscribe in one click.</p>",
                legal_basis=LegalBasis.CONSENT,
                recipients="Our marketing team and our emailing provider",
                retention_months=36,
                requires_confirmation=True,
            ),
            "partners": dict(
                name="Partner offers",
                checkbox_label="Share my details with selected partners",
                purpose_text="<p>Our training partners may send you their offers.</p>",
                legal_basis=LegalBasis.CONSENT,
                recipients="Training partners listed in our privacy policy",
                retention_months=24,
            ),
        }
        purposes = {}
        for key, fields in specs.items():
            purpose = ConsentPurpose.objects.filter(name=fields["name"]).first()
            if purpose is None:
                purpose = ConsentPurpose(**fields)
                purpose.save()
                purpose.save_revision().publish()
            purposes[key] = purpose
        return purposes

    def ensure_request_processings(self) -> dict[str, RequestProcessing]:
        """What answering each request involves: stated next to the button."""
        specs = {
            "ebook": dict(
                name="E-book delivery",
                summary="We use your email address to send you the guide you asked for.",
                purpose_text=(
                    "<p>Your email address is used to give you the guide and to "
                    "answer your questions about it.</p>"
                ),
                legal_basis=LegalBasis.CONTRACT,
                recipients="Our marketing team",
                retention_months=12,
            ),
            "audit": dict(
                name="Audit call back",
                summary="We use your details to call you back about your audit.",
                purpose_text=(
                    "<p>Your name, company and phone number are used to call you "
                    "back and prepare your audit.</p>"
                ),
                legal_basis=LegalBasis.CONTRACT,
                recipients="Our sales team",
                retention_months=12,
            ),
            "callback": dict(
                name="Call back",
                summary="We use your phone number to call you back, once.",
                purpose_text=(
                    "<p>Your phone number and email address are used to call you "
                    "back when you asked and to note the outcome of the call.</p>"
                ),
                legal_basis=LegalBasis.CONTRACT,
                recipients="Our sales team",
                retention_months=12,
            ),
        }
        processings = {}
        for key, fields in specs.items():
            processing = RequestProcessing.objects.filter(name=fields["name"]).first()
            if processing is None:
                processing = RequestProcessing(**fields)
                processing.save()
                processing.save_revision().publish()
            processings[key] = processing
        return processings

    def ensure_document(self):
        Document = get_document_model()
        document = Document.objects.filter(title="The lead-generation guide").first()
        if document:
            return document
        root = Collection.get_first_root_node()
        gated = Collection.objects.filter(name="Gated content").first()
        if gated is None:
            gated = root.add_child(name="Gated content")
        if not gated.get_view_restrictions().exists():
            CollectionViewRestriction.objects.create(
                collection=gated, restriction_type=CollectionViewRestriction.LOGIN
            )
        pdf = make_pdf(
            "The lead-generation guide",
            [
                "1. Publish content that answers real questions.",
                "2. Offer something useful in exchange for an email address.",
                "3. Keep forms short: every extra field costs conversions.",
                "4. Ask consent per purpose, never with a pre-ticked box.",
                "5. Call back within minutes when someone asks you to.",
            ],
        )
        return Document.objects.create(
            title="The lead-generation guide",
            file=ContentFile(pdf, name="lead-generation-guide.pdf"),
            collection=gated,
        )

    def ensure_settings(self, home):
        site = Site.objects.get(is_default_site=True)
        settings = LeadgenSiteSettings.for_site(site)
        if not settings.controller_name:
            settings.controller_name = "Demo Marketing SAS"
            settings.controller_address = "1 rue de l'Exemple, 75001 Paris, France"
            settings.contact_email = "privacy@example.com"
            settings.save()

    def _thank_you(self, parent, title, message):
        existing = ThankYouPage.objects.child_of(parent).first()
        if existing:
            return existing
        page = parent.add_child(
            instance=ThankYouPage(title=title, slug="thank-you", message=message)
        )
        page.save_revision().publish()
        return page

    def ensure_cover(self):
        Image = get_image_model()
        image = Image.objects.filter(title="Guide cover").first()
        if image is None:
            image = Image.objects.create(
                title="Guide cover",
                file=ImageFile(BytesIO(make_cover_png()), name="guide-cover.png"),
            )
        return image

    def ensure_ebook(self, home, document, purposes, request) -> EbookPage:
        ebook = EbookPage.objects.filter(slug="lead-generation-guide").first()
        if ebook:
            return ebook
        ebook = home.add_child(
            instance=EbookPage(
                title="The lead-generation guide",
                cover_image=self.ensure_cover(),
                slug="lead-generation-guide",
                summary=(
                    "<p>Five habits that turn readers into leads, with figures: why short "
                    "forms win, why a fast page matters and why you should call back "
                    "within five minutes.</p>"
                ),
                document=document,
                request_processing=request,
                form_heading="Get the free guide",
                submit_label="Send me the guide",
                form_fields=[
                    ("first_name", {"label": "", "required": False, "help_text": ""})
                ],
            )
        )
        ebook.consent_purposes.set(purposes.values())
        thank_you = self._thank_you(
            ebook,
            "Your guide is ready",
            "<p>Thank you! Your guide is ready to download.</p>",
        )
        ebook.thank_you_page = thank_you
        ebook.save_revision().publish()
        return ebook

    def ensure_landing(self, home, purposes, request) -> LandingPage:
        landing = LandingPage.objects.filter(slug="free-audit").first()
        if landing:
            return landing
        landing = home.add_child(
            instance=LandingPage(
                title="Book a free content audit",
                slug="free-audit",
                intro="Tell us where to reach you: we call back within five minutes on working days.",
                body=[
                    (
                        "paragraph",
                        "<h2>What you get</h2><p>A 30-minute call on your best pages and "
                        "your forms, with three changes to make this week.</p>",
                    )
                ],
                request_processing=request,
                form_heading="Request your audit",
                submit_label="Request my audit",
                form_fields=[
                    ("first_name", {"label": "", "required": True, "help_text": ""}),
                    ("company", {"label": "", "required": False, "help_text": ""}),
                    (
                        "phone",
                        {
                            "label": "",
                            "required": False,
                            "help_text": "We only use it to call you back.",
                        },
                    ),
                ],
            )
        )
        landing.consent_purposes.set([purposes["newsletter"]])
        thank_you = self._thank_you(
            landing,
            "Thank you, we will call you back",
            "<p>We will contact you shortly.</p>",
        )
        landing.thank_you_page = thank_you
        landing.save_revision().publish()
        return landing

    def ensure_profiling(self, landing):
        """Progressive profiling on the audit page: a person who comes back
        from the confirmation email is not asked their email, name, company
        or phone again, only the next question of the queue."""
        if landing.profiling_fields:
            return
        landing.profiling_fields = [
            ("job_title", {"label": "", "required": False, "help_text": ""}),
            (
                "question",
                {
                    "label": "What should the audit look at first?",
                    "required": False,
                    "help_text": "",
                },
            ),
        ]
        landing.profiling_questions = 1
        landing.save_revision().publish()

    def ensure_demo_activity(self, ebook, landing, purposes):
        """A month of sample traffic and leads, so the inbox and the dashboard
        have something to show. Leads go through the real capture service."""
        if Lead.objects.exists():
            return
        today = timezone.localdate()
        pages = (ebook, landing)
        for offset in range(30):
            day = today - timedelta(days=offset)
            for index, page in enumerate(pages):
                views = 40 + (offset * 7 + index * 13) % 35
                PageViewDay.objects.create(page=page, day=day, views=views)
        people = [
            ("Camille", "Martin", "Atelier Martin", "fr"),
            ("Louis", "Bernard", "Bernard & Fils", "fr"),
            ("Emma", "Dubois", "", "fr"),
            ("Noah", "Smith", "Smith Consulting", "en"),
            ("Léa", "Petit", "Petit Studio", "fr"),
            ("Olivia", "Jones", "", "en"),
            ("Hugo", "Moreau", "Moreau Conseil", "fr"),
            ("Chloé", "Laurent", "", "fr"),
        ]
        for number, (first, last, company, language) in enumerate(people):
            page = pages[number % 2]
            answers = {"first_name": first}
            if page is landing and company:
                answers["company"] = company
            decisions = dict.fromkeys(page.get_purposes(), number % 3 == 0)
            result = capture_lead(
                context=SubmissionContext(
                    page=page,
                    language=language,
                    utm={"utm_source": "newsletter", "utm_campaign": "autumn-guide"}
                    if number % 2
                    else {},
                ),
                email=f"{first}.{last}@example.com".lower().replace("é", "e"),
                answers=answers,
                decisions=decisions,
                shown_versions={},
                destinations=page.get_crm_destinations(),
                document=page.get_gated_document(),
            )
            submitted = timezone.now() - timedelta(days=number * 3, hours=number)
            Submission.objects.filter(pk=result.submission.pk).update(
                created_at=submitted
            )
            Lead.objects.filter(pk=result.lead.pk).update(last_contact_at=submitted)
            self.confirm_sample(result, submitted)
            reclassify(Lead.objects.get(pk=result.lead.pk))

    def ensure_ab_test(self, landing):
        """An A/B test of the landing page's headline and button, running for
        the month of sample traffic: each day's views split between the two
        versions, and the page's sample submissions attributed in turn, so
        its figures agree with the KPIs (too few views yet for a verdict)."""
        if Experiment.objects.filter(page=landing).exists():
            return
        started = timezone.now() - timedelta(days=29)
        test = Experiment.objects.create(
            page=landing,
            name="Headline: call back in five minutes",
            status=ExperimentStatus.RUNNING,
            started_at=started,
        )
        ExperimentVariant.objects.create(
            experiment=test,
            key="five-minutes",
            title="A free content audit, and a call back within five minutes",
            submit_label="Call me back",
        )
        submissions = {}
        for number, created in enumerate(
            Submission.objects.filter(page=landing)
            .order_by("created_at")
            .values_list("created_at", flat=True)
        ):
            key = (timezone.localdate(created), ("control", "five-minutes")[number % 2])
            submissions[key] = submissions.get(key, 0) + 1
        for row in PageViewDay.objects.filter(page=landing, day__gte=started.date()):
            for variant, views in (
                ("control", row.views // 2),
                ("five-minutes", row.views - row.views // 2),
            ):
                ExperimentDay.objects.create(
                    experiment=test,
                    variant=variant,
                    day=row.day,
                    views=views,
                    submissions=submissions.get((row.day, variant), 0),
                )

    def confirm_sample(self, result, when):
        """Sample people confirmed their double opt-in at the time: so no
        confirmation email goes to demo-mail/ for them, and the inbox shows
        confirmed consents. Only real form posts get emails."""
        pending = [
            record.purpose
            for record in result.submission.consent_records.filter(
                decision=ConsentDecision.PENDING
            )
        ]
        if not pending:
            return
        confirm_pending(
            result.lead,
            pending,
            language=result.submission.language,
            channel="confirmation",
        )
        ConfirmationRequest.objects.filter(submission=result.submission).update(
            sent_at=when, confirmed_at=when, expires_at=when + timedelta(days=1)
        )

    def ensure_callback(self, home, purposes, request) -> CallbackPage:
        """ "Call me back": the phone, when to call; sales hears of it at once
        (an email in demo-mail/, a webhook event when LEADGEN_WEBHOOK_URL is set)."""
        page = CallbackPage.objects.filter(slug="call-me-back").first()
        if page:
            return page
        page = home.add_child(
            instance=CallbackPage(
                title="Call me back",
                slug="call-me-back",
                intro=(
                    "Leave your number: on working days from 9:00 to 18:00 (Paris "
                    "time) we call you back within five minutes, or when you prefer."
                ),
                request_processing=request,
                form_heading="When should we call?",
                submit_label="Call me back",
                form_fields=[
                    ("first_name", {"label": "", "required": False, "help_text": ""}),
                    (
                        "phone",
                        {
                            "label": "",
                            "required": True,
                            "help_text": "A French landline or mobile number.",
                        },
                    ),
                ],
            )
        )
        page.consent_purposes.set([purposes["newsletter"]])
        page.save_revision().publish()
        return page

    def ensure_callback_activity(self, page):
        """A few weeks of answered call-backs, so the dashboard's time to
        first call has figures. Through the real capture service."""
        if CallbackRequest.objects.exists():
            return
        admin = get_user_model().objects.filter(username=ADMIN_USERNAME).first()
        now = timezone.now()
        delays = (2, 4, 3, 12, 1, 6, 5, 3, 25, 2)
        for number, minutes in enumerate(delays):
            result = capture_lead(
                context=SubmissionContext(page=page, language="fr"),
                email=f"caller{number + 1}@example.com",
                answers={"phone": f"+3361234{number:04d}"},
                decisions=dict.fromkeys(page.get_purposes(), False),
                shown_versions={},
                destinations=(),
            )
            requested = now - timedelta(days=2 + number * 2, hours=3)
            called = requested + timedelta(minutes=minutes)
            CallbackRequest.objects.create(
                submission=result.submission,
                lead=result.lead,
                phone=f"+3361234{number:04d}",
                requested_at=requested,
                sla_starts_at=requested,
                due_at=requested + timedelta(minutes=5),
                first_called_at=called,
                called_by=admin,
                outcome="reached" if number % 4 else "voicemail",
                alerted_at=requested,
            )
            Submission.objects.filter(pk=result.submission.pk).update(
                created_at=requested
            )

    def ensure_home_ctas(self, home, ebook, landing, callback):
        if home.body:
            return
        guide_cta, _ = CallToAction.objects.get_or_create(
            label="Download the free guide",
            defaults={"target_page": ebook, "description": "A 5-page PDF, free."},
        )
        audit_cta, _ = CallToAction.objects.get_or_create(
            label="Book a free audit",
            defaults={"target_page": landing, "style": "secondary"},
        )
        callback_cta, _ = CallToAction.objects.get_or_create(
            label="Have us call you back",
            defaults={"target_page": callback, "style": "secondary"},
        )
        call_cta, _ = CallToAction.objects.get_or_create(
            label="Call us now",
            defaults={"phone_number": "+33 1 23 45 67 89", "style": "link"},
        )
        home.body = [
            (
                "paragraph",
                "<h2>Learn how good content brings leads</h2><p>Start with our guide.</p>",
            ),
            ("cta", {"cta": guide_cta}),
            (
                "paragraph",
                "<h2>Want a second opinion?</h2><p>We review your pages for free.</p>",
            ),
            ("cta", {"cta": audit_cta}),
            ("cta", {"cta": callback_cta}),
            ("cta", {"cta": call_cta}),
        ]
        home.save_revision().publish()
