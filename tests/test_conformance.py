"""One conformance suite over every registered strategy and selector (cf. sklearn's
check_estimator): deterministic under a seed, honours the coreset, leaves base and gold models
untouched, finite outputs, records its cost; selectors return k distinct valid indices."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from erasus_bench.harness.runner import RunContext, all_finite, run_cell, unlearn
from erasus_bench.harness.spec import CellSpec
from erasus_bench.methods.selectors.base import Selector, register_selector
from erasus_bench.methods.task import SelectionContext
from erasus_bench.registry import SELECTORS, STRATEGIES, load_plugins

load_plugins()
STRATEGY_NAMES = [e.name for e in STRATEGIES.entries() if "classifier" in e.applies_to]
SELECTOR_NAMES = [e.name for e in SELECTORS.entries() if "classifier" in e.applies_to]
FIRST_K = "_conformance_first_k"


@register_selector(FIRST_K, description="test-only: the first k forget samples")
class FirstK(Selector):
    def select(self, ctx: SelectionContext, k: int) -> np.ndarray:
        return np.arange(min(k, len(ctx.forget)))


def state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def cell(config: dict, strategy: str, selector: str, fraction: float = 0.2) -> CellSpec:
    from erasus_bench.protocols.general.protocol import GeneralProtocol

    hp = GeneralProtocol().hparams(strategy, STRATEGIES.get(strategy).default_hparams())
    return CellSpec("general", config, strategy, selector, fraction, 0, hp)


@pytest.mark.parametrize("strategy", STRATEGY_NAMES)
def test_strategy_conformance(strategy: str, general_setting, general_config: dict,
                              tmp_path: Path) -> None:
    setting = general_setting
    base0, gold0 = state(setting.base), state(setting.gold)
    spec = cell(general_config, strategy, FIRST_K)
    model1, coreset, _, _ = unlearn(spec, setting)
    model2, _, _, _ = unlearn(spec, setting)
    # deterministic under a seed
    assert same(state(model1), state(model2)), "two runs with one seed differ"
    # leaves the base and gold models untouched (weights and trainability)
    assert same(state(setting.base), base0) and same(state(setting.gold), gold0)
    assert all(p.requires_grad for p in setting.base.parameters())
    # finite outputs
    assert all_finite(model1)
    # honours the coreset: corrupting every forget sample outside it changes nothing
    k = len(coreset)
    poisoned = copy.copy(setting)
    x = setting.forget.tensors["x"].clone()
    x[k:] = float("nan")
    poisoned.forget = type(setting.forget)({"x": x, "y": setting.forget.tensors["y"]})
    model3, _, _, _ = unlearn(spec, poisoned)
    assert same(state(model3), state(model1)), "strategy used forget samples outside the coreset"
    # records its cost: a record with timings and an unlearning time
    outcome = run_cell(spec, RunContext(str(tmp_path), "", "test"))
    record = json.loads(Path(outcome.path).read_text())
    assert record["status"] == "ok", record["error"]
    assert record["timings"]["unlearn_s"] > 0 and record["metrics"]["unlearn_time"] > 0
    assert set(record["timings"]) == {"select_s", "unlearn_s", "evaluate_s"}
    assert all(np.isfinite(v) for v in record["metrics"].values() if v is not None)


@pytest.mark.parametrize("selector", SELECTOR_NAMES)
def test_selector_conformance(selector: str, general_setting) -> None:
    s = general_setting
    before = state(s.base)
    flags = [p.requires_grad for p in s.base.parameters()]
    training = s.base.training
    n = len(s.forget)
    for k in (1, 7, n):
        ctx = SelectionContext(s.base, s.forget, s.adapter, 3, s.num_classes)
        idx = SELECTORS.get(selector)().select(ctx, k)
        again = SELECTORS.get(selector)().select(ctx, k)
        idx = np.asarray(idx)
        assert np.issubdtype(idx.dtype, np.integer)
        expected = n if selector == "full" else k
        assert len(idx) == expected and len(np.unique(idx)) == expected
        assert idx.min() >= 0 and idx.max() < n
        assert np.array_equal(idx, np.asarray(again)), "not deterministic under a seed"
    assert same(state(s.base), before)
    assert [p.requires_grad for p in s.base.parameters()] == flags
    assert s.base.training == training
    assert all(p.grad is None for p in s.base.parameters())


def test_suite_covers_every_builtin() -> None:
    assert len(STRATEGY_NAMES) >= 10 and len(SELECTOR_NAMES) >= 8
