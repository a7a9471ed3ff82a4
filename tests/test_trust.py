"""Issue [9]'s metric-trust table: the meta-evaluation formulas against hand values and
scikit-learn, the table from records, and the `trust` command end to end."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from erasus_bench.harness.trust import POOL_SOURCE
from erasus_bench.leaderboards.trust import trust_table
from erasus_bench.metrics import trust as T


def test_faithfulness_is_the_roc_auc() -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    saw, unseen = rng.normal(1, 1, 7).round(1), rng.normal(0, 1, 9).round(1)  # with ties
    want = roc_auc_score([1] * 7 + [0] * 9, np.concatenate([saw, unseen]))
    assert T.faithfulness(saw, unseen) == pytest.approx(want)
    assert T.faithfulness([2, 3], [0, 1]) == 1.0 and T.faithfulness([0], [0]) == 0.5


def test_robustness_formulas_by_hand() -> None:
    # relearning raised the unlearned model's knowledge by 0.4, the retrained one's by 0.1
    assert T.relearn_robustness((0.2, 0.6), (0.3, 0.4)) == pytest.approx(0.25)
    assert T.relearn_robustness((0.2, 0.3), (0.1, 0.5)) == 1.0  # clipped
    assert T.relearn_robustness((0.2, 0.2), (0.1, 0.5)) is None  # did not move
    assert T.quant_robustness(0.5, 0.4) == pytest.approx(0.8)
    assert T.quant_robustness(0.5, 0.9) == 1.0 and T.quant_robustness(0.0, 0.3) == 1.0
    assert T.harmonic_mean(0.25, 1.0) == pytest.approx(0.4)
    assert T.harmonic_mean(0.0, 0.0) == 0.0 and T.harmonic_mean(None, 1.0) is None
    assert T.knowledge(0.3, -1) == pytest.approx(0.7) and T.knowledge(0.3, 1) == 0.3


def _rec(strategy: str, seed: int, role: str, metrics: dict, **trust) -> dict:
    return {"status": "ok", "config": {"strategy": strategy, "seed": seed, "trust": role},
            "metrics": metrics, "trust": {"role": role, "knowledge": {"m": -1}, **trust}}


def test_trust_table_from_records() -> None:
    """One metric where lower means more knowledge (oriented as 1 - m)."""
    recs = [_rec("trust_saw", 0, "pool", {"m": 0.1}), _rec("trust_saw", 0, "pool", {"m": 0.5}),
            _rec("trust_unseen", 0, "pool", {"m": 0.4}),
            _rec("trust_unseen", 0, "pool", {"m": 0.9}),
            _rec("retrain", 0, "robustness", {"m": 0.8}, relearn={"m": 0.7}, quantize={"m": 0.8}),
            _rec("ga", 0, "robustness", {"m": 0.6}, relearn={"m": 0.2}, quantize={"m": 0.7})]
    (row,) = trust_table(recs, str)["rows"]
    # knowledge: saw 0.9, 0.5; unseen 0.6, 0.1 -> 3 of 4 pairs ordered
    assert row["faithfulness"] == pytest.approx(0.75)
    # unlearned 0.4 -> 0.8 (+0.4), retrain 0.2 -> 0.3 (+0.1): R = 0.25; Q = 0.3 / 0.4
    assert row["relearn"] == pytest.approx(0.25) and row["quantize"] == pytest.approx(0.75)
    assert row["robustness"] == pytest.approx(2 * 0.25 * 0.75 / 1.0)
    assert (row["n_saw"], row["n_unseen"], row["n_models"]) == (2, 2, 1)
    assert trust_table([], str) is None


def test_trust_command_end_to_end(tmp_path: Path, cache_dir: str) -> None:
    r = subprocess.run([sys.executable, "-m", "erasus_bench.cli", "trust", "--protocol",
                        "general", "--seeds", "1", "--strategies", "gradient_ascent",
                        "--workers", "1", "--results-dir", str(tmp_path / "results"),
                        "--leaderboards-dir", str(tmp_path / "lb")], capture_output=True,
                       text=True, env={**os.environ, "ERASUS_BENCH_CACHE": cache_dir})
    assert r.returncode == 0, r.stderr[-3000:]
    files = sorted((tmp_path / "results" / "general" / "digits_random" / "trust").glob("*.json"))
    recs = [json.loads(f.read_text()) for f in files]
    assert len(recs) == 12 + 2  # 6 variants x (saw, unseen) + retrain + gradient_ascent
    saw = [x for x in recs if x["config"]["strategy"] == "trust_saw"]
    unseen = [x for x in recs if x["config"]["strategy"] == "trust_unseen"]
    # models that trained on the forget set know it better than models that never saw it
    assert min(x["metrics"]["forget_likelihood"] for x in saw) > max(
        x["metrics"]["forget_likelihood"] for x in unseen)
    # a pool model's training values cite their source; the methods run with tuned values
    assert all(x["config"]["hparams_source"] == POOL_SOURCE for x in saw + unseen)
    ga = next(x for x in recs if x["config"]["strategy"] == "gradient_ascent")
    assert "tuned_on_seeds" in ga["config"]["hparams_source"]
    assert set(ga["trust"]["relearn"]) == set(ga["metrics"]) and ga["config"]["trust"] == \
        "robustness"
    page = (tmp_path / "lb" / "general.md").read_text()
    assert "## Which metrics to trust" in page and "Forget likelihood (attack metric)" in page
    assert "Pool models: epochs=30, lr=0.0005; epochs=30, lr=0.001; epochs=30, lr=0.002; " \
        "epochs=60, lr=0.0005;" in page
    summary = json.loads((tmp_path / "lb" / "general.json").read_text())
    (variant,) = summary["variants"]
    assert variant["rows"] == [] and len(variant["trust"]["rows"]) == 6
    bad = subprocess.run([sys.executable, "-m", "erasus_bench.cli", "trust", "--protocol",
                          "muse", "--option", "model=gpt2"], capture_output=True, text=True)
    assert bad.returncode == 2 and "model='gpt2'" in bad.stderr and "tiny" in bad.stderr


def test_lm_pool_recipes() -> None:
    from erasus_bench.errors import UserError
    from erasus_bench.lm.train import LMRecipe
    from erasus_bench.lm.trust import TRUST_VARIANTS, pool_recipe

    r = LMRecipe(epochs=100, lr=3e-3, target_nll=0.02)
    got = [pool_recipe(r, v) for v in TRUST_VARIANTS]
    assert got[0] == r and got[1].lr == pytest.approx(6e-3) and got[1].epochs == 100
    assert (got[2].epochs, got[2].target_nll, got[2].lr) == (50, pytest.approx(0.2), 3e-3)
    assert pool_recipe(LMRecipe(epochs=5, lr=1e-5), {"recipe": "shorter"}).epochs == 2
    with pytest.raises(UserError, match="Did you mean 'shorter'"):
        pool_recipe(r, {"recipe": "shorte"})
    from erasus_bench.leaderboards.trust import pool_recipes

    recs = [{"config": {"hparams": dict(v)}} for v in reversed(TRUST_VARIANTS * 2)]
    assert pool_recipes(recs).split("; ")[:2] == ["the base/gold recipe",
                                                  "twice its learning rate"]


def test_tofu_pool_models(tofu_setting) -> None:
    """The pool's base-recipe models are the cached base and gold; another recipe trains
    another model, and models that saw the forget set know it better."""
    import torch

    from erasus_bench.harness.trust import measure
    from erasus_bench.protocols.tofu.protocol import TofuProtocol

    p, s = TofuProtocol(), tofu_setting

    def same(a, b) -> bool:
        return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(),
                                                     b.state_dict().values()))

    assert same(p.trust_model(s, True, {"recipe": "base"}), s.base)
    assert same(p.trust_model(s, False, {"recipe": "base"}), s.gold)
    saw = p.trust_model(s, True, {"recipe": "shorter"})
    assert not same(saw, s.base)
    m_saw, m_unseen = measure(p, s, saw), measure(p, s, s.gold)
    assert set(m_saw) == set(p.knowledge) | {"forget_likelihood"}
    assert m_saw["forget_Q_A_Prob"] > m_unseen["forget_Q_A_Prob"]
    assert m_saw["forget_likelihood"] > m_unseen["forget_likelihood"]


@pytest.mark.parametrize("name", ["muse", "wmdp_bio"])
def test_tiny_lm_pools_reuse_base_and_gold(name: str, request: pytest.FixtureRequest) -> None:
    import torch

    from erasus_bench.registry import PROTOCOLS

    s = request.getfixturevalue(f"{name}_setting")
    p = PROTOCOLS.get(name.replace("_", "-"))()
    for saw, model in ((True, s.base), (False, s.gold)):
        pool = p.trust_model(s, saw, {"recipe": "base"})
        assert all(torch.equal(a, b) for a, b in zip(pool.state_dict().values(),
                                                     model.state_dict().values()))
