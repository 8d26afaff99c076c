"""The A/B tests in the admin: edit a draft, start, stop, promote the winner.

Tests are a ``ModelViewSet`` (``<admin>/leadgen/tests/``): add, edit (drafts
only), inspect (the results and the actions), history (the audit log).
Starting, stopping and promoting need ``wagtail_leadgen.run_experiment``
and the right to edit the page; publishing the promoted revision needs the
right to publish it. Each is a POST, written to the audit log.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import InspectView
from wagtail.admin.viewsets.model import ModelViewSet

from ..models.experiments import Experiment, ExperimentStatus
from ..services.experiment_counts import flush_variant_views
from ..services.experiment_stats import Verdict
from ..services.experiments import (
    ArmResult,
    ExperimentError,
    ExperimentResults,
    experiment_results,
    promote_variant,
    start_test,
    stop_test,
)

RUN_PERMISSION = "wagtail_leadgen.run_experiment"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{number_format(value * 100, decimal_pos=1)} %"


def verdict_text(arm: ArmResult, results: ExperimentResults) -> str:
    """What the figures allow one to say of a variant, in words."""
    comparison = arm.comparison
    if comparison is None:
        return _("Reference")
    if comparison.verdict == Verdict.NOT_ENOUGH_DATA:
        return _("Not enough data yet: wait for %(count)s views per version.") % {
            "count": results.min_views
        }
    level = {"level": "95 %"}
    if comparison.verdict == Verdict.BETTER:
        return (
            _("Better than the page as published (significant at %(level)s).") % level
        )
    if comparison.verdict == Verdict.WORSE:
        return _("Worse than the page as published (significant at %(level)s).") % level
    return _("No significant difference.")


def result_rows(results: ExperimentResults) -> list[dict[str, Any]]:
    """The table of a test's results, formatted."""
    rows = []
    for arm in results.arms:
        test = arm.comparison.test if arm.comparison else None
        rows.append(
            {
                "arm": arm,
                "rate": percent(arm.rate),
                "interval": (
                    f"{percent(arm.interval[0])} – {percent(arm.interval[1])}"
                    if arm.interval
                    else "—"
                ),
                "p_value": "—" if test is None else number_format(test.p_value, 4),
                "verdict": verdict_text(arm, results),
                "significant": bool(arm.comparison and arm.comparison.significant),
            }
        )
    return rows


def may_run(user: Any, test: Experiment) -> bool:
    """The permission to run tests, and to edit the page tested."""
    if not (user.is_active and user.has_perm(RUN_PERMISSION)):
        return False
    return test.page.permissions_for_user(user).can_edit()


class ExperimentInspectView(InspectView):
    """A test: its variants, its results and (for those who may) its actions."""

    template_name = "wagtail_leadgen/admin/experiment_inspect.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        test = self.object
        flush_variant_views()
        results = experiment_results(test)
        user = self.request.user
        context.update(
            results=results,
            rows=result_rows(results),
            variants=list(test.variants.all()),
            may_run=may_run(user, test),
            may_publish=test.page.permissions_for_user(user).can_publish(),
            is_draft=test.status == ExperimentStatus.DRAFT,
            is_running=test.is_running,
        )
        return context


class ExperimentViewSet(ModelViewSet):
    model = Experiment
    icon = "tasks"
    menu_label = gettext_lazy("A/B tests")
    inspect_view_enabled = True
    inspect_view_class = ExperimentInspectView
    list_display = [
        "name",
        Column("page", label=gettext_lazy("Page"), accessor="page"),
        Column("status", label=gettext_lazy("Status"), accessor="get_status_display"),
        "started_at",
        "stopped_at",
        "winner",
    ]
    list_filter = ["status"]
    extra_urlpatterns: Any = ()

    def get_urlpatterns(self):
        return [*super().get_urlpatterns(), *self.extra_urlpatterns]


def _test_for(request: Any, pk: int) -> Experiment:
    test = get_object_or_404(Experiment.objects.select_related("page"), pk=pk)
    if not may_run(request.user, test):
        raise PermissionDenied
    return test


def _done(pk: int):
    return redirect("wagtail_leadgen_tests:inspect", pk)


@require_POST
def start(request: Any, pk: int):
    test = _test_for(request, pk)
    try:
        start_test(test, request.user)
    except ExperimentError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The test is running."))
    return _done(pk)


@require_POST
def stop(request: Any, pk: int):
    test = _test_for(request, pk)
    try:
        stop_test(test, request.user)
    except ExperimentError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The test is stopped; its results are kept."))
    return _done(pk)


@require_POST
def promote(request: Any, pk: int):
    """Copy a variant into the page as a new revision; publish it only if
    the editor asked and may."""
    test = _test_for(request, pk)
    publish = request.POST.get("publish") == "1"
    if publish and not test.page.permissions_for_user(request.user).can_publish():
        raise PermissionDenied
    try:
        promote_variant(
            test, request.POST.get("variant", ""), request.user, publish=publish
        )
    except ExperimentError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("The variant is published on the page; the test is stopped.")
            if publish
            else _(
                "The variant is saved as a draft of the page; review and publish it. "
                "The test is stopped."
            ),
        )
    return _done(pk)
