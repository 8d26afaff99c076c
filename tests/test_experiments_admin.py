"""Running A/B tests from the admin: start, stop, promote (permission-checked
and audited), drafts only editable, results on the dashboard, the hint and
the system checks."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from wagtail.models import GroupPagePermission, ModelLogEntry

from wagtail_leadgen.experiment_checks import check_experiment_settings
from wagtail_leadgen.models import Experiment, ExperimentDay, ExperimentStatus
from wagtail_leadgen.services.experiments import experiment_results
from wagtail_leadgen.services.hints import page_hints

from .factories import make_experiment, make_landing_page, make_staff, site_root
from .helpers import assert_denied

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0"


def editor(*page_permissions, run=True, username="editor"):
    """An admin user who may edit (and ``publish``…) pages, and run tests."""
    user = get_user_model().objects.create_user(username, f"{username}@corp.test", "pw")
    group = Group.objects.create(name=f"group-{username}")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    group.permissions.add(Permission.objects.get(codename="view_experiment"))
    if run:
        group.permissions.add(Permission.objects.get(codename="run_experiment"))
    for permission in page_permissions:
        GroupPagePermission.objects.create(
            group=group, page=site_root(), permission_type=permission
        )
    user.groups.add(group)
    return user


def action(name, test):
    return reverse(f"wagtail_leadgen_tests:{name}", args=[test.pk])


def logged(test) -> list[str]:
    return list(
        ModelLogEntry.objects.for_instance(test)
        .order_by("pk")
        .values_list("action", flat=True)
    )


def test_an_editor_starts_and_stops_a_test_and_both_are_audited(client):
    test = make_experiment(running=False)
    client.force_login(editor("change"))
    response = client.post(action("start", test))
    assert response.status_code == 302
    test.refresh_from_db()
    assert test.status == ExperimentStatus.RUNNING and test.started_at
    served = client.get(test.page.url, {"variant": "b"}).content.decode()
    assert "Audit in 48 h" in served
    client.post(action("stop", test))
    test.refresh_from_db()
    assert test.status == ExperimentStatus.STOPPED
    assert logged(test) == [
        "wagtail_leadgen.experiment.start",
        "wagtail_leadgen.experiment.stop",
    ]
    client.logout()
    page = client.get(test.page.url, {"variant": "b"}).content.decode()
    assert "Audit in 48 h" not in page  # stopped: the page as published again


def test_starting_needs_the_run_permission_and_the_right_to_edit_the_page(client):
    test = make_experiment(running=False)
    for user in (editor("change", run=False, username="a"), editor(username="b")):
        client.force_login(user)
        assert_denied(client.post(action("start", test)))
    test.refresh_from_db()
    assert test.status == ExperimentStatus.DRAFT
    assert logged(test) == []


def test_a_get_never_starts_a_test(client):
    test = make_experiment(running=False)
    client.force_login(editor("change"))
    assert client.get(action("start", test)).status_code == 405


def test_one_running_test_per_page(client):
    running = make_experiment()
    second = make_experiment(running.page, running=False, name="Second")
    client.force_login(editor("change"))
    client.post(action("start", second))
    second.refresh_from_db()
    assert second.status == ExperimentStatus.DRAFT


def test_promoting_saves_a_draft_revision_and_stops_the_test(client):
    test = make_experiment(
        variants=[{"key": "b", "title": "Audit in 48 h", "submit_label": "Book"}]
    )
    client.force_login(editor("change"))
    client.post(action("promote", test), {"variant": "b"})
    test.refresh_from_db()
    assert test.status == ExperimentStatus.STOPPED and test.winner == "b"
    page = test.page.specific
    page.refresh_from_db()
    assert page.title == "Free audit"  # not published
    draft = page.get_latest_revision_as_object()
    assert (draft.title, draft.submit_label) == ("Audit in 48 h", "Book")
    assert draft.intro == page.intro  # a blank text keeps the page's
    assert page.has_unpublished_changes
    assert logged(test) == [
        "wagtail_leadgen.experiment.promote",
        "wagtail_leadgen.experiment.stop",
    ]


def test_promoting_publishes_only_when_asked_and_allowed(client):
    test = make_experiment()
    client.force_login(editor("change", username="writer"))
    assert_denied(
        client.post(action("promote", test), {"variant": "b", "publish": "1"})
    )
    client.force_login(editor("change", "publish", username="publisher"))
    client.post(action("promote", test), {"variant": "b", "publish": "1"})
    page = test.page.specific
    page.refresh_from_db()
    assert page.title == "Audit in 48 h" and not page.has_unpublished_changes


def test_promoting_an_unknown_variant_changes_nothing(client):
    test = make_experiment()
    client.force_login(editor("change"))
    for forged in ("control", "zzz", ""):
        response = client.post(action("promote", test), {"variant": forged})
        assert response.status_code == 302
    test.refresh_from_db()
    assert test.is_running and logged(test) == []


def test_a_started_test_cannot_be_edited(client):
    test = make_experiment()
    client.force_login(make_staff("change_experiment", "view_experiment"))
    data = {
        "page": test.page.pk,
        "name": "Renamed",
        "control_weight": 50,
        "variants-TOTAL_FORMS": 1,
        "variants-INITIAL_FORMS": 1,
        "variants-MIN_NUM_FORMS": 1,
        "variants-MAX_NUM_FORMS": 3,
        "variants-0-id": test.variants.get().pk,
        "variants-0-key": "b",
        "variants-0-weight": 50,
        "variants-0-ORDER": 1,
    }
    response = client.post(reverse("wagtail_leadgen_tests:edit", args=[test.pk]), data)
    assert response.status_code == 200
    assert "A started test cannot be changed" in response.content.decode()
    test.refresh_from_db()
    assert test.name == "Headline test"


def test_a_draft_is_created_with_its_variants(client):
    page = make_landing_page()
    client.force_login(make_staff("add_experiment", "view_experiment"))
    data = {
        "page": page.pk,
        "name": "Submit label",
        "control_weight": 50,
        "variants-TOTAL_FORMS": 2,
        "variants-INITIAL_FORMS": 0,
        "variants-MIN_NUM_FORMS": 1,
        "variants-MAX_NUM_FORMS": 3,
        "variants-0-key": "b",
        "variants-0-weight": 25,
        "variants-0-submit_label": "Get my audit",
        "variants-0-ORDER": 1,
        "variants-1-key": "b",
        "variants-1-weight": 25,
        "variants-1-ORDER": 2,
    }
    url = reverse("wagtail_leadgen_tests:add")
    response = client.post(url, data)
    assert response.status_code == 200  # two variants with one key
    assert "duplicate" in response.content.decode()
    data["variants-1-key"] = "c"
    response = client.post(url, data)
    assert response.status_code == 302
    test = page_tests(page)[0]
    assert test.status == ExperimentStatus.DRAFT
    assert [key for key, _ in test.arms()] == ["control", "b", "c"]


def page_tests(page):
    return list(Experiment.objects.filter(page=page))


# -- Results ---------------------------------------------------------------------------
def test_the_dashboard_shows_each_variants_figures_and_verdict(client):
    test = make_experiment()
    today = timezone.localdate()
    ExperimentDay.objects.create(
        experiment=test, variant="control", day=today, views=2000, submissions=100
    )
    ExperimentDay.objects.create(
        experiment=test, variant="b", day=today, views=2000, submissions=160
    )
    client.force_login(make_staff("view_lead"))
    markup = client.get(reverse("wagtail_leadgen_kpis:report")).content.decode()
    assert "Headline test" in markup
    assert "Page as published" in markup
    assert "Better than the page as published (significant at 95 %)." in markup
    assert "5.0 %" in markup and "8.0 %" in markup


def test_results_say_when_there_is_not_enough_data():
    test = make_experiment()
    ExperimentDay.objects.create(
        experiment=test, variant="control", day=timezone.localdate(), views=300
    )
    results = experiment_results(test)
    assert not results.decided and results.winner is None
    assert results.arms[1].views == 0


def test_the_inspect_view_shows_the_results_and_the_actions(client):
    test = make_experiment()
    client.force_login(editor("change"))
    markup = client.get(reverse("wagtail_leadgen_tests:inspect", args=[test.pk]))
    assert markup.status_code == 200
    content = markup.content.decode()
    assert "Stop the test" in content and "Promote" in content


# -- Hint and checks ---------------------------------------------------------------------
def test_a_test_without_a_verdict_after_two_weeks_gets_a_hint():
    start = datetime.datetime(2026, 3, 1, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        test = make_experiment()
    page = test.page.specific
    with time_machine.travel(start + datetime.timedelta(days=13), tick=False):
        assert "experiment-stale" not in [h.id for h in page_hints(page).hints]
    with time_machine.travel(start + datetime.timedelta(days=15), tick=False):
        hints = {h.id: h for h in page_hints(page).hints}
        assert "15 days" in hints["experiment-stale"].message
        ExperimentDay.objects.create(
            experiment=test,
            variant="control",
            day=timezone.localdate(),
            views=2000,
            submissions=100,
        )
        ExperimentDay.objects.create(
            experiment=test,
            variant="b",
            day=timezone.localdate(),
            views=2000,
            submissions=160,
        )
        assert "experiment-stale" not in [h.id for h in page_hints(page).hints]


def leadgen(**options):
    return override_settings(WAGTAIL_LEADGEN={**settings.WAGTAIL_LEADGEN, **options})


def test_the_checks_report_bad_experiment_settings():
    with leadgen(EXPERIMENTS={"COOKIE_MAX_AGE": 0}):
        assert [m.id for m in check_experiment_settings(None)] == [
            "wagtail_leadgen.E050"
        ]
    with leadgen(EXPERIMENTS={"COOKIE_NAME": "sessionid"}):
        assert "wagtail_leadgen.E052" in [m.id for m in check_experiment_settings(None)]
    with leadgen(CONSENT_STATE="no.such.module"):
        assert [m.id for m in check_experiment_settings(None)] == [
            "wagtail_leadgen.E051"
        ]
    with leadgen(EXPERIMENTS={"MIN_VIEWS_PER_VARIANT": 20}):
        assert [m.id for m in check_experiment_settings(None)] == [
            "wagtail_leadgen.W070"
        ]
    with leadgen(EXPERIMENTS={"COOKIE_MAX_AGE": 400 * 24 * 3600}):
        assert [m.id for m in check_experiment_settings(None)] == [
            "wagtail_leadgen.W071"
        ]
    with leadgen(EXPERIMENTS={"COOKIE_NAME": "ab"}):
        assert [m.id for m in check_experiment_settings(None)] == [
            "wagtail_leadgen.W072"
        ]
    with leadgen(
        EXPERIMENTS={"COOKIE_NAME": "ab"},
        CONSENT_STATE="tests.test_experiments.granted",
    ):
        assert check_experiment_settings(None) == []
    assert check_experiment_settings(None) == []


def test_at_most_three_variants(client):
    page = make_landing_page()
    client.force_login(make_staff("add_experiment", "view_experiment"))
    data = {
        "page": page.pk,
        "name": "Too many",
        "control_weight": 50,
        "variants-TOTAL_FORMS": 4,
        "variants-INITIAL_FORMS": 0,
        "variants-MIN_NUM_FORMS": 1,
        "variants-MAX_NUM_FORMS": 3,
    }
    for n, key in enumerate("bcde"):
        data.update({f"variants-{n}-key": key, f"variants-{n}-weight": 10})
        data[f"variants-{n}-ORDER"] = n + 1
    response = client.post(reverse("wagtail_leadgen_tests:add"), data)
    assert response.status_code == 200
    assert page_tests(page) == []


def test_only_a_lead_page_can_be_tested(client):
    client.force_login(make_staff("add_experiment", "view_experiment"))
    data = {
        "page": site_root().pk,
        "name": "Home",
        "control_weight": 50,
        "variants-TOTAL_FORMS": 1,
        "variants-INITIAL_FORMS": 0,
        "variants-MIN_NUM_FORMS": 1,
        "variants-MAX_NUM_FORMS": 3,
        "variants-0-key": "b",
        "variants-0-weight": 50,
        "variants-0-ORDER": 1,
    }
    response = client.post(reverse("wagtail_leadgen_tests:add"), data)
    assert response.status_code == 200
    assert "only they run tests" in response.content.decode()


def test_the_add_form_offers_the_page_types_that_run_tests(client):
    client.force_login(make_staff("add_experiment", "view_experiment"))
    response = client.get(reverse("wagtail_leadgen_tests:add"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "wagtail_leadgen.landingpage" in content
    assert "wagtail_leadgen.ebookpage" in content
    assert "wagtail_leadgen.thankyoupage" not in content
