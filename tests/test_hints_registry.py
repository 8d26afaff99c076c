"""The content hints' shape: a registry of rules, a text module without Django,
services that never import the admin layer, page classes that declare their fields."""

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy
from wagtail.admin.userbar import ContentCheckerItem

import wagtail_leadgen
from tests.testapp.models import NewsletterPage
from wagtail_leadgen.models import EbookPage, LandingPage, ThankYouPage
from wagtail_leadgen.panels import (
    ContentHintsPanel,
    add_leadgen_checks,
    adopt_panel_content_fields,
)
from wagtail_leadgen.services.hints import (
    PAGE,
    TEXT,
    WARNING,
    Finding,
    checks_panel_rules,
    content_field_names,
    extract_content,
    hint_rule,
    page_hints,
    registered_rules,
    unregister_hint_rule,
)
from wagtail_leadgen.services.hints import text as hints_text

from .factories import make_landing_page, set_controller
from .helpers import meta_description

PACKAGE = Path(wagtail_leadgen.__file__).resolve().parent
DOCS = PACKAGE.parent / "docs" / "content-hints.md"


# -- The registry -----------------------------------------------------------------------
def test_every_hint_has_one_rule_a_title_and_an_action():
    rules = registered_rules()
    ids = [rule.id for rule in rules]
    assert len(ids) == len(set(ids))
    assert ids == [
        "words",
        "words-max",
        "readability",
        "long-sentences",
        "long-paragraph",
        "subheadings",
        "offer-above-form",
        "cta-target",
        "thank-you-page",
        "cta-missing",
        "meta-description",
        # The lead form's own (rules_form.py), registered after the content's.
        "form-fields",
        "purpose-text",
        "purpose-unpublished",
        "notice",
        "request-processing",
        "required-consent",
        # The call-back page's (rules_callback.py), after the form's.
        "callback-hours",
        "callback-alert",
        # A running A/B test's (rules_experiments.py).
        "experiment-stale",
        # Progressive profiling's (rules_profiling.py), registered last.
        "profiling-fields",
    ]
    for rule in rules:
        assert str(rule.title).strip(), rule.id
        assert str(rule.action).strip(), rule.id
        # The msgids are those of the French catalogue.
        with translation.override("en"):
            english = (str(rule.title), str(rule.action))
        with translation.override("fr"):
            french = (str(rule.title), str(rule.action))
        assert french[0] != english[0] and french[1] != english[1], rule.id


def test_an_id_is_registered_once():
    with pytest.raises(ValueError, match="already registered"):
        hint_rule("words", title="Words", action="Write more.")(lambda context: None)


def test_a_finding_has_a_known_level():
    with pytest.raises(ValueError, match="Unknown hint level 'error'"):
        Finding("error", "Something is wrong.")


def test_only_page_rules_feed_the_checks_panel():
    with pytest.raises(ValueError, match="Checks panel"):
        hint_rule("text-check", title="T", action="A", scope=TEXT, checks_panel=True)


def test_the_checks_panel_lists_the_rules_the_registry_marks():
    assert [rule.id for rule in checks_panel_rules()] == [
        "cta-target",
        "thank-you-page",
        "form-fields",
        "purpose-text",
        "purpose-unpublished",
        "notice",
        "request-processing",
        "required-consent",
        "callback-hours",
        "callback-alert",
        "profiling-fields",
    ]


@pytest.mark.django_db
def test_a_new_page_rule_reaches_the_checks_panel():
    @hint_rule(
        "always",
        title=gettext_lazy("Always"),
        action=gettext_lazy("Nothing to do."),
        scope=PAGE,
        checks_panel=True,
    )
    def always(context):
        return Finding(WARNING, "Always there.")

    try:
        item = ContentCheckerItem(in_editor=True)
        add_leadgen_checks(None, [item], make_landing_page())
        rules = {rule["id"]: rule for rule in item.axe_custom_rules}
        assert rules["leadgen-always"]["selector"] == "body"
        assert item.axe_messages["leadgen-always"] == {
            "error_name": "Always",
            "help_text": "Nothing to do.",
        }
    finally:
        unregister_hint_rule("always")
    assert "always" not in {rule.id for rule in registered_rules()}


def documented_example() -> str:
    """The first Python block under "Adding a hint" in docs/content-hints.md."""
    section = DOCS.read_text(encoding="utf-8").split("## Adding a hint", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


@pytest.mark.django_db
def test_the_documented_example_rule_works():
    set_controller(controller_name="Example SAS", contact_email="dpo@example.com")
    long_title = (
        "A free audit of your website, with three changes that bring more leads"
    )
    page = make_landing_page(title=long_title, **meta_description("An audit."))
    exec(documented_example(), {})  # noqa: S102 - our own documentation
    try:
        hint = page_hints(page).get("title-length")
        assert hint is not None
        assert hint.level == "warning"
        assert hint.message == f"The title has {len(long_title)} characters."
        assert hint.action.startswith("Keep the title under 60 characters")
        short = make_landing_page(title="Free audit", **meta_description("An audit."))
        assert page_hints(short).get("title-length") is None
    finally:
        unregister_hint_rule("title-length")


# -- Layers -------------------------------------------------------------------------------
def test_the_text_statistics_import_no_django():
    """text.py is loaded on its own, in a fresh interpreter without settings."""
    code = textwrap.dedent(
        f"""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location(
            "standalone_text", {str(Path(hints_text.__file__))!r}
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        blocks = [module.TextBlock("paragraph", "Un texte court. Il a deux phrases.")]
        analysis = module.analyse_blocks(
            blocks, "fr", min_words=1, long_sentence_words=20, words_per_minute=214
        )
        print(analysis.words, analysis.sentences, analysis.readability is not None)
        print(sorted(
            name for name in sys.modules
            if name.split(".")[0] in ("django", "wagtail", "wagtail_leadgen")
        ))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines() == ["7 2 True", "[]"]


# -- Which fields are read --------------------------------------------------------------
def test_the_plugin_pages_declare_their_fields():
    assert content_field_names(LandingPage) == ["intro", "body"]
    assert content_field_names(EbookPage) == ["summary"]
    assert content_field_names(ThankYouPage) == ["message"]
    assert content_field_names(NewsletterPage) == []  # discovered: no long text


@pytest.mark.django_db  # a new page looks up its content type
def test_fields_named_on_the_panel_become_the_page_attribute(monkeypatch):
    panels = [ContentHintsPanel(content_fields=["tagline"])]
    monkeypatch.setattr(NewsletterPage, "content_panels", panels, raising=False)
    monkeypatch.setattr(LandingPage, "content_panels", panels)
    try:
        adopt_panel_content_fields()
        assert content_field_names(NewsletterPage) == ["tagline"]
        extracted = extract_content(NewsletterPage(tagline="News every month."))
        assert extracted.fields == {"tagline": "News every month."}
        # A page class that declares its fields keeps them.
        assert content_field_names(LandingPage) == ["intro", "body"]
    finally:
        if "content_hint_fields" in vars(NewsletterPage):
            del NewsletterPage.content_hint_fields
