"""Pairwise comparisons across seeds and rank groups.

Test: two-sided **paired sign-flip permutation test** on the per-seed differences (paired by
seed; only seeds both rows have), exact enumeration of all 2**n sign patterns for n <= 16
seeds, else 20,000 seeded random patterns. It is exact and assumption-free, so it stays valid
at 3-10 seeds. Its smallest attainable two-sided p-value is 2**(1 - n): 0.25 with 3 seeds,
0.0625 with 5, 0.031 with 6, so rows can only be separated from 6 paired seeds on. A paired
bootstrap was rejected: at 3 seeds it returns p ~ 0 whenever all three differences share a
sign, which happens 25% of the time with no real difference (a 25% false-positive rate).

Rank groups (per metric column): rows are ordered best-first by their mean score; the best
row (leader) is compared with every other row, Holm-corrected over those comparisons
(Holm 1979, step-down; equal to ``statsmodels``' ``multipletests(method="holm")``, which is the
test's oracle, without its garbage collection on every call); the leader and every row not
significantly worse (Holm p >= alpha) form group 1. The rule repeats on the remaining rows
(new leader = best remaining) for group 2, and so on. A group occupying rank positions
``lo..hi`` (counting the rows of earlier groups) shows ``"lo-hi"`` (``"lo"`` when alone).
"""
from __future__ import annotations

import functools
import itertools
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np

ALPHA = 0.05
EXACT_MAX_N = 16
MC_DRAWS = 20_000

PAIRWISE_RULE = (
    "Each method is compared with the best method of its column (best mean; reference rows "
    "excluded; rows with fewer than 2 seeds are not ranked) by a two-sided paired sign-flip "
    "permutation test on the per-seed differences (paired by seed, exact over all 2^n sign "
    "patterns), p-values Holm-corrected over the column's comparisons, alpha = {alpha}. The "
    "leader and every method not significantly worse share the top rank group, shown as "
    "\"1-k\"; the rule repeats on the remaining methods for the next group. Lower-is-better "
    "metrics compare values, higher-is-better their negatives, match-gold metrics the per-seed "
    "distance |value - gold| to the retrain row of the same seed, p-value metrics their log10. "
    "With n paired seeds the smallest possible p-value is 2^(1-n) (0.25 at 3 seeds), so "
    "methods can only be separated from 6 seeds on.")


def pairwise_rule(alpha: float = ALPHA) -> str:
    return PAIRWISE_RULE.format(alpha=alpha)


def sign_flip_pvalue(d: np.ndarray | list[float], *, seed: int = 0) -> float:
    """Two-sided paired permutation p-value of mean(d) = 0 by flipping signs of ``d``."""
    d = np.asarray(d, dtype=float).ravel()
    n = d.size
    if n == 0:
        raise ValueError("no differences")
    obs = abs(d.sum())
    if n <= EXACT_MAX_N:
        stat = np.abs(_all_signs(n) @ d)
        return float(np.mean(stat >= obs - 1e-12 * max(1.0, obs)))
    signs = np.random.default_rng(seed).choice((1.0, -1.0), size=(MC_DRAWS, n))
    stat = np.abs(signs @ d)
    return float((1 + np.sum(stat >= obs - 1e-12 * max(1.0, obs))) / (MC_DRAWS + 1))


@functools.cache
def _all_signs(n: int) -> np.ndarray:
    """Every one of the 2**n sign patterns of n paired differences, one per row."""
    return np.array(list(itertools.product((1.0, -1.0), repeat=n)))


def holm(pvalues: list[float]) -> list[float]:
    """Holm-adjusted p-values: sorted ascending, the i-th (0-based) of m multiplied by m - i,
    made non-decreasing by a running maximum, capped at 1, put back in input order."""
    p = np.asarray(pvalues, dtype=float)
    order = np.argsort(p, kind="stable")
    adjusted = np.empty_like(p)
    scaled = p[order] * (p.size - np.arange(p.size))
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return [float(v) for v in adjusted]


def rank_groups(scores: Mapping[Hashable, Mapping[Any, float]], *, alpha: float = ALPHA
                ) -> dict[Hashable, dict[str, Any]]:
    """Rank groups of rows from their per-seed scores (lower is better).

    ``scores``: row key -> {seed: score}. Rows with fewer than 2 seeds get ``lo = hi = label =
    None``. Returns row key -> ``{"lo", "hi", "label", "group", "p_vs_best", "p_holm", "n"}``
    where the p-values are those of the comparison with the overall best row (None for it).
    """
    ranked = sorted((k for k, s in scores.items() if len(s) >= 2),
                    key=lambda k: (float(np.mean(list(scores[k].values()))), str(k)))
    out: dict[Hashable, dict[str, Any]] = {
        k: {"lo": None, "hi": None, "label": None, "group": None, "p_vs_best": None,
            "p_holm": None, "n": len(s)} for k, s in scores.items()}
    remaining, start, group = list(ranked), 1, 1
    while remaining:
        leader, others = remaining[0], remaining[1:]
        raw: list[float] = []
        tested: list[bool] = []
        for k in others:
            common = sorted(set(scores[k]) & set(scores[leader]), key=str)
            tested.append(len(common) >= 2)
            raw.append(sign_flip_pvalue([scores[k][s] - scores[leader][s] for s in common])
                       if len(common) >= 2 else 1.0)  # untestable: not separable
        adj = holm(raw)
        worse = {k: adj[i] < alpha and np.mean([scores[k][s] for s in scores[k]]) >
                 np.mean([scores[leader][s] for s in scores[leader]])
                 for i, k in enumerate(others)}
        if group == 1:
            for i, k in enumerate(others):
                if tested[i]:
                    out[k]["p_vs_best"], out[k]["p_holm"] = raw[i], adj[i]
        members = [leader] + [k for k in others if not worse[k]]
        hi = start + len(members) - 1
        for k in members:
            out[k].update(lo=start, hi=hi, group=group,
                          label=str(start) if hi == start else f"{start}-{hi}")
        remaining = [k for k in remaining if k not in members]
        start, group = hi + 1, group + 1
    return out
