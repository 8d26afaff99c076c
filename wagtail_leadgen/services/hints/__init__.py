"""Content hints (R5, R6): length, readability and lead-form checks for editors.

The public API; callers import from here, not from the modules::

    from wagtail_leadgen.services.hints import page_hints

- ``text.py``: words, sentences, syllables, readability formulas (no Django);
- ``extract.py``: a page's fields (rich text, StreamField…) to text blocks;
- ``targets.py``: the profile, targets and language of a page;
- ``registry.py``, ``rules.py``, ``rules_form.py`` and ``rules_experiments.py``:
  the hints, one registered function each;
- ``analysis.py``: ``analyse_content`` and ``page_hints`` tie them together;
- ``summaries.py``: the stored summary the report sorts on (not imported
  here: it reads the report's model, which the rest does not need).
"""

# The call-back page's hints, then the A/B test's (each imports the form's
# rules, which import the content's: they register in that order).
from . import rules_callback as _callback_rules  # noqa: F401 - registers its hints
from . import rules_experiments as _experiment_rules  # noqa: F401
from .analysis import (
    PageHints,
    analyse_content,
    analyse_extracted,
    content_hints,
    leadgen_hints,
    page_hints,
    readability_display,
    reading_time_display,
)
from .extract import ExtractedContent, content_field_names, extract_content
from .registry import (
    GOOD,
    INFO,
    LEVELS,
    PAGE,
    POOR,
    TEXT,
    WARNING,
    Finding,
    Hint,
    HintContext,
    HintRule,
    checks_panel_rules,
    hint_rule,
    registered_rules,
    unregister_hint_rule,
)
from .rules_form import form_field_count, form_length_hint
from .rules_profiling import profiled_worst_count
from .targets import (
    CONTENT,
    EBOOK,
    LANDING,
    PROFILES,
    THANK_YOU,
    get_targets,
    page_language,
    page_profile,
)
from .text import ContentAnalysis, TextBlock

__all__ = [
    "CONTENT",
    "EBOOK",
    "GOOD",
    "INFO",
    "LANDING",
    "LEVELS",
    "PAGE",
    "POOR",
    "PROFILES",
    "TEXT",
    "THANK_YOU",
    "WARNING",
    "ContentAnalysis",
    "ExtractedContent",
    "Finding",
    "Hint",
    "HintContext",
    "HintRule",
    "PageHints",
    "TextBlock",
    "analyse_content",
    "analyse_extracted",
    "checks_panel_rules",
    "content_field_names",
    "content_hints",
    "extract_content",
    "form_field_count",
    "form_length_hint",
    "get_targets",
    "hint_rule",
    "leadgen_hints",
    "page_hints",
    "page_language",
    "page_profile",
    "readability_display",
    "reading_time_display",
    "registered_rules",
    "unregister_hint_rule",
    "profiled_worst_count",
]
