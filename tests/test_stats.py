"""mean_ci: seeded BCa bootstrap (joined with the t interval), percentile / degenerate / n=1
fallbacks, log scale."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats

from erasus_bench.harness.stats import mean_ci, mean_cis


def test_matches_an_independent_scipy_call() -> None:
    x = [0.12, 0.08, 0.15, 0.11, 0.09]
    ref = stats.bootstrap((np.array(x),), np.mean, n_resamples=2000, method="BCa",
                          rng=np.random.default_rng(7)).confidence_interval
    out = mean_ci(x, n_resamples=2000, seed=7, t_hull=False)
    assert out["method"] == "BCa" and out["n"] == 5 and out["scale"] == "linear"
    assert out["mean"] == pytest.approx(0.11)
    assert (out["lo"], out["hi"]) == (pytest.approx(ref.low), pytest.approx(ref.high))
    assert out["lo"] < out["mean"] < out["hi"]


def test_two_values_span_their_range() -> None:
    # every resample mean of {a, b} lies in [a, b], so the 95% CI is (nearly) [a, b]
    out = mean_ci([1.0, 2.0])
    assert out["mean"] == 1.5
    assert 1.0 <= out["lo"] < 1.5 < out["hi"] <= 2.0


def test_seeded_and_confidence_widens() -> None:
    x = np.random.default_rng(0).normal(size=8)
    assert mean_ci(x, seed=3) == mean_ci(x, seed=3)
    narrow, wide = mean_ci(x, confidence=0.5), mean_ci(x, confidence=0.99)
    assert wide["lo"] < narrow["lo"] < narrow["hi"] < wide["hi"]


def test_one_value_has_no_interval() -> None:
    assert mean_ci([0.3]) == {"mean": 0.3, "lo": None, "hi": None, "n": 1,
                              "scale": "linear", "method": "n=1", "label": "n=1", "n<3": True}


def test_equal_values_are_degenerate_not_nan() -> None:
    out = mean_ci([0.5, 0.5, 0.5])
    assert out == {"mean": 0.5, "lo": 0.5, "hi": 0.5, "n": 3, "scale": "linear",
                   "method": "degenerate"}


def test_tiny_values_get_bca_on_the_integer_grid() -> None:
    # on the raw values BCa's acceleration term underflows (scipy warns, NaN bounds); on the
    # integer grid the same data are well scaled
    x = [1e-300, 1e-300, 2e-300]
    with pytest.warns(stats.DegenerateDataWarning), np.errstate(invalid="ignore"):
        ref = stats.bootstrap((np.array(x),), np.mean, n_resamples=500,
                              rng=np.random.default_rng(0)).confidence_interval
    assert np.isnan(ref.low)
    out = mean_ci(x, n_resamples=500, t_hull=False)
    assert out["method"] == "BCa"
    assert out["lo"] < out["mean"] < out["hi"]
    assert out["lo"] >= 1e-300 * (1 - 1e-12) and out["hi"] <= 2e-300 * (1 + 1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # one resample: no standard error
def test_percentile_fallback_when_bca_has_no_interval() -> None:
    # a single resample above the mean makes BCa's bias correction ndtri(0) = -inf: NaN bounds
    x = np.array([0.0, 0.0, 1.0])

    def bca_fails(seed: int) -> bool:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            ci = stats.bootstrap((x,), np.mean, n_resamples=1,
                                 rng=np.random.default_rng(seed)).confidence_interval
        return bool(np.isnan(ci.low))

    seed = next(s for s in range(200) if bca_fails(s))
    out = mean_ci(x, n_resamples=1, seed=seed, t_hull=False)
    assert out["method"] == "percentile" and np.isfinite([out["lo"], out["hi"]]).all()


def test_batched_intervals_equal_one_call_each() -> None:
    rng = np.random.default_rng(5)
    samples = [rng.normal(size=n) for n in (3, 3, 5, 2, 3, 1)] + [[0.5, 0.5, 0.5]]
    logs = [False, True, False, False, False, False, False]
    batch = mean_cis([np.abs(s) if lg else s for s, lg in zip(samples, logs)],
                     log_scale=logs, n_resamples=500)
    single = [mean_ci(np.abs(s) if lg else s, log_scale=lg, n_resamples=500)
              for s, lg in zip(samples, logs)]
    assert batch == single


def test_interval_ignores_noise_below_the_grid() -> None:
    # ties broken by last-digit noise would move BCa's bias correction; the grid keeps them
    x = [0.9777777777777777, 0.9777777777777777, 0.9555555555555556, 0.9888888888888889]
    noisy = [v * (1 + e) for v, e in zip(x, (1e-13, -1e-13, 3e-14, -2e-13))]
    clean, moved = mean_ci(x, t_hull=False), mean_ci(noisy, t_hull=False)
    assert clean["method"] == moved["method"] == "BCa"
    for key in ("mean", "lo", "hi"):
        assert moved[key] == pytest.approx(clean[key], rel=1e-9)
    # scipy on the raw values: the ties fall either side of the mean, the bound moves
    raw = [stats.bootstrap((np.array(v),), np.mean, n_resamples=10_000,
                           rng=np.random.default_rng(0)).confidence_interval.low
           for v in (x, noisy)]
    assert abs(raw[0] - raw[1]) > 1e-6


def test_degenerate_after_log_floor() -> None:
    out = mean_ci([0.0, 1e-320], log_scale=True)  # both floored to 1e-300
    assert out["method"] == "degenerate" and out["lo"] == out["hi"] == out["mean"]


def test_log_scale_is_a_geometric_mean() -> None:
    out = mean_ci([1e-2, 1e-4, 1e-6], log_scale=True, n_resamples=2000)
    assert out["scale"] == "log10" and out["mean"] == pytest.approx(1e-4)
    logs = mean_ci([-2.0, -4.0, -6.0], n_resamples=2000)
    assert out["lo"] == pytest.approx(10 ** logs["lo"])
    assert out["hi"] == pytest.approx(10 ** logs["hi"])
    assert mean_ci([0.0, 1e-10], log_scale=True)["mean"] == pytest.approx(1e-155)  # 0 -> 1e-300


def test_rejects_empty_and_non_finite() -> None:
    for bad in ([], [0.1, float("nan")]):
        with pytest.raises(ValueError):
            mean_ci(bad)


def test_default_is_bca_joined_with_t() -> None:
    x = np.array([0.12, 0.08, 0.15, 0.11, 0.09])
    bca = mean_ci(x, n_resamples=2000, seed=7, t_hull=False)
    out = mean_ci(x, n_resamples=2000, seed=7)
    t = stats.t.interval(0.95, 4, loc=x.mean(), scale=stats.sem(x))
    assert out["method"] == "BCa+t" and "label" not in out
    assert out["lo"] == pytest.approx(min(bca["lo"], t[0]))
    assert out["hi"] == pytest.approx(max(bca["hi"], t[1]))


def test_two_seeds_fall_back_to_percentile_and_are_flagged() -> None:
    out = mean_ci([1.0, 2.0])
    assert out["method"] == "percentile" and out["label"] == "n<3" and out["n<3"] is True
    assert mean_ci([0.5, 0.5])["label"] == "n<3"
    assert "label" not in mean_ci([1.0, 2.0, 3.0])


def test_interval_is_clipped_to_the_metric_range() -> None:
    from erasus_bench.harness.stats import mean_ci

    free = mean_ci([0.0001, 0.0002, 0.02], n_resamples=2000)
    assert free["lo"] < 0
    clipped = mean_ci([0.0001, 0.0002, 0.02], n_resamples=2000, bounds=(0.0, 1.0))
    assert clipped["lo"] == 0.0 and clipped["hi"] == free["hi"]
    assert clipped["method"].endswith(",clipped") and clipped["mean"] == free["mean"]


def test_few_seeds_use_the_exact_bootstrap_distribution() -> None:
    # 3-4 seeds: 27 / 256 equally likely resamples; a long Monte Carlo run converges to the
    # same interval (integer data, so that scipy's sums on the raw values are exact too)
    for x in ([12.0, 8.0, 15.0], [30.0, 10.0, 25.0], [12.0, 8.0, 15.0, 11.0]):
        exact = mean_ci(x, t_hull=False)
        mc = stats.bootstrap((np.array(x),), np.mean, n_resamples=400_000,
                             rng=np.random.default_rng(1)).confidence_interval
        assert exact["method"] == "BCa"
        assert (exact["lo"], exact["hi"]) == (pytest.approx(mc.low), pytest.approx(mc.high))
        assert mean_ci(x, seed=1) == mean_ci(x, seed=2)  # no Monte Carlo noise left
