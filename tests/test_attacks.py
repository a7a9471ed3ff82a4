"""Issue [9]'s attack stages: the recovery ratio, relearning, quantization, the NeurIPS'23
per-example epsilon (against an independent brute-force port of the reference's threshold
sweep), and how the harness runs, records and validates them."""
from __future__ import annotations

import copy
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from erasus_bench.errors import UserError
from erasus_bench.harness.attacks import (AttackInput, halves, likelihood, quantize_stage,
                                          relearn_stage)
from erasus_bench.harness.grid import build_grid
from erasus_bench.harness.quantize import quantized
from erasus_bench.harness.relearn import RelearnRecipe, relearn_curve
from erasus_bench.harness.runner import RunContext, run_cell, same_weights, unlearn
from erasus_bench.harness.spec import CellSpec
from erasus_bench.harness.store import is_done, read_record, record_path
from erasus_bench.metrics import epsilon as E
from erasus_bench.metrics.recovery import NOTHING_REMOVED, recovery
from erasus_bench.protocols.general.protocol import GeneralProtocol

# ---- the recovery ratio ---------------------------------------------------------------------


def test_recovery_is_the_regained_share_clipped() -> None:
    assert recovery(0.9, 0.5, 0.7) == pytest.approx(0.5)
    assert recovery(0.9, 0.5, 0.5) == 0.0  # a zero-step attack recovers nothing
    assert recovery(0.9, 0.5, 0.3) == 0.0 and recovery(0.9, 0.5, 1.0) == 1.0  # clipped
    # nothing removed (or the method raised the forget likelihood): nothing to recover
    assert recovery(0.9, 0.9, 0.95) is None
    assert recovery(0.9, 0.9 - NOTHING_REMOVED / 2, 0.95) is None
    assert recovery(0.5, 0.9, 0.95) is None
    assert recovery(0.9, math.nan, 0.5) is None


def test_halves_are_disjoint_cover_and_fixed_by_seed() -> None:
    a, b = halves(11, 3)
    assert len(a) == 5 and len(b) == 6 and not set(a) & set(b) and set(a) | set(b) == set(range(11))
    assert all(np.array_equal(x, y) for x, y in zip(halves(11, 3), (a, b)))
    assert not np.array_equal(halves(11, 4)[0], a)


# ---- relearning -------------------------------------------------------------------------------


def test_zero_step_relearning_recovers_zero_and_leaves_the_model(general_setting) -> None:
    s = general_setting
    metric = likelihood(s.adapter, s.forget)
    before = copy.deepcopy(s.gold)
    curve = relearn_curve(s.gold, s.adapter, s.forget, metric,
                          RelearnRecipe("sgd", 0.01, 0, 16, 1), seed=0)
    assert curve == [metric(s.gold)]
    assert recovery(metric(s.base), curve[0], curve[-1]) == 0.0
    assert same_weights(s.gold, before)


def test_likelihood_is_the_true_class_probability(general_setting) -> None:
    s = general_setting
    with torch.no_grad():
        p = s.base(s.forget.tensors["x"]).softmax(1)
    want = float(p[torch.arange(len(p)), s.forget.tensors["y"]].double().mean())
    assert likelihood(s.adapter, s.forget)(s.base) == pytest.approx(want, abs=1e-6)


def test_relearning_the_gold_model_on_the_forgotten_class_brings_it_back(cache_dir: str
                                                                         ) -> None:
    """Class scenario: gold never saw class 0, so half A of it teaches half B back."""
    from erasus_bench.harness.runner import get_setting

    proto = GeneralProtocol()
    s = get_setting("general", proto.resolve_config({"scenario": "class"}), 0, cache_dir)
    gold_before = copy.deepcopy(s.gold)
    out = relearn_stage(proto, AttackInput(s, s.gold, "retrain"))
    info = out.info
    assert info["steps"] == list(range(0, 21, 2)) and len(info["curve"]) == 11
    assert info["original"] > 0.9 and info["curve"][0] < 0.1 < info["curve"][-1]
    assert out.metrics["relearn_recovery"] == pytest.approx(min(1.0, (
        info["curve"][-1] - info["curve"][0]) / (info["original"] - info["curve"][0])))
    assert same_weights(s.gold, gold_before)
    # the original model removed nothing: no recovery to report
    assert relearn_stage(proto, AttackInput(s, s.base, "original")).metrics == {
        "relearn_recovery": None}


# ---- quantization -----------------------------------------------------------------------------


def test_quantized_weights_take_few_levels_and_keep_the_function(general_setting) -> None:
    s = general_setting
    x = s.forget.tensors["x"]
    with torch.no_grad():
        ref = s.base(x)
        q8, q4 = (quantized(s.base, b)(x) for b in (8, 4))
    err8, err4 = (float((q - ref).abs().max()) for q in (q8, q4))
    assert 0 < err8 < err4 < float(ref.abs().max())  # int4 is coarser than int8, both close
    # the dequantised int4 weights of one group of 32 take at most 16 values
    w = quantized(s.base, 4).body[0].weight.dequantize()
    assert len(torch.unique(w[0, :32])) <= 16 and len(torch.unique(w[0])) > 16
    assert same_weights(s.base, copy.deepcopy(s.base))  # the model itself is left as it was
    with pytest.raises(ValueError, match="valid choices: 4, 8"):
        quantized(s.base, 3)


def test_gpt2_conv1d_is_quantized_as_a_linear_layer() -> None:
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=64, n_positions=16, n_embd=32, n_layer=1,
                                       n_head=2)).eval()
    ids = torch.randint(0, 64, (2, 8))
    from erasus_bench.harness.quantize import _linears

    with torch.no_grad():
        ref = model(ids).logits
        assert torch.allclose(_linears(copy.deepcopy(model))(ids).logits, ref, atol=1e-5)
        q = quantized(model, 8)
        assert type(q.transformer.h[0].attn.c_attn).__name__ == "Linear"
        out = q(ids).logits
    assert 0 < float((out - ref).abs().max()) < 0.1


def test_quantize_stage_of_a_no_op_reports_nothing_removed(general_setting) -> None:
    s = general_setting
    proto = GeneralProtocol()
    out = quantize_stage(proto, AttackInput(s, s.base, "original"))
    assert out.metrics == {"quant_recovery": None, "quant8_recovery": None}
    assert "int4" in out.info["settings"]["int4"] and out.info["original"] == out.info[
        "unlearned"]
    gold = quantize_stage(proto, AttackInput(s, s.gold, "retrain")).metrics
    assert all(0.0 <= v <= 1.0 for v in gold.values())


# ---- the per-example epsilon ------------------------------------------------------------------


def _reference_epsilon(pos: np.ndarray, neg: np.ndarray, delta: float = 1e-5) -> float:
    """Brute force over the reference's whole threshold grid, one rule at a time (written from
    metric.py's description: every (left, right) pair and every single threshold)."""
    pd, nd = np.ptp(pos), np.ptp(neg)
    if min(pd, nd) / max(pd, nd) < 0.01:
        return 50.0
    p, n = (neg, pos) if pd >= nd else (pos, neg)  # the peakier sample is the positive
    w = np.ptp(p)
    mn, mx = p.min() + w - 2.0, p.max() + 2.0
    right = np.linspace(mn, mx, int(np.ceil((mx - mn) * 100)))[:, None]
    left = np.linspace(right - w - 2.0, right - w + 2.0, 400, axis=1)[:, :, 0]
    inside = [((left[..., None] <= x) & (x <= right[..., None])).mean(-1).ravel() for x in (p, n)]
    both = np.concatenate([pos, neg])
    t = np.linspace(both.min(), both.max(), int(np.ceil(np.ptp(both) * 100)))[:, None]
    rates = [*zip(*inside), *zip((pos >= t).mean(1), (neg >= t).mean(1))]
    tpr, fpr = np.array(rates).T
    fnr = 1 - tpr
    if np.any((fpr == 0) & (fnr == 0)):
        return 50.0
    tpr, fpr, fnr = (a[(fpr > 0) & (fnr > 0)] for a in (tpr, fpr, fnr))
    with np.errstate(invalid="ignore"):  # log(1 - delta - 1) < 0: no epsilon there
        best = np.nanmax([np.log(1 - delta - fpr) - np.log(fnr),
                          np.log(1 - delta - fnr) - np.log(fpr)])
    return float(np.clip(best, 0, 50))


def test_epsilon_matches_the_brute_force_threshold_sweep() -> None:
    rng = np.random.default_rng(7)
    for _ in range(6):
        pos = rng.normal(rng.uniform(0, 3), rng.uniform(0.2, 1.5), 8)
        neg = rng.normal(rng.uniform(0, 3), rng.uniform(0.2, 1.5), 8)
        assert E.example_epsilon(pos, neg) == pytest.approx(_reference_epsilon(pos, neg),
                                                            abs=1e-9)


def test_epsilon_extremes() -> None:
    rng = np.random.default_rng(0)
    same = rng.normal(0, 1, 16)
    assert E.example_epsilon(same, same.copy()) == 0.0  # identical samples: indistinguishable
    assert E.example_epsilon(same + 100, same) == E.EPSILON_CAP  # perfectly separated
    assert E.example_epsilon(np.full(16, 0.3), same) == E.EPSILON_CAP  # a deterministic side


def test_bucket_points_and_score() -> None:
    # N = 16: ceil(ln 15) = 3, six buckets of 0.5 worth 1, 1/2, ..., 1/32; 0 from 3 on
    pts = E.bucket_points(np.array([0.0, 0.49, 0.5, 1.2, 2.99, 3.0, 50.0]), 16)
    assert pts.tolist() == [1, 1, 0.5, 0.25, 1 / 32, 0, 0]
    assert E.challenge_score(0.5, (0.9, 1.0), (0.8, 1.0)) == pytest.approx(0.36)


def test_logit_scaled_confidence_by_hand() -> None:
    logits = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 3.0]])
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    want = [np.log(p[0, 0] / (p[0, 1] + p[0, 2])), np.log(p[1, 1] / (p[1, 0] + p[1, 2]))]
    assert E.logit_scaled_confidence(logits, np.array([0, 1])) == pytest.approx(want)


# ---- the harness: stages in records, validation, caching ---------------------------------------


def _cell(general_config: dict, attacks: tuple[str, ...]) -> CellSpec:
    _, _, cells = build_grid("general", {}, ["gradient_ascent"], ["random"], [0.1], 1)
    return replace(next(c for c in cells if c.strategy == "gradient_ascent"), attacks=attacks)


def test_attack_stages_are_recorded_outside_the_config_hash(tmp_path: Path, cache_dir: str,
                                                            general_config: dict) -> None:
    plain = _cell(general_config, ())
    attacked = replace(plain, attacks=("quantize", "relearn"))
    assert attacked.config_hash == plain.config_hash
    assert attacked.config()["attacks"] == ["quantize", "relearn"]
    assert "attacks" not in plain.config()
    ctx = RunContext(str(tmp_path), cache_dir, "test")
    run_cell(attacked, ctx)
    rec = read_record(record_path(tmp_path, attacked))
    assert rec["status"] == "ok", rec["error"]
    assert set(rec["attacks"]) == {"quantize", "relearn"}
    assert {"attack_quantize_s", "attack_relearn_s"} <= set(rec["timings"])
    assert 0.0 <= rec["metrics"]["relearn_recovery"] <= 1.0
    # a record satisfies requests for fewer stages, not for more
    assert is_done(tmp_path, plain) and is_done(tmp_path, attacked)
    assert not is_done(tmp_path, replace(plain, attacks=("epsilon",)))


def test_attacks_are_validated_by_protocol() -> None:
    with pytest.raises(UserError, match="Valid choices: epsilon, quantize, relearn"):
        build_grid("general", {}, ["gradient_ascent"], ["random"], [0.1], 1, attacks=["relern"])
    with pytest.raises(UserError, match="Did you mean 'relearn'"):
        build_grid("general", {}, ["gradient_ascent"], ["random"], [0.1], 1, attacks=["relern"])
    with pytest.raises(UserError, match="not offered with --requests"):
        build_grid("general", {}, ["gradient_ascent"], ["random"], [0.1], 1, requests=2,
                   attacks=["epsilon"])
    with pytest.raises(UserError, match="attack stage for protocol 'tofu'"):
        build_grid("tofu", {}, ["npo"], ["full"], [1.0], 1, attacks=["epsilon"])
    _, _, cells = build_grid("general", {}, ["gradient_ascent"], ["random"], [0.1], 1)
    assert {c.attacks for c in cells} == {("quantize", "relearn")}  # the default stages
    _, _, cells = build_grid("general", {}, ["gradient_ascent"], ["random"], [0.1], 1,
                             attacks=[])
    assert {c.attacks for c in cells} == {()}
    _, _, cells = build_grid("wmdp-bio", {"model": "HuggingFaceH4/zephyr-7b-beta"}, ["rmu"],
                             ["full"], [1.0], 1)
    assert {c.attacks for c in cells} == {()}  # no model to attack beside a chance reference


def test_epsilon_stage_on_one_cell(cache_dir: str, general_setting, monkeypatch) -> None:
    """With 4 models a side: the cell's run and 3 reruns with other unlearning seeds against 4
    retrains; the same N-model comparison for the retrain row is near the ceiling."""
    from erasus_bench.protocols.general import privacy

    monkeypatch.setattr(privacy, "N_MODELS", 4)
    proto = GeneralProtocol()
    s = general_setting
    cell = replace(_cell({}, ("epsilon",)), strategy="grad_diff", hparams={
        "steps": 20, "batch_size": 16, "lr": 1e-3, "alpha": 0.9, "optimizer": "adam"})
    done = unlearn(cell, s)
    reruns = []

    def rerun(i: int) -> torch.nn.Module:
        reruns.append(i)
        return unlearn(cell, s, unlearn_seed=1000 + i).model

    out = proto.attack("epsilon", AttackInput(s, done.model, cell.strategy, rerun))
    info = out.info
    assert reruns == [1, 2, 3] and info["settings"]["models_per_side"] == 4
    assert len(info["epsilons"]) == len(s.forget)
    # ceil(ln 3) = 2: four buckets; F is the mean bucket value of the epsilons
    f = float(E.bucket_points(np.array(info["epsilons"]), 4).mean())
    assert info["forget_score"] == pytest.approx(f, abs=1e-3)
    assert out.metrics["epsilon_score"] == pytest.approx(
        info["forget_score"] * info["retain_acc"][0] / info["retain_acc"][1]
        * info["test_acc"][0] / info["test_acc"][1])
    # the reruns differ from the cell's run (another unlearning seed), so not every example is
    # at the cap
    assert min(info["epsilons"]) < E.EPSILON_CAP
    original = proto.attack("epsilon", AttackInput(s, s.base, "original"))
    assert original.metrics["epsilon_score"] == 0.0  # N copies of one model: all at the cap
    retrain = proto.attack("epsilon", AttackInput(s, s.gold, "retrain"))
    assert retrain.metrics["epsilon_score"] > out.metrics["epsilon_score"]


def test_cli_rejects_an_unknown_stage(tmp_path: Path) -> None:
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "erasus_bench.cli", "run", "--protocol", "general",
                        "--strategies", "gradient_ascent", "--attacks", "bogus", "--out",
                        str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 2, r.stderr[-2000:]
    assert "'bogus'" in r.stderr and "epsilon, quantize, relearn" in r.stderr
    assert not list(tmp_path.glob("**/*.json"))


# ---- the LM protocols ---------------------------------------------------------------------------


def test_lm_stages_on_tofu(tofu_setting, tofu_config: dict) -> None:
    """On the tiny GPT-2: the attack metric is forget_Q_A_Prob per item; relearning a model
    that gradient ascent pushed off the forget set brings half B back; quantization reaches
    the GPT-2 Conv1D layers; the original model has nothing to recover."""
    from erasus_bench.protocols.tofu.protocol import TofuProtocol

    proto, s = TofuProtocol(), tofu_setting
    assert proto.attack_stages(tofu_config) == (("quantize", "relearn"), ())
    assert proto.relearn_recipe(tofu_config).lr == 1e-3  # the tiny model's rate
    nll = s.adapter.evaluate_losses(s.base, s.forget).double()
    assert likelihood(s.adapter, s.forget)(s.base) == pytest.approx(
        float(torch.exp(-nll).mean()))
    cell = CellSpec("tofu", tofu_config, "gradient_ascent", "full", 1.0, 0,
                    {"steps": 10, "batch_size": 8, "lr": 1e-3, "optimizer": "adamw"},
                    budget="steps")
    ga = unlearn(cell, s).model
    out = relearn_stage(proto, AttackInput(s, ga, "gradient_ascent"))
    curve = out.info["curve"]
    assert out.info["original"] > curve[0] and curve[-1] > curve[0]
    assert 0.0 < out.metrics["relearn_recovery"] <= 1.0
    q = quantize_stage(proto, AttackInput(s, ga, "gradient_ascent"))
    assert q.info["int4"] != q.info["unlearned"] and q.info["int8"] != q.info["unlearned"]
    assert all(v is None or 0.0 <= v <= 1.0 for v in q.metrics.values())
    assert relearn_stage(proto, AttackInput(s, s.base, "original")).metrics[
        "relearn_recovery"] is None


# ---- what the pages show ----------------------------------------------------------------------


def test_pages_say_nothing_removed_and_flag_relearning() -> None:
    from erasus_bench.leaderboards import text as tx
    from erasus_bench.leaderboards.attacks import add_flags

    row = {"seeds": [0, 1], "n_failed": 0, "attacks": ["quantize", "relearn"]}
    assert tx.fmt_cell(None, row, "relearn_recovery") == "nothing removed"
    assert tx.fmt_cell(None, row, "epsilon_score") == tx.MISSING  # that stage did not run
    assert tx.fmt_cell(None, {**row, "attacks": []}, "relearn_recovery") == tx.MISSING

    def cell(mean: float, lo: float, hi: float) -> dict:
        return {"relearn_recovery": {"mean": mean, "lo": lo, "hi": hi}}

    rows = [{"strategy": "retrain", "cells": cell(0.3, 0.2, 0.4), "verdict": None},
            {"strategy": "a", "cells": cell(0.7, 0.6, 0.8), "verdict": {"label": "PASS"}},
            {"strategy": "b", "cells": cell(0.7, 0.35, 0.9), "verdict": {"label": "PASS"}},
            {"strategy": "c", "cells": cell(0.7, 0.6, 0.8), "verdict": {"label": "FAIL"}},
            {"strategy": "d", "cells": cell(0.45, 0.41, 0.5), "verdict": {"label": "PASS"}}]
    add_flags(rows)
    assert [r["flags"] for r in rows] == [[], ["relearns"], [], [], []]
    assert tx.verdict_text({**rows[1], "verdict": {"label": "PASS"}}) == "PASS ⚑ relearns"
