"""Coreset verdicts: paired differences to the full forget set, cost ratios, the verdict."""
from __future__ import annotations

import numpy as np
import pytest

from erasus_bench.leaderboards.coreset import SAVING, coreset_verdicts
from erasus_bench.leaderboards.text import combined_verdict
from erasus_bench.metrics.spec import MetricSpec

GAP = MetricSpec("avg_gap", "Avg. gap", "lower", "gap", ("general",), primary=("general",))
TIME = MetricSpec("unlearn_time", "Unlearn time", "lower", "seconds", ("general",))
SEEDS = range(10)


def _row(selector: str, fraction: float, strategy: str = "ga") -> dict:
    return {"strategy": strategy, "selector": selector, "fraction": fraction,
            "budget": "epochs", "reference": False}


def _seeded(base: float, spread: float, rng: np.random.Generator) -> dict:
    return {s: base + spread * rng.normal() for s in SEEDS}


def test_verdicts_by_hand() -> None:
    rng = np.random.default_rng(0)
    full_gap = _seeded(0.05, 0.002, rng)
    rows = [_row("full", 1.0), _row("random", 0.1), _row("loss", 0.1), _row("herding", 0.1)]
    per_seed = [
        {"avg_gap": full_gap, "unlearn_time": {s: 1.0 for s in SEEDS}},
        # equivalent (0.001 worse, margin 0.02) at ~0.1x the time: supported
        {"avg_gap": {s: v + 0.001 + 0.001 * rng.normal() for s, v in full_gap.items()},
         "unlearn_time": {s: 0.1 + 0.005 * rng.normal() for s in SEEDS}},
        # equivalent but as slow as full: quality holds, no saving
        {"avg_gap": {s: v + 0.001 * rng.normal() for s, v in full_gap.items()},
         "unlearn_time": {s: 0.9 + 0.01 * rng.normal() for s in SEEDS}},
        # 0.1 worse on every seed: not supported, and worse than random
        {"avg_gap": {s: v + 0.1 + 0.005 * rng.normal() for s, v in full_gap.items()},
         "unlearn_time": {s: 0.1 for s in SEEDS}},
    ]
    out = coreset_verdicts(rows, per_seed, [GAP, TIME], {"avg_gap": 0.02})
    by = {v["selector"]: v for v in out}
    assert set(by) == {"random", "loss", "herding"}  # the full row is the comparison, not a row
    assert by["random"]["verdict"] == "supported" and by["random"]["vs_random"] is None
    assert by["random"]["cost_ratio"]["hi"] <= SAVING
    assert by["random"]["cost_ratio"]["mean"] == pytest.approx(0.1, rel=0.05)
    assert by["loss"]["verdict"] == "quality holds, no saving"
    assert by["herding"]["verdict"] == "not supported"
    assert by["herding"]["vs_random"]["verdict"] == "worse than random"
    d = [per_seed[3]["avg_gap"][s] - full_gap[s] for s in SEEDS]
    assert by["herding"]["diff"]["mean"] == pytest.approx(np.mean(d))
    assert by["herding"]["diff"]["lo"] < np.mean(d) < by["herding"]["diff"]["hi"]
    assert {v["budget"] for v in out} == {"epochs"} and all(v["n"] == 10 for v in out)


def test_noisy_difference_is_inconclusive() -> None:
    rng = np.random.default_rng(1)
    rows = [_row("full", 1.0), _row("random", 0.1)]
    per_seed = [{"avg_gap": _seeded(0.05, 0.001, rng), "unlearn_time": {s: 1.0 for s in SEEDS}},
                {"avg_gap": _seeded(0.07, 0.1, rng), "unlearn_time": {s: 0.1 for s in SEEDS}}]
    (v,) = coreset_verdicts(rows, per_seed, [GAP, TIME], {"avg_gap": 0.02})
    assert v["verdict"] == "inconclusive"


def test_no_full_row_no_verdict() -> None:
    rows = [_row("random", 0.1)]
    per_seed = [{"avg_gap": {0: 0.1, 1: 0.2}, "unlearn_time": {0: 1.0, 1: 1.0}}]
    assert coreset_verdicts(rows, per_seed, [GAP, TIME], {"avg_gap": 0.02}) == []


def test_combined_verdict() -> None:
    assert combined_verdict(["supported", "supported"]) == "supported"
    assert combined_verdict(["supported", "not supported"]) == "not supported"
    assert combined_verdict(["supported", "quality holds, no saving"]) == \
        "quality holds, no saving"
    assert combined_verdict(["supported", "inconclusive"]) == "inconclusive"
