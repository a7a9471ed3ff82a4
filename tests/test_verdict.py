"""TOST verdicts: hand-made differences against scipy, and the committed general results."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from erasus_bench.harness.verdict import metric_test, verdict

RESULTS = Path(__file__).parent.parent / "results"


def test_tost_matches_two_scipy_one_sided_tests() -> None:
    d = np.array([0.004, 0.006, 0.002, 0.005])
    r = metric_test(d, 0.02, "lower")
    lo = stats.ttest_1samp(d, -0.02, alternative="greater").pvalue
    hi = stats.ttest_1samp(d, 0.02, alternative="less").pvalue
    assert r["p_tost"] == pytest.approx(max(lo, hi)) and r["equivalent"]
    assert r["p_worse"] == pytest.approx(stats.ttest_1samp(d, 0.02, alternative="greater").pvalue)
    assert not r["worse"]


def test_worse_beyond_margin_follows_direction() -> None:
    d = np.array([0.5, 0.52, 0.55])
    assert metric_test(d, 0.02, "lower")["worse"]
    assert not metric_test(d, 0.02, "higher")["worse"]  # higher is better: d > 0 is good
    assert metric_test(-d, 0.02, "higher")["worse"]
    assert metric_test(-d, 0.02, "match_gold")["worse"]


def test_zero_variance_and_one_seed_are_deterministic() -> None:
    same = metric_test([0.0, 0.0, 0.0], 0.02, "lower")
    assert same["equivalent"] and same["zero_variance"] and same["p_tost"] == 0.0
    const = metric_test([0.1, 0.1, 0.1], 0.02, "lower")
    assert const["worse"] and not const["equivalent"]
    v = verdict({"avg_gap": [0.001]}, {"avg_gap": 0.02}, {"avg_gap": "lower"})
    assert v["label"] == "PARTIAL" and v["reason"] == "n=1"
    assert verdict({"avg_gap": [0.0, 0.0]}, {"avg_gap": 0.02},
                   {"avg_gap": "lower"})["label"] == "PASS"
    assert verdict({"avg_gap": [0.01, 0.03, 0.02]}, {"avg_gap": 0.02},
                   {"avg_gap": "lower"})["label"] == "PARTIAL"


@pytest.fixture(scope="module")
def real_summary() -> dict:
    from erasus_bench.harness.store import load_records
    from erasus_bench.leaderboards.summarise import summarise, summary_to_json
    if not (RESULTS / "general").is_dir():
        pytest.skip("no committed results")
    s = summarise(load_records(RESULTS, "general"), "general")
    summary_to_json(s)  # strict JSON
    return s


def _rows(summary: dict, scenario: str) -> dict[str, dict]:
    (v,) = [v for v in summary["variants"] if v["protocol_config"]["scenario"] == scenario]
    return {r["strategy"]: r for r in v["rows"] if r["reference"]}


@pytest.mark.parametrize("scenario", ["class", "random"])
def test_gold_passes_and_original_fails(real_summary: dict, scenario: str) -> None:
    rows = _rows(real_summary, scenario)
    assert rows["retrain"]["verdict"]["label"] == "PASS"
    # forgetting a class is far from the original; a random 10% (which the gold model still
    # classifies well) leaves the original within a hair of the margin: never a PASS
    assert rows["original"]["verdict"]["label"] == "FAIL" if scenario == "class" else \
        rows["original"]["verdict"]["label"] != "PASS"
    assert "avg_gap" in real_summary["verdict_rule"] and "0.02" in real_summary["verdict_rule"]
    assert real_summary["pairwise_rule"]


def test_real_rows_carry_ranks(real_summary: dict) -> None:
    for v in real_summary["variants"]:
        methods = [r for r in v["rows"] if not r["reference"] and r["seeds"]]
        ranks = [r["ranks"]["avg_gap"] for r in methods]
        assert methods and all(k["lo"] is not None and k["cd"] > 0 for k in ranks)
        if {len(r["seeds"]) for r in methods} == {3}:  # 3 seeds, ~100 rows: CD spans them all
            assert all(k["lo"] == 1 for k in ranks)
        else:  # 10 seeds: the CD shrinks and the worst rows leave the top group
            assert len({k["group"] for k in ranks}) >= 2
        assert f"{len(methods)} methods ranked over {ranks[0]['seeds']} seeds" \
            in v["rank_separation"]
        assert all(r["ranks"] == {} for r in v["rows"] if r["reference"])


def test_batched_verdicts_equal_one_call_each() -> None:
    from erasus_bench.harness.verdict import verdicts

    rows = [{"a": [0.01, 0.015, 0.012], "b": [-0.3, -0.2, -0.25, -0.1]},
            {"a": [0.05, 0.06, 0.07], "b": [0.0, 0.0]},
            {"a": [0.001], "b": []},
            {"a": [0.002, -0.001, 0.0, 0.001], "b": [0.1, 0.2, 0.15]}]
    margins = {"a": 0.02, "b": 0.3}
    directions = {"a": "lower", "b": "match_gold"}
    assert verdicts(rows, margins, directions) == [verdict(r, margins, directions)
                                                   for r in rows]
    # against scipy directly: TOST = max of the two one-sided tests
    d = np.array(rows[0]["a"])
    low = stats.ttest_1samp(d, -0.02, alternative="greater").pvalue
    high = stats.ttest_1samp(d, 0.02, alternative="less").pvalue
    got = verdicts(rows, margins, directions)[0]["metrics"]["a"]["p_tost"]
    assert got == pytest.approx(max(low, high), rel=1e-12)
