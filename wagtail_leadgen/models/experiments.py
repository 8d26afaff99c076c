"""A/B tests of an offer: the test, its variants and its daily figures.

An ``Experiment`` belongs to one landing or e-book page and keeps its
history: a page may have many (drafts, stopped ones), at most one running.
The page as published is the control (``CONTROL``); each
``ExperimentVariant`` replaces some of its texts (headline, intro, form
heading, submit label) and has a weight in the split. ``ExperimentDay``
holds counts only, per variant and day: views (flushed from the cache) and
submissions (attributed through the signed form token). No visitor data.
See docs/ab-testing.md.
"""

from __future__ import annotations

from typing import Any

import swapper
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    InlinePanel,
    PageChooserPanel,
)
from wagtail.admin.widgets import AdminPageChooser
from wagtail.models import Orderable, get_page_models

#: The key of the page as published, the control every variant is compared with.
CONTROL = "control"
#: At most this many variants beside the control.
MAX_VARIANTS = 3
#: The texts a variant may replace, in the order an editor sees them.
VARIANT_TEXTS = ("title", "intro", "form_heading", "submit_label")


class TestedPageChooserPanel(PageChooserPanel):
    """The page chooser lists the page types that run tests only."""

    def get_form_options(self) -> dict[str, Any]:
        options = super().get_form_options()
        tested = [m for m in get_page_models() if getattr(m, "runs_experiments", False)]
        options.setdefault("widgets", {})[self.field_name] = AdminPageChooser(
            target_models=tested
        )
        return options


class ExperimentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    RUNNING = "running", _("Running")
    STOPPED = "stopped", _("Stopped")


class ExperimentForm(WagtailAdminModelForm):
    """An editor's test: only a draft may change (the figures of a started
    test must describe what visitors saw), on a page that can run tests."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        instance = self.instance
        if instance.pk and instance.status != ExperimentStatus.DRAFT:
            raise ValidationError(
                _(
                    "A started test cannot be changed: its results must describe "
                    "what visitors saw. Create a new test instead."
                )
            )
        page = cleaned.get("page")
        if page is not None and not getattr(page.specific, "runs_experiments", False):
            self.add_error(
                "page",
                _("Choose a landing page or an e-book page: only they run tests."),
            )
        # One key per variant, one to three variants: the inline formset's
        # unique-together and min/max validation.
        return cleaned


def validate_variant_key(value: str) -> None:
    if value == CONTROL:
        raise ValidationError(
            _("“%(key)s” names the page as published; choose another key.")
            % {"key": CONTROL}
        )


class Experiment(ClusterableModel):
    """One A/B test of a lead page's offer texts."""

    page = models.ForeignKey(
        swapper.get_model_name("wagtailcore", "Page"),
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("page"),
    )
    name = models.CharField(_("name"), max_length=120)
    control_weight = models.PositiveSmallIntegerField(
        _("share of the page as published"),
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_("Weights are relative: 50 and 50 split visitors in halves."),
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ExperimentStatus.choices,
        default=ExperimentStatus.DRAFT,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)
    winner = models.CharField(_("promoted variant"), max_length=20, blank=True)

    base_form_class = ExperimentForm
    panels = [
        TestedPageChooserPanel("page"),
        FieldPanel("name"),
        FieldPanel("control_weight"),
        InlinePanel(
            "variants",
            label=_("Variant"),
            min_num=1,
            max_num=MAX_VARIANTS,
            heading=_("Variants"),
        ),
    ]

    class Meta:
        verbose_name = _("A/B test")
        verbose_name_plural = _("A/B tests")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("run_experiment", _("Can start, stop and promote A/B tests")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["page"],
                condition=models.Q(status="running"),
                name="leadgen_one_running_experiment_per_page",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_running(self) -> bool:
        return self.status == ExperimentStatus.RUNNING

    def arms(self) -> list[tuple[str, int]]:
        """(key, weight) of the control and each variant, in order."""
        return [(CONTROL, self.control_weight)] + [
            (variant.key, variant.weight) for variant in self.variants.all()
        ]

    def variant(self, key: str) -> ExperimentVariant | None:
        return next((v for v in self.variants.all() if v.key == key), None)


class ExperimentVariant(Orderable):
    """Texts that replace the page's own for the visitors assigned to it;
    a blank text keeps the page's."""

    experiment = ParentalKey(
        Experiment, on_delete=models.CASCADE, related_name="variants"
    )
    key = models.SlugField(
        _("key"),
        max_length=20,
        validators=[validate_variant_key],
        help_text=_(
            "Short and stable: it names the variant in results and in campaign "
            "links (?variant=key)."
        ),
    )
    weight = models.PositiveSmallIntegerField(
        _("share"),
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
    )
    title = models.CharField(_("headline"), max_length=255, blank=True)
    intro = models.TextField(_("introduction"), blank=True)
    form_heading = models.CharField(_("form heading"), max_length=120, blank=True)
    submit_label = models.CharField(_("submit button label"), max_length=60, blank=True)

    panels = [
        FieldRowPanel([FieldPanel("key"), FieldPanel("weight")]),
        FieldPanel("title"),
        FieldPanel("intro"),
        FieldRowPanel([FieldPanel("form_heading"), FieldPanel("submit_label")]),
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "key"], name="leadgen_variant_unique_key"
            )
        ]

    def __str__(self) -> str:
        return self.key

    def texts(self) -> dict[str, str]:
        """The texts this variant replaces (blank ones keep the page's)."""
        return {
            name: getattr(self, name) for name in VARIANT_TEXTS if getattr(self, name)
        }


class ExperimentDay(models.Model):
    """Views and submissions of one variant of a test on one day."""

    experiment = models.ForeignKey(
        Experiment, on_delete=models.CASCADE, related_name="days"
    )
    variant = models.CharField(_("variant"), max_length=20)
    day = models.DateField(_("day"))
    views = models.PositiveIntegerField(_("views"), default=0)
    submissions = models.PositiveIntegerField(_("submissions"), default=0)

    class Meta:
        verbose_name = _("A/B test figures (day)")
        verbose_name_plural = _("A/B test figures (days)")
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "variant", "day"],
                name="leadgen_experiment_unique_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.experiment_id}/{self.variant} {self.day}"
