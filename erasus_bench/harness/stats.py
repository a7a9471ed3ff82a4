"""Uncertainty over seeds: the mean with a seeded bootstrap confidence interval.

Intervals come from ``scipy.stats.bootstrap`` (SciPy reference: "scipy.stats.bootstrap",
https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.bootstrap.html), resampling
seeds, method ``'BCa'`` (bias-corrected and accelerated, Efron 1987) with ``'percentile'`` as the
fallback when BCa cannot be computed.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

LOG_FLOOR = 1e-300  # p-values of exactly 0 map to log10 = -300 instead of -inf


def mean_ci(values: Sequence[float] | np.ndarray, *, confidence: float = 0.95,
            n_resamples: int = 10_000, seed: int = 0, log_scale: bool = False
            ) -> dict[str, Any]:
    """Mean of ``values`` and its ``confidence`` bootstrap CI, as a JSON-ready dict.

    Returns ``{"mean", "lo", "hi", "n", "method", "scale"}``; ``method`` is ``"BCa"``,
    ``"percentile"`` (BCa gave NaN or warned), ``"degenerate"`` (all values equal, so
    lo = hi = mean) or ``"n=1"`` (lo = hi = None: one value carries no spread). With
    ``log_scale`` the statistics are computed on ``log10(max(v, 1e-300))`` and mapped back
    with ``10**`` (a geometric mean; the right summary of p-values), noted as ``scale: "log10"``.
    The resampling uses ``scipy.stats.bootstrap(..., rng=np.random.default_rng(seed))``, so
    the same input always gives the same interval.
    """
    raw = np.asarray(values, dtype=float).ravel()
    if raw.size == 0 or not np.all(np.isfinite(raw)):
        raise ValueError("mean_ci needs at least one value, all finite")
    out = {"n": int(raw.size), "scale": "log10" if log_scale else "linear"}
    if raw.size == 1:
        return {"mean": float(raw[0]), "lo": None, "hi": None, **out, "method": "n=1"}
    x = np.log10(np.maximum(raw, LOG_FLOOR)) if log_scale else raw
    back = (lambda t: float(10.0 ** t)) if log_scale else float
    if np.all(x == x[0]):  # e.g. every seed gave the same accuracy: no spread to resample
        v = float(raw[0]) if np.all(raw == raw[0]) else back(x[0])
        return {"mean": v, "lo": v, "hi": v, **out, "method": "degenerate"}
    method, (lo, hi) = _interval(x, confidence, n_resamples, seed)
    return {"mean": back(x.mean()), "lo": back(lo), "hi": back(hi), **out, "method": method}


def _interval(x: np.ndarray, confidence: float, n_resamples: int, seed: int
              ) -> tuple[str, tuple[float, float]]:
    """BCa interval of the mean of ``x``, or the percentile interval when BCa fails."""
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ci = stats.bootstrap((x,), np.mean, n_resamples=n_resamples,
                                 confidence_level=confidence, method=method,
                                 rng=np.random.default_rng(seed)).confidence_interval
        bounds = (float(ci.low), float(ci.high))
        if np.all(np.isfinite(bounds)) and (method == "percentile" or not caught):
            return method, bounds
    raise ValueError(f"no finite bootstrap interval for {x.tolist()}")
