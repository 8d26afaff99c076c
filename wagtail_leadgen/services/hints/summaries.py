"""Stored summaries for the content hints report: computed once per page revision.

The report sorts and paginates the lead pages by words, readability, poor
and warning hints and form length. Analysing every page on each request made
pagination pointless, so each page's figures are stored in a
``ContentHintsSummary`` and the report orders them in the database.

A summary is fresh while both hold:

- the page's latest revision is the one it was computed from: a new draft,
  a publication or a revert makes it stale;
- its ``fingerprint`` is the current one: a hash of everything besides the
  page that decides the figures once, at deploy time — the targets
  (``CONTENT_TARGETS``), the reading speeds, ``LANGUAGE_CODE``, the
  registered rules and the plugin's version. Changing a target, adding a
  rule or upgrading changes the hash, so no summary ever shows figures
  computed under other settings: each is recomputed on the next view of
  the report.

The hints also read other objects, which change without a new revision of
the page: the thank-you page and the pages its CTAs lead to (published or
not, their title), the CTAs themselves, the consent purposes and the site's
data controller settings. The receivers below empty the fingerprint of the
summaries concerned when one of these is saved or deleted: for a page, its
own summary (some code saves pages without a revision) and those that refer
to it (``referenced_pages``); for the rarer snippet, settings and site
edits, every summary.

Stale and missing summaries are computed when the report is viewed, for the
pages it lists (``refresh_summaries``); saving or publishing a page computes
nothing. The issue messages are stored in the language of the user who
caused the computation (``issues_language``): an export in another language
computes them again (``page_issues``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import swapper
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.signals import post_delete, post_save, pre_delete
from django.utils import timezone
from django.utils.translation import get_language
from wagtail.models import Site, get_page_models

from ... import __version__
from ...conf import leadgen_settings
from ...models.consent import ConsentPurpose
from ...models.hints import ContentHintsSummary
from ...models.settings import LeadgenSiteSettings
from ...models.snippets import CallToAction
from .analysis import PageHints, page_hints
from .registry import POOR, WARNING, registered_rules

#: The figures a summary keeps about its page, what the report shows.
SUMMARY_FIGURES = (
    "words",
    "reading_time_minutes",
    "readability",
    "readability_formula",
    "poor",
    "warnings",
    "form_fields",
    "issues",
    "issues_language",
)
#: The fields a refresh writes (all but the page and the primary key).
SUMMARY_FIELDS = ("revision", "fingerprint", "computed_at", *SUMMARY_FIGURES)


def summary_fingerprint() -> str:
    """The hash of the settings and rules the summaries are computed under."""
    data = {
        "version": __version__,
        "targets": leadgen_settings.content_targets,
        "reading_speeds": leadgen_settings.reading_speeds,
        "language": settings.LANGUAGE_CODE,
        "rules": [
            [rule.id, rule.scope, rule.function.__module__, rule.function.__qualname__]
            for rule in registered_rules()
        ],
    }
    encoded = json.dumps(data, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


def fresh_summary_q(fingerprint: str) -> Q:
    """Pages whose stored summary is fresh (see the module docstring)."""
    return Q(leadgen_hints_summary__fingerprint=fingerprint) & (
        Q(leadgen_hints_summary__revision=F("latest_revision"))
        | Q(
            latest_revision__isnull=True,
            leadgen_hints_summary__revision__isnull=True,
        )
    )


def analysed_page(page: Any) -> Any:
    """What the report describes: the latest draft when there is one, else the page."""
    if page.has_unpublished_changes:
        return page.get_latest_revision_as_object()
    return page


def issue_messages(result: PageHints) -> list[str]:
    return [hint.message for hint in result.hints if hint.level in (WARNING, POOR)]


def page_issues(page: Any) -> list[str]:
    """The poor and warning messages of a page, in the active language."""
    return issue_messages(page_hints(analysed_page(page)))


def summarise(page: Any, fingerprint: str) -> tuple[ContentHintsSummary, set[int]]:
    """A page's summary (unsaved), and the ids of the pages its hints read."""
    draft = analysed_page(page)
    result = page_hints(draft)
    analysis = result.analysis
    summary = ContentHintsSummary(
        page_id=page.pk,
        revision_id=page.latest_revision_id,
        fingerprint=fingerprint,
        computed_at=timezone.now(),
        words=analysis.words,
        reading_time_minutes=analysis.reading_time_minutes,
        readability=analysis.readability,
        readability_formula=analysis.readability_formula or "",
        poor=result.poor,
        warnings=result.warnings,
        form_fields=result.form_fields,
        issues=issue_messages(result),
        issues_language=get_language() or "",
    )
    referenced = {
        cta.target_page_id
        for cta in (result.extracted.ctas if result.extracted else ())
        if cta is not None and cta.target_page_id
    }
    if getattr(draft, "thank_you_page_id", None):
        referenced.add(draft.thank_you_page_id)
    return summary, referenced


def refresh_summaries(pages: Any) -> int:
    """Compute and store the summaries of ``pages`` (a Wagtail page queryset)
    that are missing or stale.

    One query when every summary is fresh; otherwise each stale page is
    analysed as the report always did, and the summaries are written in a
    few queries. Returns how many were computed.
    """
    fingerprint = summary_fingerprint()
    fresh = pages.filter(fresh_summary_q(fingerprint)).values("pk")
    stale = (
        pages.exclude(pk__in=fresh)
        .select_related("latest_revision", for_specific_subqueries=True)
        .specific()
    )
    computed = [summarise(page, fingerprint) for page in stale]
    if not computed:
        return 0
    summaries = [summary for summary, _ in computed]
    with transaction.atomic():
        ContentHintsSummary.objects.bulk_create(
            summaries,
            update_conflicts=True,
            unique_fields=["page"],
            update_fields=SUMMARY_FIELDS,
        )
        _store_references(
            {summary.page_id: referenced for summary, referenced in computed}
        )
    return len(summaries)


def _store_references(referenced_by_page: dict[int, set[int]]) -> None:
    field = ContentHintsSummary._meta.get_field("referenced_pages")
    through: Any = field.remote_field.through
    source, target = (
        f"{field.m2m_field_name()}_id",
        f"{field.m2m_reverse_field_name()}_id",
    )
    ids = dict(
        ContentHintsSummary.objects.filter(page_id__in=referenced_by_page).values_list(
            "page_id", "pk"
        )
    )
    through.objects.filter(**{f"{source}__in": ids.values()}).delete()
    through.objects.bulk_create(
        [
            through(**{source: ids[page_id], target: referenced_id})
            for page_id, referenced in referenced_by_page.items()
            for referenced_id in referenced
        ],
        ignore_conflicts=True,
    )


# -- What makes summaries stale ---------------------------------------------------------
def mark_stale(summaries: QuerySet) -> None:
    """Empty the fingerprint: the next view of the report recomputes them."""
    summaries.exclude(fingerprint="").update(fingerprint="")


def _page_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    mark_stale(
        ContentHintsSummary.objects.filter(
            Q(page_id=instance.pk) | Q(referenced_pages=instance.pk)
        )
    )


def _shared_object_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    mark_stale(ContentHintsSummary.objects.all())


def connect_receivers() -> None:
    """Called once from ``AppConfig.ready()``, when every page model is known.

    Receivers are connected per sender: a ``post_delete`` receiver for every
    model would stop Django from deleting any model's rows in bulk.
    """
    for model in get_page_models():
        post_save.connect(_page_changed, sender=model)
    # Also for a page deleted with its ancestor; Wagtail itself listens there.
    pre_delete.connect(_page_changed, sender=swapper.load_model("wagtailcore", "Page"))
    for model in (ConsentPurpose, CallToAction, LeadgenSiteSettings, Site):
        post_save.connect(_shared_object_changed, sender=model)
        post_delete.connect(_shared_object_changed, sender=model)
