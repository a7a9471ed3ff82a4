"""Uncertainty over seeds: the mean with a seeded bootstrap confidence interval.

Intervals come from ``scipy.stats.bootstrap`` (SciPy reference: "scipy.stats.bootstrap",
https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.bootstrap.html), resampling
seeds, method ``'BCa'`` (bias-corrected and accelerated, Efron 1987) with ``'percentile'`` as the
fallback when BCa cannot be computed.

Small-sample correction (``method: "BCa+t"``, the default from 3 seeds on): any percentile-type
bootstrap interval (percentile, basic, BCa) of a mean lies inside the sample's range
[min, max], so with n seeds it covers the true mean at most 1 - 2**(1 - n) of the time for a
symmetric distribution (75% at n = 3, 93.75% at n = 5); simulated BCa coverage at n = 5 is
about 83% (Hesterberg's expanded BCa: about 92%). The reported interval is therefore the hull
(union) of the BCa interval and the Student-t interval mean ± t_{0.975, n-1} · s/√n: never
narrower than the t interval, and wider where the bootstrap sees skew. Simulated coverage of
the 95% interval (1,000 runs each, ``tests/test_coverage.py``): 94.5% / 95.6% for normal data at
n = 5 / 10, 94.6% / 96.3% for per-seed accuracies (mean of 200 Bernoulli(0.9) draws).

Fallbacks, recorded in ``method`` and flagged in ``label``: 2 seeds -> plain percentile interval
(``"percentile"``, label ``"n<3"``, key ``"n<3": True``); 1 seed -> no interval (``"n=1"``);
all values equal -> ``"degenerate"`` (lo = hi = mean: no spread was observed, which is not
certainty; the ``n`` is shown beside it).
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

LOG_FLOOR = 1e-300  # p-values of exactly 0 map to log10 = -300 instead of -inf
SMALL_N = 3  # fewer seeds than this: percentile fallback and the "n<3" label


def mean_ci(values: Sequence[float] | np.ndarray, *, confidence: float = 0.95,
            n_resamples: int = 10_000, seed: int = 0, log_scale: bool = False,
            t_hull: bool = True, bounds: tuple[float | None, float | None] = (None, None)
            ) -> dict[str, Any]:
    """Mean of ``values`` and its ``confidence`` bootstrap CI, as a JSON-ready dict.

    Returns ``{"mean", "lo", "hi", "n", "method", "scale"}`` plus ``"label"`` / ``"n<3"`` for
    fewer than 3 values. ``method`` is ``"BCa+t"`` (n >= 3, ``t_hull``: hull of the BCa and
    Student-t intervals, see the module text), ``"BCa"`` (``t_hull=False``), ``"percentile"``
    or ``"percentile+t"`` (BCa gave NaN or warned; or n = 2), ``"degenerate"`` (all values
    equal, so lo = hi = mean) or ``"n=1"`` (lo = hi = None: one value carries no spread). With
    ``log_scale`` the statistics are computed on ``log10(max(v, 1e-300))`` and mapped back
    with ``10**`` (a geometric mean; the right summary of p-values), noted as ``scale: "log10"``.
    The resampling uses ``scipy.stats.bootstrap(..., rng=np.random.default_rng(seed))``, so
    the same input always gives the same interval. ``bounds`` (the metric's range) clips the
    interval, e.g. an average gap's lower bound to 0 (the method then ends in ``"clipped"``).
    """
    raw = np.asarray(values, dtype=float).ravel()
    if raw.size == 0 or not np.all(np.isfinite(raw)):
        raise ValueError("mean_ci needs at least one value, all finite")
    out: dict[str, Any] = {"n": int(raw.size), "scale": "log10" if log_scale else "linear"}
    small = {"label": "n<3", "n<3": True} if raw.size < SMALL_N else {}
    if raw.size == 1:
        return {"mean": float(raw[0]), "lo": None, "hi": None, **out, "method": "n=1",
                "label": "n=1", "n<3": True}
    x = np.log10(np.maximum(raw, LOG_FLOOR)) if log_scale else raw
    back = (lambda t: float(10.0 ** t)) if log_scale else float
    if np.all(x == x[0]):  # e.g. every seed gave the same accuracy: no spread to resample
        v = float(raw[0]) if np.all(raw == raw[0]) else back(x[0])
        return {"mean": v, "lo": v, "hi": v, **out, "method": "degenerate", **small}
    method, (lo, hi) = _interval(x, confidence, n_resamples, seed,
                                 bca=raw.size >= SMALL_N)
    if t_hull and raw.size >= SMALL_N:
        tlo, thi = t_interval(x, confidence)
        lo, hi, method = min(lo, tlo), max(hi, thi), method + "+t"
    lo, hi = back(lo), back(hi)
    floor, ceil = bounds
    if (floor is not None and lo < floor) or (ceil is not None and hi > ceil):
        lo = lo if floor is None else max(lo, floor)
        hi = hi if ceil is None else min(hi, ceil)
        method += ",clipped"
    return {"mean": back(x.mean()), "lo": lo, "hi": hi, **out, "method": method, **small}


def t_interval(x: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Student-t interval of the mean of ``x`` (n >= 2, not all equal)."""
    n = x.size
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / np.sqrt(n)
    m = float(x.mean())
    return m - float(half), m + float(half)


def _interval(x: np.ndarray, confidence: float, n_resamples: int, seed: int, *,
              bca: bool = True) -> tuple[str, tuple[float, float]]:
    """BCa interval of the mean of ``x``, or the percentile interval when BCa fails."""
    for method in ("BCa", "percentile") if bca else ("percentile",):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ci = stats.bootstrap((x,), np.mean, n_resamples=n_resamples,
                                 confidence_level=confidence, method=method,
                                 rng=np.random.default_rng(seed)).confidence_interval
        bounds = (float(ci.low), float(ci.high))
        if np.all(np.isfinite(bounds)) and (method == "percentile" or not caught):
            return method, bounds
    raise ValueError(f"no finite bootstrap interval for {x.tolist()}")
