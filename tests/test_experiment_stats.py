"""The A/B test statistics against published figures."""

from __future__ import annotations

import pytest

from wagtail_leadgen.services.experiment_stats import (
    Verdict,
    compare,
    two_proportion_test,
    wilson_interval,
)


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        # Newcombe, "Two-sided confidence intervals for the single proportion:
        # comparison of seven methods", Statistics in Medicine 17 (1998),
        # Table I, method 3 (Wilson score interval without correction).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_newcombe(successes, trials, low, high):
    found = wilson_interval(successes, trials)
    assert found == (pytest.approx(low, abs=5e-5), pytest.approx(high, abs=5e-5))


def test_wilson_interval_of_nothing_is_undefined():
    assert wilson_interval(0, 0) is None


def test_two_proportion_test_matches_the_physicians_health_study():
    # Agresti, An Introduction to Categorical Data Analysis, the Physicians'
    # Health Study: heart attacks 189/11034 on placebo, 104/11037 on aspirin;
    # Pearson's X² = 25.01, the square of the pooled two-proportion z.
    test = two_proportion_test(189, 11034, 104, 11037)
    assert test.z == pytest.approx(-5.001, abs=1e-3)
    assert test.z**2 == pytest.approx(25.01, abs=5e-3)
    assert test.p_value == pytest.approx(5.69e-7, rel=1e-2)


def test_a_difference_of_two_points_on_1000_views_each_is_not_significant():
    # 100/1000 against 120/1000: z = 1.43, p = 0.15.
    test = two_proportion_test(100, 1000, 120, 1000)
    assert test.z == pytest.approx(1.43, abs=5e-3)
    assert test.p_value == pytest.approx(0.152, abs=1e-3)
    verdict = compare((100, 1000), (120, 1000), min_views=1000).verdict
    assert verdict == Verdict.NO_DIFFERENCE


def test_a_clear_difference_is_better_or_worse():
    assert compare((100, 2000), (160, 2000), min_views=1000).verdict == Verdict.BETTER
    assert compare((160, 2000), (100, 2000), min_views=1000).verdict == Verdict.WORSE


def test_no_verdict_before_the_minimum_sample_even_when_p_is_small():
    # p < 0.001 on 300 views each: a peek, not a result.
    comparison = compare((10, 300), (40, 300), min_views=1000)
    assert comparison.test.p_value < 0.001
    assert comparison.verdict == Verdict.NOT_ENOUGH_DATA
    assert not comparison.significant


def test_several_variants_share_the_five_percent():
    # p = 0.027: significant alone, not with three variants (alpha 0.0167).
    alone = compare((100, 1500), (135, 1500), min_views=1000)
    assert 0.0167 < alone.test.p_value < 0.05
    assert alone.verdict == Verdict.BETTER
    shared = compare((100, 1500), (135, 1500), min_views=1000, comparisons=3)
    assert shared.verdict == Verdict.NO_DIFFERENCE


def test_no_variance_gives_no_test():
    assert two_proportion_test(0, 500, 0, 500) is None
    assert (
        compare((0, 2000), (0, 2000), min_views=1000).verdict == Verdict.NO_DIFFERENCE
    )
