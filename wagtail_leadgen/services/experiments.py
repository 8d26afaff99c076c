"""Running an A/B test: start, stop, promote the winner, and its results.

Each action is checked by the caller (``views.experiments``: the
``run_experiment`` permission and the page's own permissions) and written to
Wagtail's audit log against the test, whose history view lists them. A test
is never edited once started and never deleted by these actions, so every
past test keeps its figures. Starting and stopping replace the content stamp,
so every process serves the change at its next request.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import LogActionRegistry, LogFormatter
from wagtail.log_actions import log as log_action

from ..conf import leadgen_settings
from ..models.experiments import CONTROL, Experiment, ExperimentDay, ExperimentStatus
from ..models.freshness import bump_stamp
from .experiment_counts import flush_variant_views
from .experiment_stats import Comparison, Verdict, compare, wilson_interval

START_ACTION = "wagtail_leadgen.experiment.start"
STOP_ACTION = "wagtail_leadgen.experiment.stop"
PROMOTE_ACTION = "wagtail_leadgen.experiment.promote"


class ExperimentError(Exception):
    """An action that does not apply to the test as it is (shown to the editor)."""


class _StartFormatter(LogFormatter):
    label = _("Start A/B test")
    message = _("Started the A/B test")


class _StopFormatter(LogFormatter):
    label = _("Stop A/B test")
    message = _("Stopped the A/B test")


class _PromoteFormatter(LogFormatter):
    label = _("Promote A/B test variant")

    def format_message(self, log_entry: Any) -> str:
        data = log_entry.data or {}
        message = _(
            "Copied variant “%(variant)s” into page #%(page)s as revision #%(revision)s"
        ) % {
            "variant": data.get("variant", ""),
            "page": data.get("page", ""),
            "revision": data.get("revision", ""),
        }
        if data.get("published"):
            message = _("%(message)s, and published it") % {"message": message}
        return str(message)


def register_experiment_log_actions(actions: LogActionRegistry) -> None:
    """For the ``register_log_actions`` hook."""
    actions.register_action(START_ACTION)(_StartFormatter)
    actions.register_action(STOP_ACTION)(_StopFormatter)
    actions.register_action(PROMOTE_ACTION)(_PromoteFormatter)


def start_test(test: Experiment, user: Any) -> Experiment:
    """Start a draft test; refused while another test of the page runs."""
    with transaction.atomic():
        test = Experiment.objects.select_for_update().get(pk=test.pk)
        if test.status != ExperimentStatus.DRAFT:
            raise ExperimentError(_("Only a draft test can be started."))
        if not test.variants.exists():
            raise ExperimentError(_("Add at least one variant to test."))
        test.status = ExperimentStatus.RUNNING
        test.started_at = timezone.now()
        try:
            with transaction.atomic():
                test.save(update_fields=["status", "started_at"])
        except IntegrityError as error:
            raise ExperimentError(
                _("Another test of this page is running: stop it first.")
            ) from error
        log_action(test, START_ACTION, user=user, data={"page": test.page_id})
        bump_stamp()
    return test


def stop_test(test: Experiment, user: Any, *, winner: str = "") -> Experiment:
    """Stop a running test; its figures are kept."""
    with transaction.atomic():
        test = Experiment.objects.select_for_update().get(pk=test.pk)
        if test.status != ExperimentStatus.RUNNING:
            raise ExperimentError(_("This test is not running."))
        test.status = ExperimentStatus.STOPPED
        test.stopped_at = timezone.now()
        test.winner = winner
        test.save(update_fields=["status", "stopped_at", "winner"])
        log_action(
            test, STOP_ACTION, user=user, data={"page": test.page_id, "winner": winner}
        )
        bump_stamp()
    return test


def promote_variant(
    test: Experiment, key: str, user: Any, *, publish: bool = False
) -> Any:
    """Copy a variant's texts into its page as a new revision (published only
    if asked), then stop the test; the revision."""
    variant = test.variant(key)
    if variant is None:
        raise ExperimentError(_("This test has no variant “%(key)s”.") % {"key": key})
    if test.status != ExperimentStatus.RUNNING:
        raise ExperimentError(_("This test is not running."))
    with transaction.atomic():
        page = test.page.specific.get_latest_revision_as_object()
        page = page.with_variant_texts(variant.texts())
        revision = page.save_revision(user=user, log_action=True)
        if publish:
            revision.publish(user=user)
        log_action(
            test,
            PROMOTE_ACTION,
            user=user,
            data={
                "page": test.page_id,
                "variant": key,
                "revision": revision.pk,
                "published": publish,
            },
        )
        stop_test(test, user, winner=key)
    return revision


# -- Results ------------------------------------------------------------------------
@dataclass(frozen=True)
class ArmResult:
    key: str
    label: str
    views: int
    submissions: int
    interval: tuple[float, float] | None
    comparison: Comparison | None  # None for the control

    @property
    def rate(self) -> float | None:
        return self.submissions / self.views if self.views else None


@dataclass(frozen=True)
class ExperimentResults:
    test: Experiment
    arms: list[ArmResult]
    min_views: int

    @property
    def winner(self) -> ArmResult | None:
        """The variant significantly better than the control (the best one)."""
        better = [
            arm
            for arm in self.arms
            if arm.comparison and arm.comparison.verdict == Verdict.BETTER
        ]
        return max(better, key=lambda arm: arm.rate or 0, default=None)

    @property
    def decided(self) -> bool:
        return any(arm.comparison and arm.comparison.significant for arm in self.arms)


def experiment_results(test: Experiment) -> ExperimentResults:
    """Views, submissions, rate with its Wilson interval per arm, and each
    variant's verdict against the control (``experiment_stats.compare``)."""
    totals: dict[str, Any] = {
        row["variant"]: row
        for row in ExperimentDay.objects.filter(experiment=test)
        .values("variant")
        .annotate(views=Sum("views"), submissions=Sum("submissions"))
    }
    min_views = leadgen_settings.experiments["MIN_VIEWS_PER_VARIANT"]
    arms = test.arms()
    control = totals.get(CONTROL, {})
    control_counts = (control.get("submissions") or 0, control.get("views") or 0)
    results = []
    for key, _weight in arms:
        row = totals.get(key, {})
        views, submissions = row.get("views") or 0, row.get("submissions") or 0
        results.append(
            ArmResult(
                key=key,
                label=str(_("Page as published")) if key == CONTROL else key,
                views=views,
                submissions=submissions,
                interval=wilson_interval(min(submissions, views), views),
                comparison=None
                if key == CONTROL
                else compare(
                    control_counts,
                    (submissions, views),
                    min_views=min_views,
                    comparisons=len(arms) - 1,
                ),
            )
        )
    return ExperimentResults(test=test, arms=results, min_views=min_views)


def dashboard_results(*, stopped_days: int = 30) -> list[ExperimentResults]:
    """The results of running tests and of those stopped lately, views
    flushed from the cache first."""
    flush_variant_views()
    since = timezone.now() - datetime.timedelta(days=stopped_days)
    tests = (
        Experiment.objects.filter(status=ExperimentStatus.RUNNING)
        | Experiment.objects.filter(stopped_at__gte=since)
    ).prefetch_related("variants")
    return [experiment_results(test) for test in tests.select_related("page")]


def stale_running_test(page_id: int) -> ExperimentResults | None:
    """The page's running test, when it has run ``STALE_AFTER_DAYS`` days
    without a significant difference."""
    test = (
        Experiment.objects.filter(page_id=page_id, status=ExperimentStatus.RUNNING)
        .prefetch_related("variants")
        .first()
    )
    days = leadgen_settings.experiments["STALE_AFTER_DAYS"]
    if test is None or test.started_at is None:
        return None
    if timezone.now() - test.started_at < datetime.timedelta(days=days):
        return None
    results = experiment_results(test)
    return None if results.decided else results
