"""PASS / PARTIAL / FAIL verdicts against the gold (retrain) model by equivalence testing.

Per primary metric with a protocol margin m (``ProtocolCard.equivalence_margins``) and per
method, the per-seed differences d_s = value_s - gold_s (gold = the retrain row of the same
seed; log10 values for p-value metrics) are tested with one-sample t-tests
(``scipy.stats.ttest_1samp``):

* equivalence (TOST, Schuirmann 1987): p_tost = max(p[mean d <= -m], p[mean d >= m]) of the
  two one-sided tests; equivalent when p_tost < alpha;
* significantly worse beyond the margin: one-sided test that d lies beyond m in the metric's
  bad direction (lower-is-better: mean d > m; higher-is-better: mean d < -m; match-gold:
  either side, the smaller one-sided p doubled); worse when p_worse < alpha.

PASS = equivalent on every primary metric; FAIL = significantly worse on any; else PARTIAL.
Differences with zero variance (the retrain row against itself: d = 0; a constant gap) make
the t statistic undefined; they are decided from the mean alone (|mean d| < m -> equivalent,
p_tost = 0; beyond m in the bad direction -> worse, p_worse = 0) and marked
``"zero_variance": True``. One paired seed: no test, PARTIAL with reason "n=1".
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

ALPHA = 0.05


def verdict_rule(margins: Mapping[str, float], alpha: float = ALPHA) -> str:
    """One paragraph stating the rule with the margins and alpha (printed on the page)."""
    ms = ", ".join(f"{k}: ±{v:g}" for k, v in sorted(margins.items())) or "none"
    return (
        "Verdict against gold (the retrain row): per seed, d = method - gold on each primary "
        f"metric (margins {ms}; p-value metrics on log10). Equivalence is tested by TOST "
        f"(two one-sided one-sample t-tests of mean d against -margin and +margin), "
        f"equivalent if p < {alpha:g}; \"worse\" by a one-sided t-test that mean d lies beyond "
        f"the margin in the metric's bad direction, p < {alpha:g}. PASS = equivalent on all "
        "primary metrics; FAIL = significantly worse beyond the margin on any; otherwise "
        "PARTIAL (includes too few seeds to decide). Differences with zero variance are "
        "decided from the mean alone; a single paired seed gives PARTIAL (n=1).")


def metric_test(d: Sequence[float] | np.ndarray, margin: float, direction: str,
                alpha: float = ALPHA, pvalues: Sequence[float] | None = None
                ) -> dict[str, Any]:
    """Equivalence and worse-than-margin tests of differences ``d`` (method - gold).
    ``pvalues``: the four one-sided p-values of :func:`t_pvalues` when already computed."""
    d = np.asarray(d, dtype=float).ravel()
    n = int(d.size)
    res: dict[str, Any] = {"margin": float(margin), "n": n,
                           "mean_diff": float(d.mean()) if n else None,
                           "p_tost": None, "p_worse": None}
    if n == 0:
        return {**res, "equivalent": False, "worse": False, "note": "no paired seeds"}
    mean = float(d.mean())
    bad_hi = direction in ("lower", "match_gold")  # d > m is bad
    bad_lo = direction in ("higher", "match_gold")  # d < -m is bad
    if _untestable(d):
        equivalent = -margin < mean < margin
        worse = (bad_hi and mean > margin) or (bad_lo and mean < -margin)
        if n == 1:
            # one seed: nothing is tested, so neither equivalence nor worse is established
            return {**res, "equivalent": False, "worse": False, "note": "n=1"}
        return {**res, "p_tost": 0.0 if equivalent else 1.0, "p_worse": 0.0 if worse else 1.0,
                "equivalent": bool(equivalent), "worse": bool(worse), "zero_variance": True}
    p_low, p_above, p_below, p_high = (pvalues if pvalues is not None
                                       else t_pvalues([d], margin)[0])
    p_tost = max(p_low, p_high)  # H0 d <= -m (p_low) or d >= m (p_high)
    if direction == "lower":
        p_worse = p_above
    elif direction == "higher":
        p_worse = p_below
    else:
        p_worse = min(1.0, 2 * min(p_above, p_below))
    return {**res, "p_tost": p_tost, "p_worse": p_worse, "equivalent": p_tost < alpha,
            "worse": p_worse < alpha}


def _untestable(d: np.ndarray) -> bool:
    return d.size < 2 or bool(np.all(d == d[0]))


def t_pvalues(ds: Sequence[np.ndarray], margin: float
              ) -> list[tuple[float, float, float, float] | None]:
    """Per difference vector: one-sample t-test p-values of mean d > -m, mean d > m,
    mean d < -m and mean d < m (``scipy.stats.ttest_1samp``), None where untestable (fewer
    than 2 values, or no variance). Vectors of one length are tested in one vectorised call."""
    out: list[tuple[float, float, float, float] | None] = [None] * len(ds)
    by_n: dict[int, list[int]] = {}
    for i, d in enumerate(ds):
        if not _untestable(d):
            by_n.setdefault(d.size, []).append(i)
    for idx in by_n.values():
        d = np.stack([ds[i] for i in idx])
        shifted = np.stack([d + margin, d - margin], axis=1)  # against 0: d vs -m and +m
        greater = stats.ttest_1samp(shifted, 0.0, axis=-1, alternative="greater").pvalue
        less = stats.ttest_1samp(shifted, 0.0, axis=-1, alternative="less").pvalue
        for j, i in enumerate(idx):
            out[i] = (float(greater[j, 0]), float(greater[j, 1]), float(less[j, 0]),
                      float(less[j, 1]))
    return out


def verdict(diffs: Mapping[str, Sequence[float]], margins: Mapping[str, float],
            directions: Mapping[str, str], alpha: float = ALPHA) -> dict[str, Any]:
    """``{"label", "metrics", "reason"}`` from per-metric per-seed differences to gold."""
    return verdicts([diffs], margins, directions, alpha)[0]


def verdicts(rows: Sequence[Mapping[str, Sequence[float]]], margins: Mapping[str, float],
             directions: Mapping[str, str], alpha: float = ALPHA) -> list[dict[str, Any]]:
    """:func:`verdict` of many rows, their t-tests batched per metric."""
    ds = {m: [np.asarray(r.get(m, []), dtype=float).ravel() for r in rows] for m in margins}
    pv = {m: t_pvalues(ds[m], margins[m]) for m in margins}
    return [_label({m: metric_test(ds[m][i], margins[m], directions[m], alpha, pv[m][i])
                    for m in margins}) for i in range(len(rows))]


def _label(metrics: dict[str, dict[str, Any]]) -> dict[str, Any]:
    worse = [m for m, r in metrics.items() if r["worse"]]
    notequiv = [m for m, r in metrics.items() if not r["equivalent"]]
    if worse:
        label, reason = "FAIL", "worse than gold beyond the margin on " + ", ".join(worse)
    elif not notequiv:
        label, reason = "PASS", "equivalent to gold on " + ", ".join(metrics)
    else:
        label = "PARTIAL"
        notes = sorted({r["note"] for m, r in metrics.items() if r.get("note")})
        reason = (", ".join(notes) if notes else
                  "not shown equivalent to gold on " + ", ".join(notequiv))
    return {"label": label, "metrics": metrics, "reason": reason}
