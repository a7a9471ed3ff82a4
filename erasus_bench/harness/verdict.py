"""PASS / PARTIAL / FAIL verdicts against the gold (retrain) model by equivalence testing.

Per primary metric with a protocol margin m (``Protocol.equivalence_margins()``) and per
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
                alpha: float = ALPHA) -> dict[str, Any]:
    """Equivalence and worse-than-margin tests of differences ``d`` (method - gold)."""
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
    if n == 1 or np.all(d == d[0]):
        equivalent = -margin < mean < margin
        worse = (bad_hi and mean > margin) or (bad_lo and mean < -margin)
        if n == 1:
            # one seed: nothing is tested, so neither equivalence nor worse is established
            return {**res, "equivalent": False, "worse": False, "note": "n=1"}
        return {**res, "p_tost": 0.0 if equivalent else 1.0, "p_worse": 0.0 if worse else 1.0,
                "equivalent": bool(equivalent), "worse": bool(worse), "zero_variance": True}
    p_low = float(stats.ttest_1samp(d, -margin, alternative="greater").pvalue)  # H0 d<=-m
    p_high = float(stats.ttest_1samp(d, margin, alternative="less").pvalue)  # H0 d>=m
    p_tost = max(p_low, p_high)
    p_above = float(stats.ttest_1samp(d, margin, alternative="greater").pvalue)
    p_below = float(stats.ttest_1samp(d, -margin, alternative="less").pvalue)
    if direction == "lower":
        p_worse = p_above
    elif direction == "higher":
        p_worse = p_below
    else:
        p_worse = min(1.0, 2 * min(p_above, p_below))
    return {**res, "p_tost": p_tost, "p_worse": p_worse, "equivalent": p_tost < alpha,
            "worse": p_worse < alpha}


def verdict(diffs: Mapping[str, Sequence[float]], margins: Mapping[str, float],
            directions: Mapping[str, str], alpha: float = ALPHA) -> dict[str, Any]:
    """``{"label", "metrics", "reason"}`` from per-metric per-seed differences to gold."""
    metrics = {m: metric_test(diffs.get(m, []), margins[m], directions[m], alpha)
               for m in margins}
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
