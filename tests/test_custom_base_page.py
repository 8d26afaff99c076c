"""The plugin on a site's own base page (Wagtail 8's ``WAGTAIL_PAGE_MODEL``).

Only meaningful in the custom base page run (``make test-custom-page``, i.e.
``DJANGO_SETTINGS_MODULE=tests.settings_custom_page``), where the base page
is ``tests.basepage.BasePage``; skipped in the default run. The rest of the
suite runs in both.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from wagtail.models import Page, get_page_models
from wagtail.test.utils import WagtailPageTestCase

from tests.testapp.models import NewsletterPage
from wagtail_leadgen.models import (
    EbookPage,
    LandingPage,
    Lead,
    Submission,
    ThankYouPage,
)

from .factories import (
    make_landing_page,
    make_purpose,
    make_request_processing,
    page_model,
    set_controller,
    site_root,
)
from .helpers import custom_base_page_only, ticked

pytestmark = custom_base_page_only

PAGE_TYPES = [LandingPage, EbookPage, ThankYouPage, NewsletterPage]
#: ``tests.basepage.BasePage`` in this run (the module is not importable in the
#: default run, where its app is not installed).
BasePage = page_model()
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("model", PAGE_TYPES, ids=lambda m: m.__name__)
def test_the_page_types_are_built_on_the_configured_base_page(model):
    assert model.base_page_model is BasePage
    assert issubclass(model, BasePage)
    assert not issubclass(model, Page)
    assert model._meta.get_ancestor_link(BasePage).name == "basepage_ptr"
    assert model in get_page_models()
    # The base page's own field and panel come with it.
    assert model._meta.get_field("audience").model is BasePage


def test_the_configured_base_page_is_the_test_s_own():
    assert BasePage._meta.label == "basepage.BasePage"


@pytest.mark.django_db
def test_wagtail_s_default_page_has_no_table():
    assert Page._meta.swapped == "basepage.BasePage"
    tables = connection.introspection.table_names()
    assert "wagtailcore_page" not in tables
    assert "basepage_basepage" in tables


@pytest.mark.django_db
def test_a_submission_on_a_page_of_the_custom_base_stores_the_lead(post_form):
    purpose = make_purpose()
    page = make_landing_page(purposes=[purpose], audience="Marketers")
    response = post_form(page, email="ann@example.com", **ticked(purpose))
    assert response.status_code == 303
    submission = Submission.objects.get()
    assert submission.lead == Lead.objects.get(email="ann@example.com")
    # The lead's page is a row of the site's base page table.
    assert type(submission.page) is BasePage
    assert submission.page.specific == page
    assert submission.page.audience == "Marketers"


class BasePageFieldTests(WagtailPageTestCase):
    def setUp(self):
        self.login()

    def test_the_base_page_s_field_is_editable_on_a_landing_page(self):
        # Publishing needs a complete notice (models.publishing).
        set_controller(controller_name="Acme SAS", contact_email="privacy@acme.example")
        processing = make_request_processing()
        self.assertCanCreateAt(BasePage, LandingPage)
        self.assertCanCreate(
            site_root(),
            LandingPage,
            {
                "title": "Audit",
                "slug": "audit",
                "audience": "Small businesses",
                "intro": "Get a free audit",
                "body-count": "0",
                "form_fields-count": "0",
                "profiling_fields-count": "0",
                "profiling_questions": "1",
                "request_processing": processing.pk,
            },
        )
        page = LandingPage.objects.get(slug="audit")
        assert page.audience == "Small businesses"
        edit_form = LandingPage.get_edit_handler().get_form_class()
        assert "audience" in edit_form.base_fields


def load_the_models(*, first: list[str], last: list[str], page_model: str, path=ROOT):
    """Load the app registry in a fresh interpreter: the custom run's settings
    with ``first`` and ``last`` around its other apps (not the test ones)."""
    code = (
        "import django; from django.conf import settings; "
        "import tests.settings_custom_page as s; "
        "others = [a for a in s.INSTALLED_APPS if not a.startswith('tests.')]; "
        f"apps = {first!r} + others + {last!r}; "
        "settings.configure(**{**{k: getattr(s, k) for k in dir(s) if k.isupper()}, "
        f"'INSTALLED_APPS': apps, 'WAGTAIL_PAGE_MODEL': {page_model!r}}}); "
        "django.setup(); "
        "from wagtail_leadgen.models import LandingPage; "
        "print(LandingPage.base_page_model._meta.label)"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**env, "PYTHONPATH": os.pathsep.join([str(ROOT), str(path)])},
        timeout=120,
    )


def test_the_base_page_s_app_may_come_after_the_plugin_in_installed_apps():
    """The plugin imports the base page's models module when it needs it."""
    result = load_the_models(
        first=[], last=["tests.basepage"], page_model="basepage.BasePage"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "basepage.BasePage"


def test_a_base_page_module_importing_the_plugin_first_is_a_clear_error(tmp_path):
    """The one set-up that cannot work: the base page's module imports the
    plugin's models (for its mixins) before it defines the base page."""
    app = tmp_path / "cyclesite"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text(
        "from wagtail_leadgen.models import LeadCaptureMixin  # too early\n"
        "from wagtail.models import AbstractPage\n\n\n"
        "class BasePage(AbstractPage):\n    pass\n"
    )
    result = load_the_models(
        first=["cyclesite"], last=[], page_model="cyclesite.BasePage", path=tmp_path
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert (
        "cyclesite.models imports wagtail_leadgen.models before it defines BasePage"
        in result.stderr
    )
