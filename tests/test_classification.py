"""Lead maturity: the documented signals, the settings, a custom classifier, the command."""

import logging
from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wagtail_leadgen.models import DownloadGrant, Lead, Submission
from wagtail_leadgen.services.classification import (
    LeadSignals,
    annotate_signals,
    default_classifier,
    reclassify,
    reclassify_all,
    score,
    signals_of,
)
from wagtail_leadgen.services.consent import confirm_pending, withdraw_consent

from .factories import make_document, make_landing_page, make_lead, make_purpose

PHONE = {"phone": "+33 1 23 45 67 89"}


def signals(**kwargs) -> LeadSignals:
    kwargs.setdefault("days_since_contact", 0)
    kwargs.setdefault("submissions", 1)
    kwargs.setdefault("downloads", 0)
    kwargs.setdefault("opt_in", False)
    kwargs.setdefault("call_back", False)
    return LeadSignals(**kwargs)


def level(**kwargs) -> str:
    return default_classifier(Lead(), signals(**kwargs))


def lead_signals(lead: Lead) -> LeadSignals:
    return signals_of(annotate_signals(Lead.objects.filter(pk=lead.pk)).get())


def age(lead: Lead, days: int) -> None:
    Lead.objects.filter(pk=lead.pk).update(
        last_contact_at=timezone.now() - timedelta(days=days, minutes=1)
    )


# The scoring rules ---------------------------------------------------------


def test_recency_points_decay_in_steps():
    assert [
        score(signals(days_since_contact=d)) for d in (0, 6, 7, 29, 30, 89, 90)
    ] == [
        3,
        3,
        2,
        2,
        1,
        1,
        0,
    ]


def test_each_signal_adds_its_documented_points():
    base = score(signals(days_since_contact=200))
    assert base == 0
    assert score(signals(days_since_contact=200, submissions=2)) == 1
    assert score(signals(days_since_contact=200, submissions=3)) == 2
    assert score(signals(days_since_contact=200, downloads=2)) == 1
    assert score(signals(days_since_contact=200, opt_in=True)) == 1
    assert score(signals(days_since_contact=200, call_back=True)) == 3


def test_documented_examples():
    # a form sent today, nothing else: warm
    assert level() == "warm"
    # a call-back request today: hot
    assert level(call_back=True) == "hot"
    # today, third submission, a download and a newsletter opt-in: hot
    assert level(submissions=3, downloads=1, opt_in=True) == "hot"
    # an e-book downloaded this week with a newsletter opt-in: warm
    assert level(downloads=1, opt_in=True) == "warm"
    # the same two months later: warm; after three months: cold
    assert level(days_since_contact=60, downloads=1, opt_in=True) == "warm"
    assert level(days_since_contact=100, downloads=1, opt_in=True) == "cold"
    # a single form a month ago: cold
    assert level(days_since_contact=30) == "cold"
    # after COLD_AFTER_DAYS nothing else counts
    assert (
        level(days_since_contact=180, submissions=9, downloads=3, call_back=True)
        == "cold"
    )


# Signals read from the database --------------------------------------------


@pytest.mark.django_db
def test_signals_count_submissions_downloads_opt_in_and_call_back():
    newsletter = make_purpose()
    page = make_landing_page(purposes=[newsletter])
    document = make_document()
    result = make_lead(page=page, decisions={newsletter: False})
    assert lead_signals(result.lead) == signals(
        submissions=1, downloads=0, opt_in=False, call_back=False
    )
    second = make_lead(
        page=page, decisions={newsletter: True}, document=document, answers=PHONE
    )
    DownloadGrant.objects.filter(submission=second.submission).update(uses=1)
    assert lead_signals(result.lead) == signals(
        submissions=2, downloads=1, opt_in=True, call_back=True
    )
    withdraw_consent(result.lead, newsletter, language="en", channel="web")
    assert lead_signals(result.lead).opt_in is False


@pytest.mark.django_db
def test_an_unused_download_link_and_a_pending_consent_are_not_signals():
    newsletter = make_purpose(requires_confirmation=True)
    lead = make_lead(
        page=make_landing_page(purposes=[newsletter]),
        decisions={newsletter: True},
        document=make_document(),
    ).lead
    assert lead_signals(lead).downloads == 0
    assert lead_signals(lead).opt_in is False


@pytest.mark.django_db
def test_spam_is_not_a_signal():
    lead = make_lead().lead
    Submission.objects.create(lead=lead, is_spam=True, answers=PHONE)
    assert lead_signals(lead) == signals(submissions=1)


# Recomputed at capture ------------------------------------------------------


@pytest.mark.django_db
def test_capture_classifies_the_lead_and_each_new_submission_reclassifies_it():
    lead = make_lead().lead
    assert Lead.objects.get().maturity == lead.maturity == "warm"
    age(lead, 40)
    reclassify(lead)
    assert Lead.objects.get().maturity == "cold"
    make_lead(answers=PHONE)  # the same person asks to be called back
    assert Lead.objects.get().maturity == "hot"


# Settings and a custom classifier ----------------------------------------


@pytest.mark.django_db
def test_points_and_thresholds_can_be_overridden_key_by_key():
    with override_settings(WAGTAIL_LEADGEN={"MATURITY": {"HOT_AT": 3}}):
        assert make_lead("a@example.com").lead.maturity == "hot"
        assert score(signals()) == 3  # other keys keep their defaults
    with override_settings(WAGTAIL_LEADGEN={"MATURITY": {"RECENCY_POINTS": []}}):
        assert make_lead("b@example.com").lead.maturity == "cold"


@pytest.mark.parametrize(
    "maturity, message",
    [
        ({"HOT": 3}, "Unknown key(s) in WAGTAIL_LEADGEN['MATURITY']: HOT"),
        ({"HOT_AT": "6"}, "must be a whole number"),
        ({"RECENCY_POINTS": [7, 3]}, "must be a list of (number, points) pairs"),
        ([("HOT_AT", 3)], "must be a dict"),
    ],
)
def test_a_bad_maturity_setting_is_an_error_not_ignored(maturity, message):
    with (
        override_settings(WAGTAIL_LEADGEN={"MATURITY": maturity}),
        pytest.raises(ImproperlyConfigured) as error,
    ):
        default_classifier(Lead(), signals())
    assert message in str(error.value)


def always_hot(lead, signals):
    return "hot" if signals.submissions else "cold"


def returns_nonsense(lead, signals):
    return "lukewarm"


def crashes(lead, signals):
    raise ZeroDivisionError


@pytest.mark.django_db
@override_settings(
    WAGTAIL_LEADGEN={"MATURITY_CLASSIFIER": "tests.test_classification.always_hot"}
)
def test_a_custom_classifier_named_in_settings_replaces_the_scoring():
    lead = make_lead().lead
    assert lead.maturity == "hot"
    age(lead, 400)
    call_command("leadgen_classify", stdout=StringIO())
    assert Lead.objects.get().maturity == "hot"


@pytest.mark.django_db
def test_a_custom_classifier_must_answer_a_level():
    lead = make_lead().lead
    with (
        override_settings(
            WAGTAIL_LEADGEN={
                "MATURITY_CLASSIFIER": "tests.test_classification.returns_nonsense"
            }
        ),
        pytest.raises(ValueError, match="returned 'lukewarm'; expected one of"),
    ):
        reclassify(lead)
    with (
        override_settings(
            WAGTAIL_LEADGEN={"MATURITY_CLASSIFIER": "tests.test_classification.nowhere"}
        ),
        pytest.raises(ImproperlyConfigured, match="cannot be imported"),
    ):
        reclassify(lead)


@pytest.mark.django_db
@override_settings(
    WAGTAIL_LEADGEN={"MATURITY_CLASSIFIER": "tests.test_classification.crashes"}
)
def test_a_broken_classifier_never_loses_a_lead_but_the_command_fails_loudly(caplog):
    with caplog.at_level(logging.ERROR, logger="wagtail_leadgen"):
        result = make_lead("ann@example.com", answers={"first_name": "Ann"})
    assert Lead.objects.get().maturity == "cold"  # the model's default, kept
    assert Submission.objects.filter(lead=result.lead).exists()
    [record] = [r for r in caplog.records if "maturity" in r.getMessage()]
    assert "ann" not in record.getMessage().lower()
    with pytest.raises(ZeroDivisionError):
        call_command("leadgen_classify", stdout=StringIO())


@pytest.mark.django_db
@override_settings(WAGTAIL_LEADGEN={"MATURITY": {"HOT": 1}})
def test_the_command_refuses_a_bad_setting_before_touching_anything():
    with pytest.raises(CommandError, match="Unknown key"):
        call_command("leadgen_classify", stdout=StringIO())


# The nightly command --------------------------------------------------------


@pytest.mark.django_db
def test_the_command_lets_recency_decay_prints_counts_and_is_idempotent():
    hot = make_lead("hot@example.com", answers=PHONE).lead
    warm = make_lead("warm@example.com").lead
    fading = make_lead("fading@example.com").lead
    age(fading, 40)
    age(hot, 10)  # 2 + 3: warm now
    assert set(Lead.objects.values_list("maturity", flat=True)) == {"hot", "warm"}
    out = StringIO()
    call_command("leadgen_classify", stdout=out)
    assert out.getvalue().strip() == (
        "Classified 3 leads: 0 hot, 2 warm, 1 cold; 2 changed."
    )
    assert dict(Lead.objects.values_list("email", "maturity")) == {
        hot.email: "warm",
        warm.email: "warm",
        fading.email: "cold",
    }
    out = StringIO()
    call_command("leadgen_classify", stdout=out)
    assert out.getvalue().strip().endswith("; 0 changed.")


@pytest.mark.django_db
def test_the_command_works_in_batches():
    for n in range(5):
        lead = make_lead(f"lead{n}@example.com").lead
        age(lead, 100)
    report = reclassify_all(batch_size=2)
    assert report.total == 5 and report.changed == 5
    assert set(Lead.objects.values_list("maturity", flat=True)) == {"cold"}
    out = StringIO()
    call_command("leadgen_classify", "--batch-size", "2", stdout=out)
    assert "Classified 5 leads" in out.getvalue()


@pytest.mark.django_db
def test_a_lead_contacted_while_the_command_runs_keeps_the_level_its_capture_gave():
    lead = make_lead().lead
    assert lead.maturity == "warm"
    # the lead's last contact is later than the moment its batch was read
    Lead.objects.filter(pk=lead.pk).update(
        last_contact_at=timezone.now() + timedelta(minutes=1)
    )
    report = reclassify_all(now=timezone.now() + timedelta(days=365))  # "cold"
    assert report.levels == {"cold": 1} and report.changed == 0
    assert Lead.objects.get().maturity == "warm"


# Scoring off (LEAD_SCORING) --------------------------------------------------------


@pytest.mark.django_db
def test_with_lead_scoring_off_nothing_is_computed():
    with override_settings(WAGTAIL_LEADGEN={"LEAD_SCORING": False}):
        lead = make_lead(answers=PHONE).lead  # would be hot
        out = StringIO()
        call_command("leadgen_classify", stdout=out)
        assert reclassify_all().total == 0
    assert Lead.objects.get(pk=lead.pk).maturity == "cold"  # the column's default
    assert "Lead scoring is off" in out.getvalue()
    reclassify(lead)  # scoring back on: computed again
    assert Lead.objects.get(pk=lead.pk).maturity == "hot"


# Consents in force only --------------------------------------------------------------


@pytest.mark.django_db
def test_a_double_opt_in_consent_counts_once_confirmed():
    newsletter = make_purpose(requires_confirmation=True)
    lead = make_lead(
        page=make_landing_page(purposes=[newsletter]), decisions={newsletter: True}
    ).lead
    assert lead_signals(lead).opt_in is False  # pending
    confirm_pending(lead, [newsletter], language="en", channel="email")
    assert lead_signals(lead).opt_in is True


@pytest.mark.django_db
def test_a_later_unticked_box_does_not_remove_an_earlier_grant():
    newsletter = make_purpose()
    page = make_landing_page(purposes=[newsletter])
    lead = make_lead(page=page, decisions={newsletter: True}).lead
    make_lead(page=page, decisions={newsletter: False})  # the same person, unticked
    assert lead_signals(lead).opt_in is True


# A first-time person's level is written by the lead's INSERT ----------------------


def lead_writes(email: str, **kwargs) -> tuple[Lead, list[str]]:
    """Capture a first-time person; their lead and the SQL that wrote it."""
    with CaptureQueriesContext(connection) as captured:
        lead = make_lead(email, **kwargs).lead
    table = Lead._meta.db_table
    return lead, [
        query["sql"]
        for query in captured.captured_queries
        if table in query["sql"].split("(")[0]
        and query["sql"].startswith(("INSERT", "UPDATE"))
    ]


@pytest.mark.django_db
# Thresholds where each signal of a first contact changes the level: a recent
# contact alone (3 points) is cold, an opt-in (1) makes it warm, a phone (3)
# warm, both hot.
@override_settings(WAGTAIL_LEADGEN={"MATURITY": {"WARM_AT": 4, "HOT_AT": 7}})
@pytest.mark.parametrize(
    ("ticked", "needs_confirmation", "answers", "expected"),
    [
        (False, False, {}, "cold"),
        (True, False, {}, "warm"),
        (True, True, {}, "cold"),  # pending: not a consent in force yet
        (False, False, PHONE, "warm"),
        (True, False, PHONE, "hot"),
    ],
)
def test_the_built_in_scoring_classifies_a_new_person_in_the_insert(
    ticked, needs_confirmation, answers, expected
):
    newsletter = make_purpose(requires_confirmation=needs_confirmation)
    page = make_landing_page(purposes=[newsletter])
    lead, writes = lead_writes(
        "new@example.com",
        page=page,
        answers=answers,
        decisions={newsletter: ticked},
    )
    (insert,) = writes  # no UPDATE after it
    assert insert.startswith("INSERT")
    assert Lead.objects.get().maturity == lead.maturity == expected
    # The level the signals read back from the database give.
    assert reclassify(lead) == expected


CLASSIFIED: list[int | None] = []


def remembers_the_lead(lead, signals):
    CLASSIFIED.append(lead.pk)
    return "hot"


@pytest.mark.django_db
@override_settings(
    WAGTAIL_LEADGEN={
        "MATURITY_CLASSIFIER": "tests.test_classification.remembers_the_lead"
    }
)
def test_a_custom_classifier_is_given_the_saved_lead_and_its_level_updated():
    CLASSIFIED.clear()
    lead, writes = lead_writes("new@example.com")
    insert, update = writes
    assert insert.startswith("INSERT") and update.startswith("UPDATE")
    assert lead.pk is not None
    assert [lead.pk] == CLASSIFIED
    assert Lead.objects.get().maturity == "hot"


@pytest.mark.django_db
@override_settings(WAGTAIL_LEADGEN={"LEAD_SCORING": False})
def test_with_scoring_off_a_new_person_is_inserted_cold_and_left_so():
    lead, writes = lead_writes("new@example.com", answers=PHONE)
    assert len(writes) == 1
    assert Lead.objects.get().maturity == lead.maturity == "cold"
