"""Paired sign-flip permutation test, Holm correction and rank groups."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from erasus_bench.harness.compare import holm, rank_groups, sign_flip_pvalue


def test_sign_flip_matches_scipy_permutation_test() -> None:
    d = np.array([0.3, 0.1, -0.05, 0.4, 0.2, 0.25])
    ref = stats.permutation_test((d,), np.sum, permutation_type="samples",
                                 n_resamples=np.inf, alternative="two-sided").pvalue
    assert sign_flip_pvalue(d) == pytest.approx(ref)


def test_three_seeds_cannot_separate() -> None:
    assert sign_flip_pvalue([1.0, 2.0, 3.0]) == pytest.approx(0.25)  # 2**(1-3)
    assert sign_flip_pvalue([0.0, 0.0, 0.0]) == 1.0
    assert sign_flip_pvalue([1.0] * 6) == pytest.approx(2 ** -5)


def test_holm_is_statsmodels() -> None:
    p = [0.01, 0.04, 0.03]
    assert holm(p) == pytest.approx(list(multipletests(p, method="holm")[1]))
    rng = np.random.default_rng(0)
    for m in (1, 2, 7, 40):
        p = list(rng.uniform(0, 0.2, m) ** 2)
        p[:2] = p[:1] * 2 if m > 1 else p[:1]  # ties keep their order
        assert holm(p) == pytest.approx(list(multipletests(p, method="holm")[1]), abs=1e-15)
    assert holm([]) == []


def test_rank_groups() -> None:
    seeds = range(8)
    scores = {"a": {s: 0.10 + 0.001 * s for s in seeds},
              "b": {s: 0.10 + 0.001 * s + (0.0005 if s % 2 else -0.0004) for s in seeds},
              "c": {s: 0.50 + 0.001 * s for s in seeds},
              "d": {s: 0.90 for s in seeds},
              "one": {0: 0.0}}
    r = rank_groups(scores)
    assert (r["a"]["label"], r["b"]["label"], r["c"]["label"], r["d"]["label"]) == \
        ("1-2", "1-2", "3", "4")
    assert r["a"]["p_vs_best"] is None and r["b"]["p_holm"] > 0.05 > r["c"]["p_holm"]
    assert r["one"]["label"] is None and r["one"]["lo"] is None
    # 3 seeds: nothing separates, everyone shares 1-3
    three = {k: {s: v + s for s in range(3)} for k, v in (("x", 0.0), ("y", 5.0), ("z", 9.0))}
    assert {v["label"] for v in rank_groups(three).values()} == {"1-3"}
