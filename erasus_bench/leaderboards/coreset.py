"""The coreset verdict: does a coreset match the full forget set, and at what cost?

Per budget regime, strategy, selector and fraction, and per primary metric with a protocol
margin (``ProtocolCard.equivalence_margins``), against the same strategy with the ``full``
selector on the same seeds:

* ``diff``: mean and 95% CI (``harness.stats.mean_ci``) of the per-seed differences
  coreset - full (log10 for p-value metrics; distance to gold for match-gold metrics);
* ``cost_ratio``: geometric mean and 95% CI of the per-seed ratios of unlearning time
  (selection + unlearning) coreset / full;
* ``verdict``: *supported* when TOST shows equivalence within the margin (``harness.verdict``)
  and the cost ratio's upper bound is <= ``SAVING`` (0.2x); *quality holds, no saving* when
  equivalent at a higher cost; *not supported* when a one-sided paired t-test shows it worse
  than the full set (p < alpha); otherwise *inconclusive*;
* ``vs_random``: the same paired comparison with the random selector at the same fraction
  (*beats random* / *worse than random*: one-sided paired t-test, p < alpha; else *no
  difference*), the control every selector is judged against.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from erasus_bench.harness.stats import mean_cis
from erasus_bench.harness.verdict import ALPHA, metric_test
from erasus_bench.metrics.spec import MetricSpec

SAVING = 0.2  # the claim: a coreset at <= 0.2x the full set's cost
COST_METRIC = "unlearn_time"
VERDICTS = ("supported", "quality holds, no saving", "not supported", "inconclusive")
N_RESAMPLES = 10_000


def coreset_rule(margins: Mapping[str, float], alpha: float = ALPHA) -> str:
    """The rule in one paragraph (printed on the page)."""
    ms = ", ".join(f"{k}: ±{v:g}" for k, v in sorted(margins.items()))
    return (
        "Coreset verdict: each strategy with a coreset against the same strategy with the full "
        "forget set, paired by seed, in the same budget regime. Per primary metric (margins "
        f"{ms}): supported = equivalent within the margin (TOST, p < {alpha:g}) at a cost ratio "
        f"(unlearning + selection time, geometric mean of the per-seed ratios) whose 95% CI "
        f"upper bound is <= {SAVING:g}x; quality holds, no saving = equivalent at a higher cost; "
        f"not supported = worse than the full set (one-sided paired t-test, p < {alpha:g}); "
        "inconclusive otherwise. Every selector is also compared with the random selector at "
        "the same fraction by the same paired test (beats random / worse than random / no "
        "difference).")


def coreset_verdicts(rows: Sequence[Mapping[str, Any]],
                     per_seed: Sequence[Mapping[str, Mapping[Any, float]]],
                     specs: Sequence[MetricSpec], margins: Mapping[str, float],
                     gold: Mapping[str, Mapping[Any, float]] | None = None,
                     alpha: float = ALPHA) -> list[dict[str, Any]]:
    """One entry per (row with a coreset, primary metric): ``{strategy, selector, fraction,
    budget, metric, n, diff, cost_ratio, verdict, vs_random}``. ``rows``: the summary rows of
    one table (``strategy``, ``selector``, ``fraction``, ``budget``, ``reference``);
    ``per_seed``: metric -> {seed: value} per row; ``gold``: the retrain row's per-seed values
    (for match-gold metrics)."""
    directions = {s.name: s.direction for s in specs}
    full = {(r["strategy"], r["budget"]): i for i, r in enumerate(rows)
            if r["selector"] == "full" and not r["reference"]}
    random = {(r["strategy"], r["budget"], r["fraction"]): i for i, r in enumerate(rows)
              if r["selector"] == "random"}
    out, samples = [], _Samples()
    for i, row in enumerate(rows):
        j = full.get((row["strategy"], row["budget"]))
        if row["reference"] or row["selector"] == "full" or j is None:
            continue
        cost = samples.add(_ratios(per_seed[i].get(COST_METRIC, {}),
                                   per_seed[j].get(COST_METRIC, {})), log_scale=True)
        k = random.get((row["strategy"], row["budget"], row["fraction"]))
        for metric, margin in margins.items():
            direction = directions[metric]
            plain = "lower" if direction == "match_gold" else direction  # now distances
            a, b = (_values(per_seed[x], metric, direction, gold) for x in (i, j))
            d = _paired(a, b)
            test = metric_test(d, margin, plain, alpha)
            vs = None
            if k is not None and k != i:
                dr = _paired(a, _values(per_seed[k], metric, direction, gold))
                vs = {"diff": samples.add(dr), "verdict": _vs_random(dr, plain, alpha)}
            out.append({
                "strategy": row["strategy"], "selector": row["selector"],
                "fraction": row["fraction"], "budget": row["budget"], "metric": metric,
                "n": int(d.size), "diff": samples.add(d), "cost_ratio": cost,
                "verdict": (test["equivalent"], _worse(d, plain, alpha)), "vs_random": vs})
    cis = samples.intervals()
    for v in out:
        v["diff"], v["cost_ratio"] = cis[v["diff"]], cis[v["cost_ratio"]]
        v["verdict"] = _verdict(*v["verdict"], v["cost_ratio"])
        if v["vs_random"]:
            v["vs_random"]["diff"] = cis[v["vs_random"]["diff"]]
    return out


class _Samples:
    """Samples to summarise by mean and CI, all in one batched bootstrap."""

    def __init__(self) -> None:
        self.values: list[np.ndarray] = []
        self.logs: list[bool] = []

    def add(self, x: np.ndarray, log_scale: bool = False) -> int:
        self.values.append(x)
        self.logs.append(log_scale)
        return len(self.values) - 1

    def intervals(self) -> list[dict[str, float | None] | None]:
        idx = [i for i, x in enumerate(self.values) if x.size]
        cis = mean_cis([self.values[i] for i in idx], n_resamples=N_RESAMPLES,
                       log_scale=[self.logs[i] for i in idx]) if idx else []
        out: list[dict[str, float | None] | None] = [None] * len(self.values)
        for i, ci in zip(idx, cis):
            out[i] = {"mean": ci["mean"], "lo": ci["lo"], "hi": ci["hi"]}
        return out


def _values(per_seed: Mapping[str, Mapping[Any, float]], metric: str, direction: str,
            gold: Mapping[str, Mapping[Any, float]] | None) -> dict[Any, float]:
    """Per-seed values of ``metric``; for match-gold metrics the distance to gold's."""
    vals = dict(per_seed.get(metric, {}))
    if direction != "match_gold":
        return vals
    g = (gold or {}).get(metric, {})
    return {s: abs(v - g[s]) for s, v in vals.items() if s in g}


def _paired(a: Mapping[Any, float], b: Mapping[Any, float]) -> np.ndarray:
    seeds = sorted(set(a) & set(b), key=str)
    return np.array([a[s] - b[s] for s in seeds], dtype=float)


def _ratios(a: Mapping[Any, float], b: Mapping[Any, float]) -> np.ndarray:
    seeds = sorted((s for s in set(a) & set(b) if b[s] > 0 and a[s] > 0), key=str)
    return np.array([a[s] / b[s] for s in seeds], dtype=float)


def _worse(d: np.ndarray, direction: str, alpha: float) -> bool:
    """A one-sided paired t-test that ``d`` (coreset - other) is in the metric's bad
    direction (``higher`` or ``lower``; match-gold metrics arrive as distances)."""
    bad = "less" if direction == "higher" else "greater"
    return _one_sided(d, bad, alpha)


def _one_sided(d: np.ndarray, alternative: str, alpha: float) -> bool:
    if d.size < 2:
        return False
    if np.all(d == d[0]):  # no spread: decided by the sign of the (constant) difference
        return bool(d[0] < 0) if alternative == "less" else bool(d[0] > 0)
    return bool(stats.ttest_1samp(d, 0.0, alternative=alternative).pvalue < alpha)


def _verdict(equivalent: bool, worse: bool, cost: Mapping[str, Any] | None) -> str:
    if equivalent:
        saving = cost is not None and cost["hi"] is not None and cost["hi"] <= SAVING
        return VERDICTS[0] if saving else VERDICTS[1]
    return VERDICTS[2] if worse else VERDICTS[3]


def _vs_random(d: np.ndarray, direction: str, alpha: float) -> str:
    better = "greater" if direction == "higher" else "less"
    worse = "less" if better == "greater" else "greater"
    return ("beats random" if _one_sided(d, better, alpha) else
            "worse than random" if _one_sided(d, worse, alpha) else "no difference")
