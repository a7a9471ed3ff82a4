"""Coverage of mean_ci's 95% interval on simulated seeds with a known mean.

1,000 simulated experiments per case (fixed seed), 2,000 bootstrap resamples inside the
simulation (pages use 10,000; fewer keeps this test fast, and the interval's bootstrap part
barely changes). "Bernoulli" data: each simulated seed's value is an accuracy, the mean of 200
Bernoulli(0.9) draws (true mean 0.9), because raw 0/1 values at 5 seeds are all equal with
high probability and make every interval degenerate. The interval must cover the truth in
93-97% of the runs for 5 and 10 seeds.
"""
from __future__ import annotations

import numpy as np
import pytest

from erasus_bench.harness.stats import mean_ci

N_SIM = 1000


def _draw(dist: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    if dist == "normal":
        return rng.normal(1.0, 2.0, size=(N_SIM, n)), 1.0
    return rng.binomial(200, 0.9, size=(N_SIM, n)) / 200, 0.9


@pytest.mark.parametrize("dist", ["normal", "bernoulli"])
@pytest.mark.parametrize("n", [5, 10])
def test_95_percent_interval_covers_the_mean(dist: str, n: int) -> None:
    data, truth = _draw(dist, n, np.random.default_rng(20261123 + n))
    hits = 0
    for x in data:
        c = mean_ci(x, n_resamples=2000, seed=0)
        hits += c["lo"] <= truth <= c["hi"]
    coverage = hits / N_SIM
    print(f"{dist} n={n}: coverage {coverage:.3f}")
    assert 0.93 <= coverage <= 0.97
