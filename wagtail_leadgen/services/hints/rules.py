"""The plugin's hints: one function per hint, registered with its id and texts.

Adding a hint is adding a function here, in ``rules_form.py`` for the lead
form and its notice (or, for a site, anywhere that is imported at start-up)
decorated with ``@hint_rule``; see the registry in ``registry.py`` and
"Adding a hint" in docs/content-hints.md. Text rules come first, then the
content's page rules, then the lead form's (``rules_form`` is imported after
this module); the order matters only within a level, since hints are shown
worst first.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ...models.mixins import LeadCaptureMixin
from .registry import (
    GOOD,
    INFO,
    PAGE,
    POOR,
    WARNING,
    Finding,
    HintContext,
    hint_rule,
)
from .targets import CONTENT, readability_label


def grouped(value: int | float) -> str:
    """A figure as the active language writes it ("1,000", "1 000")."""
    return number_format(value, force_grouping=True)


# -- Text ---------------------------------------------------------------------------
@hint_rule(
    "words",
    title=gettext_lazy("Length of the content"),
    action=gettext_lazy("Develop the topic: answer the questions your readers ask."),
)
def words(context: HintContext) -> Finding | None:
    count, targets = context.figures.words, context.targets
    if not count:
        return Finding(INFO, _("No text yet."))
    good, excellent = targets["WORDS_GOOD"], targets["WORDS_EXCELLENT"]
    if excellent and count >= excellent:
        return Finding(
            GOOD,
            _("%(count)s words: long and detailed, like the pages that rank best.")
            % {"count": grouped(count)},
        )
    if good and count >= good:
        return Finding(
            GOOD,
            _(
                "%(count)s words: above the %(good)s-word floor; %(excellent)s or more rank best."
            )
            % {
                "count": grouped(count),
                "good": grouped(good),
                "excellent": grouped(excellent or good),
            },
        )
    if good:
        return Finding(
            WARNING,
            ngettext(
                "%(count)s word: content that ranks and converts has about %(good)s or more.",
                "%(count)s words: content that ranks and converts has about %(good)s or more.",
                count,
            )
            % {"count": grouped(count), "good": grouped(good)},
        )
    return None


@hint_rule(
    "words-max",
    title=gettext_lazy("Long for this type of page"),
    action=gettext_lazy("Keep to the essentials; move details to a content page."),
)
def words_max(context: HintContext) -> Finding | None:
    count, maximum = context.figures.words, context.targets["WORDS_MAX"]
    if maximum and count > maximum:
        return Finding(
            INFO,
            _("%(count)s words: long for this type of page (aim for %(max)s at most).")
            % {"count": grouped(count), "max": grouped(maximum)},
        )
    return None


@hint_rule(
    "readability",
    title=gettext_lazy("Readability"),
    action=gettext_lazy("Shorten sentences and prefer short, everyday words."),
)
def readability(context: HintContext) -> Finding | None:
    analysis = context.figures
    if not analysis.words:
        return None  # the "words" hint already says there is no text yet
    if analysis.readability is None:
        if analysis.readability_formula is None:
            return Finding(
                INFO,
                _("No readability formula for this page's language (%(language)s).")
                % {"language": analysis.language},
            )
        if (
            context.profile == CONTENT
            or analysis.words >= analysis.min_words_for_readability // 2
        ):
            return Finding(
                INFO,
                _("Readability is scored from %(min)s words on (%(count)s so far).")
                % {
                    "min": grouped(analysis.min_words_for_readability),
                    "count": grouped(analysis.words),
                },
            )
        return None
    values = {
        "score": grouped(round(analysis.readability)),
        "formula": analysis.readability_formula,
    }
    label = readability_label(analysis.readability, context.targets)
    if label == "easy":
        return Finding(
            GOOD, _("Readability %(score)s (%(formula)s): easy to read.") % values
        )
    if label == "fair":
        return Finding(
            INFO,
            _(
                "Readability %(score)s (%(formula)s): fairly easy; short sentences would help."
            )
            % values,
        )
    return Finding(
        WARNING,
        _("Readability %(score)s (%(formula)s): hard to read for a broad audience.")
        % values,
    )


@hint_rule(
    "long-sentences",
    title=gettext_lazy("Many long sentences"),
    action=gettext_lazy("Split long sentences: one idea per sentence."),
)
def long_sentences(context: HintContext) -> Finding | None:
    analysis, share = context.figures, context.targets["LONG_SENTENCES_MAX_SHARE"]
    if analysis.sentences >= 3 and analysis.long_sentence_share > share:
        return Finding(
            WARNING,
            _(
                "%(percent)s%% of the sentences have more than %(words)s words "
                "(aim for %(max)s%% at most)."
            )
            % {
                "percent": round(analysis.long_sentence_share * 100),
                "words": analysis.long_sentence_words,
                "max": round(share * 100),
            },
        )
    return None


@hint_rule(
    "long-paragraph",
    title=gettext_lazy("Long paragraph"),
    action=gettext_lazy("Split it: one idea per paragraph."),
)
def long_paragraph(context: HintContext) -> Finding | None:
    longest, maximum = (
        context.figures.longest_paragraph,
        context.targets["PARAGRAPH_MAX_WORDS"],
    )
    if longest > maximum:
        return Finding(
            WARNING,
            _("The longest paragraph has %(count)s words (aim for %(max)s at most).")
            % {"count": grouped(longest), "max": grouped(maximum)},
        )
    return None


@hint_rule(
    "subheadings",
    title=gettext_lazy("Too few subheadings"),
    action=gettext_lazy(
        "Add a subheading (H2 or H3) that says what the next part is about."
    ),
)
def subheadings(context: HintContext) -> Finding | None:
    run, every = (
        context.figures.max_words_between_subheadings,
        context.targets["SUBHEADING_EVERY_WORDS"],
    )
    if run > every:
        return Finding(
            WARNING,
            _(
                "%(count)s words in a row without a subheading "
                "(aim for one every %(max)s words)."
            )
            % {"count": grouped(run), "max": grouped(every)},
        )
    return None


# -- Lead generation -------------------------------------------------------------------
@hint_rule(
    "offer-above-form",
    title=gettext_lazy("Offer not described above the form"),
    action=gettext_lazy("Say in one or two sentences what the visitor gets."),
    scope=PAGE,
)
def offer_above_form(context: HintContext) -> Finding | None:
    fields = context.content.fields
    if (
        context.targets["OFFER_ABOVE_FORM"]
        and fields
        and not next(iter(fields.values())).strip()
    ):
        return Finding(WARNING, _("The offer is not described above the form."))
    return None


@hint_rule(
    "cta-target",
    title=gettext_lazy("Call to action leading nowhere"),
    action=gettext_lazy("Publish its target page, or choose another target."),
    scope=PAGE,
    checks_panel=True,
)
def cta_target(context: HintContext) -> list[Finding]:
    found = []
    for cta in context.content.ctas:
        if cta is None:
            found.append(
                Finding(POOR, _("A call-to-action block has no call to action chosen."))
            )
        elif not cta.href:
            found.append(
                Finding(
                    POOR,
                    _(
                        "The call to action “%(label)s” points to a page that is missing or not published."
                    )
                    % {"label": cta.label},
                )
            )
    return found


@hint_rule(
    "thank-you-page",
    title=gettext_lazy("No thank-you page"),
    action=gettext_lazy(
        "Choose a published thank-you page: it gives the download and "
        "suggests further content."
    ),
    scope=PAGE,
    checks_panel=True,
)
def thank_you_page(context: HintContext) -> Finding | None:
    page = context.page
    if not isinstance(page, LeadCaptureMixin):
        return None
    try:
        thank_you = page.thank_you_page
    except ObjectDoesNotExist:  # chosen in a draft, deleted since
        thank_you = None
    if thank_you is None:
        return Finding(
            WARNING,
            _(
                "No thank-you page: visitors are thanked on the form page, with nothing more to read."
            ),
        )
    if not thank_you.live:
        return Finding(
            WARNING,
            _("The thank-you page “%(title)s” is not published.")
            % {"title": thank_you.title},
        )
    return None


@hint_rule(
    "cta-missing",
    title=gettext_lazy("No call to action"),
    action=gettext_lazy("Add a call to action that leads readers to an offer."),
    scope=PAGE,
)
def cta_missing(context: HintContext) -> Finding | None:
    extracted = context.content
    if context.profile == CONTENT and not extracted.ctas and extracted.blocks:
        return Finding(INFO, _("No call to action in the content."))
    return None


@hint_rule(
    "meta-description",
    title=gettext_lazy("No meta description"),
    action=gettext_lazy(
        "Write one or two sentences in the search description (Promote tab): "
        "search engines show them under the title."
    ),
    scope=PAGE,
)
def meta_description(context: HintContext) -> Finding | None:
    # Wagtail's default Page has the field; a swapped base page may not, and
    # then there is nothing the editor could fill in.
    if context.page is not None and not hasattr(
        type(context.page), "search_description"
    ):
        return None
    description = getattr(context.page, "search_description", "") or ""
    if context.targets["META_DESCRIPTION"] and not description.strip():
        return Finding(WARNING, _("No meta description."))
    return None
