"""System checks: refuse configurations that would leak leads or gated files,
or forms whose consent and notice break the rules (R8, R10)."""

from __future__ import annotations

import difflib
import importlib.util

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from django.urls import NoReverseMatch, reverse

from . import profiling_checks  # noqa: F401 - progressive profiling's checks register
from .conf import DEFAULTS, SETTINGS_NAME, leadgen_settings
from .crm import build_backend
from .crm.base import SETTING_PATH, BaseCRMBackend, CRMConfigurationError
from .forms import UnknownFieldKind
from .gating import gated_page_models
from .models.consent import ConsentPurpose
from .models.gated import is_document_restricted
from .models.publishing import LeadPageForm, publishing_problems, site_for_page
from .responses import BASE_TEMPLATE, base_template_origin, is_plugin_template
from .services.kpis import lead_page_models
from .tokens import PAGE_TOKEN_BUCKET


@register()
def check_settings_keys(app_configs, **kwargs):
    """A misspelled option must not be silently ignored."""
    user = getattr(settings, SETTINGS_NAME, None)
    if user is None:
        return []
    if not isinstance(user, dict):
        return [Error(f"{SETTINGS_NAME} must be a dict.", id="wagtail_leadgen.E001")]
    return [
        Error(
            f"Unknown setting {SETTINGS_NAME}[{key!r}].",
            hint=_closest_key_hint(key),
            id="wagtail_leadgen.E001",
        )
        for key in sorted(set(user) - set(DEFAULTS))
    ]


def _closest_key_hint(key: object) -> str:
    """A "did you mean …?" for a near miss, then every valid key."""
    valid = "Valid keys: " + ", ".join(sorted(DEFAULTS))
    close = difflib.get_close_matches(str(key).upper(), DEFAULTS, n=1)
    return f"Did you mean {close[0]!r}? {valid}" if close else valid


@register()
def check_document_serving(app_configs, **kwargs):
    """With "direct" serving, Wagtail links straight to the file and bypasses every check."""
    if getattr(settings, "WAGTAILDOCS_SERVE_METHOD", None) == "direct":
        return [
            Error(
                'WAGTAILDOCS_SERVE_METHOD = "direct" exposes gated documents to anyone with the URL.',
                hint='Use "serve_view" so collection privacy is enforced.',
                id="wagtail_leadgen.E002",
            )
        ]
    if getattr(settings, "WAGTAILDOCS_SERVE_METHOD", None) == "redirect":
        return [
            Warning(
                'WAGTAILDOCS_SERVE_METHOD = "redirect" sends visitors to the storage URL '
                "of a document; a gated file is only as private as that URL.",
                hint='Use "serve_view", or make sure the storage issues short-lived signed URLs.',
                id="wagtail_leadgen.W002",
            )
        ]
    return []


@register()
def check_installed_apps(app_configs, **kwargs):
    if not apps.is_installed("wagtail.contrib.settings"):
        return [
            Error(
                "wagtail_leadgen needs 'wagtail.contrib.settings' in INSTALLED_APPS "
                "for the data controller's information notice.",
                id="wagtail_leadgen.E003",
            )
        ]
    return []


@register(Tags.urls)
def check_urls(app_configs, **kwargs):
    try:
        reverse("wagtail_leadgen:download", args=["x"])
    except NoReverseMatch:
        return [
            Warning(
                "The wagtail_leadgen URLs are not included: gated downloads cannot be served.",
                hint='Add path("leadgen/", include("wagtail_leadgen.urls")) before Wagtail\'s URLs.',
                id="wagtail_leadgen.W001",
            )
        ]
    return []


@register(Tags.templates, Tags.security)
def check_policy_meets_site_layout(app_configs, **kwargs):
    """The plugin's policy is for its own layout; a site's layout has its own scripts."""
    origin = base_template_origin()
    if (
        not leadgen_settings.CONTENT_SECURITY_POLICY
        or origin is None
        or is_plugin_template(origin)
    ):
        return []
    return [
        Warning(
            f"{BASE_TEMPLATE} is overridden ({origin}), so lead pages use your site's "
            f"layout and your site's Content-Security-Policy: "
            f"{SETTINGS_NAME}['CONTENT_SECURITY_POLICY'] is not sent with them.",
            hint="Give the site its own policy (SECURE_CSP on Django 6, django-csp on "
            f"5.2), then set {SETTINGS_NAME}['CONTENT_SECURITY_POLICY'] = None.",
            id="wagtail_leadgen.W030",
        )
    ]


@register(Tags.database)
def check_gated_documents(app_configs, databases=None, **kwargs):
    """Run by ``manage.py check --database default``: every offered document is private."""
    if not databases:
        return []
    errors = []
    for model in gated_page_models():
        pages = model.objects.filter(document__isnull=False).select_related(
            "document__collection"
        )
        try:
            pages = list(pages)
        except DatabaseError:  # not migrated yet (``migrate`` runs this check first)
            continue
        for page in pages:
            if not is_document_restricted(page.document):
                errors.append(
                    Error(
                        f"The gated document of page {page.pk} ({page.title!r}) is in a "
                        "collection without privacy restrictions: anyone can download it.",
                        hint="Move it to a collection with privacy set to 'private' or groups.",
                        obj=page,
                        id="wagtail_leadgen.E004",
                    )
                )
    return errors


@register()
def check_crm_backends(app_configs, **kwargs):
    """Build every destination now, so a misconfiguration shows at start-up."""
    configs = leadgen_settings.CRM_BACKENDS
    if not isinstance(configs, dict) or not configs:
        return [
            Error(
                f'{SETTINGS_NAME}["CRM_BACKENDS"] must be a non-empty dict of destinations.',
                hint="Leave it unset to keep leads in the database only.",
                id="wagtail_leadgen.E005",
            )
        ]
    errors = []
    for alias, config in configs.items():
        try:
            build_backend(alias, config)
        except CRMConfigurationError as exc:
            errors.append(Error(str(exc), id="wagtail_leadgen.E005"))
    return errors


def _built_destinations() -> list[BaseCRMBackend]:
    """The destinations that build; the others are reported by E005."""
    built = []
    configs = leadgen_settings.CRM_BACKENDS
    for alias, config in configs.items() if isinstance(configs, dict) else ():
        try:
            built.append(build_backend(alias, config))
        except CRMConfigurationError:
            continue
    return built


@register(Tags.database)
def check_crm_receives(app_configs, databases=None, **kwargs):
    """Run by ``manage.py check --database default``: each purpose a destination
    RECEIVES names exists, once. A misspelled name would keep every lead from
    that destination without a word."""
    if not databases:
        return []
    errors: list[CheckMessage] = []
    for backend in _built_destinations():
        setting = f'{SETTING_PATH}["{backend.alias}"]["RECEIVES"]'
        for reference in backend.receives.purposes:
            lookup = (
                {"pk": reference} if isinstance(reference, int) else {"name": reference}
            )
            try:
                found = ConsentPurpose.objects.filter(**lookup).count()
            except (
                DatabaseError
            ):  # not migrated yet (``migrate`` runs this check first)
                return errors
            if found == 1:
                continue
            errors.append(
                Error(
                    f"{setting} names the consent purpose {reference!r}, which "
                    + ("does not exist." if not found else f"matches {found} purposes.")
                    + " No lead can be sent to this destination.",
                    hint="Use the exact name of one consent purpose (Snippets → "
                    "Consent purposes), or its id.",
                    id="wagtail_leadgen.E009",
                )
            )
    return errors


@register()
def check_task_backend(app_configs, **kwargs):
    """With the immediate task backend, a visitor's request would wait on the CRM."""
    from django_tasks import task_backends
    from django_tasks.backends.immediate import ImmediateBackend
    from django_tasks.exceptions import InvalidTaskBackendError

    alias = leadgen_settings.TASK_BACKEND
    try:
        backend = task_backends[alias]
    except InvalidTaskBackendError:
        return [
            Error(
                f'{SETTINGS_NAME}["TASK_BACKEND"] = {alias!r} is not in TASKS.',
                id="wagtail_leadgen.E006",
            )
        ]
    remote = [
        backend.alias for backend in _built_destinations() if backend.sends_remotely
    ]
    if isinstance(backend, ImmediateBackend) and remote:
        return [
            Warning(
                "Leads are handed to CRMs by the immediate task backend, inside the "
                "visitor's request: a slow CRM slows the form down.",
                hint="Configure a queue in TASKS (e.g. django_tasks_db) and run a worker.",
                id="wagtail_leadgen.W003",
            )
        ]
    return []


@register()
def check_editorial_settings(app_configs, **kwargs):
    """Maturity rules, the classifier path, content targets and reading speeds
    are checked at start-up, not at the first submission or the first page edit."""
    return [
        Error(problem, id="wagtail_leadgen.E007")
        for problem in leadgen_settings.validate()
    ]


@register()
def check_proof_of_work(app_configs, **kwargs):
    """The optional proof of work needs its optional dependency."""
    try:
        configured = leadgen_settings.proof_of_work is not None
    except ImproperlyConfigured:
        return []  # reported by check_editorial_settings (E007)
    if configured and importlib.util.find_spec("altcha") is None:
        return [
            Error(
                f'{SETTINGS_NAME}["PROOF_OF_WORK"] is on but the altcha package is '
                "not installed.",
                hint='pip install "wagtail-leadgen[proof-of-work]"',
                id="wagtail_leadgen.E008",
            )
        ]
    return []


# How long a visitor may keep a page a shared cache served open before sending
# its form: the page token must outlive the cache's copy by at least this.
SHARED_PAGE_FILL_ALLOWANCE = 60 * 60


@register()
def check_shared_page_token_lifetime(app_configs, **kwargs):
    """A page a shared cache holds carries one page token for its whole life
    there: it must not expire before the cached copy plus a fill time."""
    try:
        max_age = leadgen_settings.shared_cache_max_age
    except ImproperlyConfigured:
        return []  # reported by check_editorial_settings (E007)
    needed = max_age + PAGE_TOKEN_BUCKET + SHARED_PAGE_FILL_ALLOWANCE
    if max_age and needed > leadgen_settings.FORM_MAX_AGE:
        return [
            Warning(
                f"{SETTINGS_NAME}['FORM_MAX_AGE'] ({leadgen_settings.FORM_MAX_AGE} s) "
                "is too short for pages a shared cache keeps "
                f"{max_age} s: a visitor without JavaScript could get an "
                "'open for too long' error on a page just served.",
                hint=f"Set FORM_MAX_AGE to at least {needed} seconds, or lower "
                "SHARED_CACHE_MAX_AGE.",
                id="wagtail_leadgen.W004",
            )
        ]
    return []


def _lead_pages(model):
    """The pages of one lead page model, or None before migrations ran."""
    try:
        return list(model.objects.all())
    except DatabaseError:  # not migrated yet (``migrate`` runs this check first)
        return None


@register(Tags.database)
def check_required_consent_boxes(app_configs, databases=None, **kwargs):
    """No consent box is ever required (R8), even from a site's own builder:
    every lead page's form class is built and its boxes looked at."""
    if not databases:
        return []
    errors = []
    for model in lead_page_models():
        for page in _lead_pages(model) or ():
            try:
                required = page.get_form_class().required_consent_purposes()
            except UnknownFieldKind:  # the page cannot render its form at all
                continue
            if required:
                errors.append(
                    Error(
                        f"The form of page {page.pk} ({page.title!r}) makes consent "
                        "boxes required: "
                        + ", ".join(repr(purpose.name) for purpose in required)
                        + ". Consent is free: a box is never required.",
                        hint="What the visitor asks for rests on the request (the "
                        "page's request processing), not on a box; make the form "
                        "builder leave consent boxes optional.",
                        obj=page,
                        id="wagtail_leadgen.E010",
                    )
                )
    return errors


@register(Tags.database)
def check_live_pages_have_a_notice(app_configs, databases=None, **kwargs):
    """The admin refuses to publish a lead page without a complete notice;
    this catches pages published another way (code, imports)."""
    if not databases:
        return []
    warnings = []
    for model in lead_page_models():
        for page in _lead_pages(model) or ():
            if not page.live:
                continue
            problems = publishing_problems(
                site_for_page(page), page.get_request_processing()
            )
            for message in problems.values():
                warnings.append(
                    Warning(
                        f"Live page {page.pk} ({page.title!r}): {message}",
                        obj=page,
                        id="wagtail_leadgen.W010",
                    )
                )
    return warnings


@register()
def check_destinations_name_their_recipient(app_configs, **kwargs):
    """The notice names the processors leads are sent to: a destination that
    sends them to another system must say who that is (``RECIPIENT``)."""
    configs = leadgen_settings.CRM_BACKENDS
    if not isinstance(configs, dict):
        return []  # reported by check_crm_backends (E005)
    warnings = []
    for alias, config in configs.items():
        try:
            backend = build_backend(alias, config)
        except CRMConfigurationError:
            continue  # reported by check_crm_backends (E005)
        if backend.sends_remotely and backend.recipient is None:
            warnings.append(
                Warning(
                    f'{SETTINGS_NAME}["CRM_BACKENDS"]["{alias}"] sends leads to '
                    "another system but declares no RECIPIENT: the information "
                    "notice cannot name it.",
                    hint='Add "RECIPIENT": {"NAME": ..., "COUNTRY": ..., '
                    '"SAFEGUARD": ...} (the safeguard of a transfer outside the EEA).',
                    id="wagtail_leadgen.W011",
                )
            )
    return warnings


@register()
def check_lead_page_forms(app_configs, **kwargs):
    """A lead page type with a form class of its own keeps the publishing rules."""
    return [
        Warning(
            f"{model._meta.label}.base_form_class does not extend LeadPageForm: "
            "its pages can be published without a complete information notice.",
            hint="class MyPageForm(LeadPageForm, YourPageForm): ...",
            obj=model,
            id="wagtail_leadgen.W012",
        )
        for model in lead_page_models()
        if not issubclass(model.base_form_class, LeadPageForm)
    ]


# Each retention option and the smallest value it may take.
_RETENTION_MINIMUMS = {
    "DEFAULT_RETENTION_MONTHS": 1,
    "DEFAULT_REQUEST_RETENTION_MONTHS": 1,
    "RENEWAL_NOTICE_DAYS": 0,
    "SPAM_RETENTION_DAYS": 1,
    "PURGE_BATCH_SIZE": 1,
}


@register()
def check_retention_settings(app_configs, **kwargs):
    """``leadgen_purge`` runs unattended: a bad period shows at start-up,
    not as a failed nightly run that keeps data past its time."""
    errors = []
    for key, minimum in _RETENTION_MINIMUMS.items():
        value = getattr(leadgen_settings, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            errors.append(
                Error(
                    f'{SETTINGS_NAME}["{key}"] must be a whole number of at least '
                    f"{minimum}, not {value!r}.",
                    hint="See docs/retention.md.",
                    id="wagtail_leadgen.E011",
                )
            )
    return errors


@register(Tags.database)
def check_renewal_notice(app_configs, databases=None, **kwargs):
    """A renewal notice as long as a purpose's whole period would ask the
    person to renew at their very first contact."""
    if not databases:
        return []
    notice = leadgen_settings.RENEWAL_NOTICE_DAYS
    if isinstance(notice, bool) or not isinstance(notice, int):
        return []  # reported by check_retention_settings (E011)
    try:
        short = list(ConsentPurpose.objects.filter(retention_months__lte=notice / 30))
    except DatabaseError:  # not migrated yet (``migrate`` runs this check first)
        return []
    return [
        Warning(
            f"The consent purpose {purpose.name!r} is kept {purpose.retention_months} "
            f'month(s), no longer than {SETTINGS_NAME}["RENEWAL_NOTICE_DAYS"] = '
            f"{notice} days: its renewal email would go out right after the consent.",
            hint="Lengthen the purpose's retention or shorten the notice.",
            obj=purpose,
            id="wagtail_leadgen.W013",
        )
        for purpose in short
    ]
