"""The statistics of an A/B test: plain functions, no Django.

- ``wilson_interval``: the Wilson score interval of a conversion rate (it
  stays inside 0-1 and behaves with few conversions, where the textbook
  "p ± 1.96·SE" does not).
- ``two_proportion_test``: the two-sided two-proportion z-test, pooled
  standard error, of a variant against the control.
- ``compare``: the verdict, by a fixed-horizon rule (docs/ab-testing.md):
  no verdict before both arms have ``min_views`` views, whatever the p-value
  says meanwhile (looking every day and stopping at the first p < 0.05
  makes a "significant" result far likelier than 5 % when nothing differs),
  and a Bonferroni correction when several variants are compared with the
  control (alpha / number of comparisons).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

#: The two-sided 95 % quantile of the standard normal distribution.
Z_95 = 1.959963984540054
ALPHA = 0.05


def wilson_interval(
    successes: int, trials: int, z: float = Z_95
) -> tuple[float, float] | None:
    """The Wilson score interval of ``successes / trials``; None for no trials."""
    if trials <= 0:
        return None
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    half /= denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class ZTest:
    z: float
    p_value: float


def two_proportion_test(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int
) -> ZTest | None:
    """Two-sided z-test of "B converts as A does" (pooled proportion); None
    when it is undefined (an arm without trials, or no variance at all)."""
    if trials_a <= 0 or trials_b <= 0:
        return None
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    variance = pooled * (1 - pooled) * (1 / trials_a + 1 / trials_b)
    if variance <= 0:
        return None
    z = (successes_b / trials_b - successes_a / trials_a) / math.sqrt(variance)
    return ZTest(z=z, p_value=math.erfc(abs(z) / math.sqrt(2)))


class Verdict(enum.StrEnum):
    NOT_ENOUGH_DATA = "not_enough_data"
    BETTER = "better"
    WORSE = "worse"
    NO_DIFFERENCE = "no_difference"


@dataclass(frozen=True)
class Comparison:
    verdict: Verdict
    test: ZTest | None
    alpha: float

    @property
    def significant(self) -> bool:
        return self.verdict in (Verdict.BETTER, Verdict.WORSE)


def compare(
    control: tuple[int, int],
    variant: tuple[int, int],
    *,
    min_views: int,
    comparisons: int = 1,
) -> Comparison:
    """A variant's (submissions, views) against the control's, by the rule
    above: significant at 95 % overall, after ``min_views`` views each."""
    alpha = ALPHA / max(1, comparisons)
    test = two_proportion_test(control[0], control[1], variant[0], variant[1])
    if min(control[1], variant[1]) < min_views:
        return Comparison(Verdict.NOT_ENOUGH_DATA, test, alpha)
    if test is None or test.p_value >= alpha:
        return Comparison(Verdict.NO_DIFFERENCE, test, alpha)
    return Comparison(Verdict.BETTER if test.z > 0 else Verdict.WORSE, test, alpha)
