"""Rank groups across seeds: the Friedman / Nemenyi critical-difference analysis (Demsar, JMLR
2006, "Statistical comparisons of classifiers over multiple data sets").

Per metric column, every ranked row is ranked within each seed (1 = best; ties share the mean
rank) and a row's score is its mean rank over the seeds. Two rows differ when their mean ranks
differ by more than the critical difference ``CD = q_alpha * sqrt(k (k + 1) / (6 N))`` (k rows,
N seeds, ``q_alpha`` the studentized range quantile over sqrt 2, ``scipy.stats.studentized_range``),
which controls the family-wise error over all pairs of rows. The rows within CD of the best mean
rank form group 1; the rule repeats on the remaining rows (new leader = best remaining mean rank)
for group 2, and so on. A group occupying rank positions ``lo..hi`` shows ``"lo-hi"``.

Why this test and not the previous paired sign-flip test with Holm: with n seeds the sign-flip
test's smallest p-value is 2^(1-n) (0.002 at 10 seeds), above Holm's first threshold over a
board's ~80 comparisons (0.0006), so nothing ever separated; paired t-tests against the best
row with Holm separate real differences but, because the best row is the luckiest of ~80, also
separate a board of identical rows in a third of simulated boards. Nemenyi's rank test is exact
in its assumptions-free ranks, unaffected by one method's variance or outliers, and meets both
properties the suite simulates (``tests/test_compare.py``): on 80 rows x 10 seeds a board of
identical rows separates nothing in >= 90% of boards, and a row worse than the others by two
standard deviations of the per-seed differences is separated from the top group in >= 80%.
Its known limit (Benavoli et al., JMLR 2016): a row's mean rank depends on the other rows, so
two close rows with many rows between them can stay together; the page states the CD.

Rows need the seeds every ranked row shares: the seed set most rows have is the set of blocks,
and a row lacking one of those seeds (a failed cell) is not ranked (label None), nor is a row
with fewer than 2 seeds.
"""
from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
from scipy import stats

ALPHA = 0.05

PAIRWISE_RULE = (
    "Friedman / Nemenyi critical-difference analysis (Demsar 2006): per column, methods are "
    "ranked within each seed (1 = best; reference rows excluded; ties share the mean rank) and "
    "averaged over the seeds; two methods differ when their mean ranks differ by more than the "
    "critical difference CD = q_alpha sqrt(k(k+1)/(6N)) for k methods and N seeds, alpha = "
    "{alpha}, family-wise over all pairs. The best mean rank and every method within CD of it "
    "share the top rank group, shown as \"1-k\"; the rule repeats on the remaining methods for "
    "the next group. Lower-is-better metrics rank values, higher-is-better their negatives, "
    "match-gold metrics the per-seed distance |value - gold| to the retrain row of the same "
    "seed, p-value metrics their log10. Only seeds every ranked method has are used; a method "
    "missing one (a failed seed) is not ranked. With few seeds CD is large: at 3 seeds and 80 "
    "methods CD = {cd_3_80:.0f} ranks, so only methods at opposite ends of every seed's order "
    "separate; at 10 seeds CD = {cd_10_80:.0f}.")


@functools.cache
def q_alpha(k: int, alpha: float = ALPHA) -> float:
    """Nemenyi's critical value for ``k`` rows: the studentized range quantile over sqrt(2)."""
    return float(stats.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2))


def critical_difference(k: int, n: int, alpha: float = ALPHA) -> float:
    """Nemenyi's CD in mean-rank units for ``k`` rows ranked over ``n`` seeds (inf if k < 2)."""
    if k < 2 or n < 1:
        return float("inf")
    return q_alpha(k, alpha) * float(np.sqrt(k * (k + 1) / (6 * n)))


def pairwise_rule(alpha: float = ALPHA) -> str:
    return PAIRWISE_RULE.format(alpha=alpha, cd_3_80=critical_difference(80, 3, alpha),
                                cd_10_80=critical_difference(80, 10, alpha))


def rank_groups(scores: Mapping[Hashable, Mapping[Any, float]], *, alpha: float = ALPHA
                ) -> dict[Hashable, dict[str, Any]]:
    """Rank groups of rows from their per-seed scores (lower is better), by Nemenyi's CD.

    ``scores``: row key -> {seed: score}. Returns row key -> ``{"lo", "hi", "label", "group",
    "mean_rank", "cd", "seeds", "n"}`` (``seeds``: the shared seeds ranked on; ``n``: the row's
    own); unranked rows (fewer than 2 seeds, or missing a shared seed) get None for all but
    ``n``.
    """
    out: dict[Hashable, dict[str, Any]] = {
        k: {"lo": None, "hi": None, "label": None, "group": None, "mean_rank": None,
            "cd": None, "seeds": None, "n": len(s)} for k, s in scores.items()}
    blocks = _blocks(scores)
    ranked = [k for k, s in scores.items() if blocks and blocks <= set(s)]
    if len(ranked) < 2:
        return out
    seeds = sorted(blocks, key=str)
    x = np.array([[scores[k][s] for s in seeds] for k in ranked], dtype=float)
    mean_rank = stats.rankdata(x, axis=0).mean(axis=1)
    cd = critical_difference(len(ranked), len(seeds), alpha)
    order = sorted(range(len(ranked)), key=lambda i: (mean_rank[i], str(ranked[i])))
    remaining, start, group = order, 1, 1
    while remaining:
        lead = mean_rank[remaining[0]]
        members = [i for i in remaining if mean_rank[i] - lead <= cd]
        hi = start + len(members) - 1
        for i in members:
            out[ranked[i]].update(lo=start, hi=hi, group=group, mean_rank=float(mean_rank[i]),
                                  cd=cd, seeds=len(seeds),
                                  label=str(start) if hi == start else f"{start}-{hi}")
        remaining = [i for i in remaining if i not in members]
        start, group = hi + 1, group + 1
    return out


def separation_note(k: int, n: int, alpha: float = ALPHA) -> str:
    """What ``k`` methods ranked over ``n`` seeds can and cannot separate, in words."""
    cd = critical_difference(k, n, alpha)
    head = f"{k} methods ranked over {n} seeds: CD = {cd:.1f} mean-rank places"
    if cd >= k - 1:
        tail = (f", more than the largest possible gap ({k - 1}), so no two methods can "
                "separate and every method shares the top group; read differences from the "
                "intervals and verdicts instead")
    else:
        tail = (f" (the largest possible gap is {k - 1}): a method leaves the top group only "
                f"when its mean rank is more than {cd:.1f} places below the leader's, so two "
                "methods closer than that on average, however consistent, share a group")
    if n < 10:
        tail += f"; at 10 seeds CD would be {critical_difference(k, 10, alpha):.1f}"
    return head + tail + "."


def _blocks(scores: Mapping[Hashable, Mapping[Any, float]]) -> set[Any]:
    """The seed set most rows with >= 2 seeds have (ties: the larger set, then the first)."""
    sets = Counter(frozenset(s) for s in scores.values() if len(s) >= 2)
    if not sets:
        return set()
    best = max(sets.items(), key=lambda kv: (kv[1], len(kv[0])))[0]
    return set(best)
