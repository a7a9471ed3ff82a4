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

from erasus_bench.harness import runner
from erasus_bench.harness.budget import build_strategy, for_budget, is_iterative
from erasus_bench.harness.runner import RunContext, all_finite, run_cell, unlearn
from erasus_bench.harness.spec import CellSpec
from erasus_bench.methods.examples import Examples
from erasus_bench.methods.selectors.base import Selector, register_selector
from erasus_bench.methods.strategies.base import Strategy
from erasus_bench.methods.task import SelectionContext
from erasus_bench.registry import PROTOCOLS, SELECTORS, STRATEGIES, load_plugins

load_plugins()
# every registered strategy/selector, on the protocol of each modality it applies to
PROTOCOL_OF = {"classifier": "general", "causal_lm": "tofu", "lm_corpus": "wmdp-bio"}
STRATEGY_CASES = [(e.name, PROTOCOL_OF[m]) for e in STRATEGIES.entries() for m in e.applies_to]
SELECTOR_CASES = [(e.name, PROTOCOL_OF[m]) for e in SELECTORS.entries() for m in e.applies_to
                  if not e.name.startswith("_")]
FIRST_K = "_conformance_first_k"
# exact methods that retrain part of the model (SISA's shards): optimizer steps without a step
# budget
RETRAINING_CASES = {"sisa"}
LM_STEPS = 5  # enough to move an LM; the properties checked do not depend on the budget


@register_selector(FIRST_K, description="test-only: the first k forget samples")
class FirstK(Selector):
    def select(self, ctx: SelectionContext, k: int) -> np.ndarray:
        return np.arange(min(k, len(ctx.forget)))


def state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def cell(protocol: str, config: dict, strategy: str, selector: str, fraction: float = 0.2
         ) -> CellSpec:
    hp = PROTOCOLS.get(protocol)().strategy_hparams(strategy, None, "steps")
    if protocol != "general":
        hp["steps"] = LM_STEPS
    return CellSpec(protocol, config, strategy, selector, fraction, 0, hp)


def poisoned(examples: Examples, k: int) -> Examples:
    """``examples`` with every sample from position ``k`` on corrupted: features NaN, token ids
    and their labels shifted by one (masks kept)."""
    out = {}
    for key, t in examples.tensors.items():
        t = t.clone()
        if t.is_floating_point():
            t[k:] = float("nan")
        elif "input_ids" in key or "labels" in key:
            tail = t[k:]
            t[k:] = torch.where(tail >= 0, (tail + 1) % (int(t.max()) + 1), tail)
        out[key] = t
    return Examples(out)


@pytest.fixture
def protocol_setting(request: pytest.FixtureRequest):
    """(setting, config) of the protocol named by the test's ``protocol`` parameter."""
    name = request.node.callspec.params["protocol"]
    fixture = name.replace("-", "_")
    return (request.getfixturevalue(f"{fixture}_setting"),
            request.getfixturevalue(f"{fixture}_config"))


@pytest.mark.parametrize(("strategy", "protocol"), STRATEGY_CASES)
def test_strategy_conformance(strategy: str, protocol: str, protocol_setting,
                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    setting, config = protocol_setting
    base0, gold0 = state(setting.base), state(setting.gold)
    spec = cell(protocol, config, strategy, FIRST_K)
    first = unlearn(spec, setting)
    model1, coreset = first.model, first.coreset
    model2 = unlearn(spec, setting).model
    # deterministic under a seed
    assert same(state(model1), state(model2)), "two runs with one seed differ"
    # leaves the base and gold models untouched (weights and trainability)
    assert same(state(setting.base), base0) and same(state(setting.gold), gold0)
    assert all(p.requires_grad for p in setting.base.parameters())
    # finite outputs
    assert all_finite(model1)
    # actually changes the model
    assert not same(state(model1), base0), "the unlearned model equals the original"
    # honours the coreset: corrupting every forget sample outside it changes nothing
    bad = copy.copy(setting)
    bad.forget = poisoned(setting.forget, len(coreset))
    if STRATEGIES.get(strategy).reads_training_set:
        # D = retain + the whole forget set is part of the method (SSD's importances): only
        # what it forgets must come from the coreset, so D keeps the clean forget set
        real = runner.UnlearnTask
        monkeypatch.setattr(runner, "UnlearnTask",
                            lambda **kw: real(**{**kw, "full_forget": setting.forget}))
    model3 = unlearn(spec, bad).model
    assert same(state(model3), state(model1)), "strategy used forget samples outside the coreset"
    # records its cost: a record with timings and an unlearning time
    outcome = run_cell(spec, RunContext(str(tmp_path), "", "test"))
    record = json.loads(Path(outcome.path).read_text())
    assert record["status"] == "ok", record["error"]
    assert record["timings"]["unlearn_s"] > 0 and record["metrics"]["unlearn_time"] > 0
    assert {"select_s", "unlearn_s", "evaluate_s"} <= set(record["timings"])
    # what a method reports of its run is finite; a certified method reports its certificate
    assert all(np.isfinite(v) for v in record.get("method_report", {}).values())
    if STRATEGIES.get(strategy).guarantee == "certified":
        assert record["method_report"]["residual_bound"] > 0
    cost = record["cost"]
    assert cost["examples"] > 0 and cost["forward_passes"] >= cost["examples"]
    assert cost["backward_passes"] > 0, "no gradient reached the model"
    if "steps" in spec.hparams:
        assert cost["optimizer_steps"] == spec.hparams["steps"]
    else:
        assert (cost["optimizer_steps"] > 0) == (strategy in RETRAINING_CASES)
    assert all(np.isfinite(v) for v in record["metrics"].values() if v is not None)


@pytest.mark.parametrize(("selector", "protocol"), SELECTOR_CASES)
def test_selector_conformance(selector: str, protocol: str, protocol_setting) -> None:
    s, _ = protocol_setting
    before = state(s.base)
    flags = [p.requires_grad for p in s.base.parameters()]
    training = s.base.training
    n = len(s.forget)
    ranking = None
    for k in (n, 1, 7):
        ctx = SelectionContext(s.base, s.forget, s.adapter, 3, s.num_classes, s.early_models,
                               training_run=s.training_run)
        idx = SELECTORS.get(selector)().select(ctx, k)
        ranking = np.asarray(idx) if ranking is None else ranking
        if selector != "full":  # rank aggregation reads select(ctx, n) as the ranking
            assert np.array_equal(idx, ranking[:k]), "select(k) is not the head of its ranking"
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
    lm_strategies = {s for s, p in STRATEGY_CASES if p == "tofu"}
    lm_selectors = {s for s, p in SELECTOR_CASES if p == "tofu"}
    assert {"gradient_ascent", "grad_diff", "npo", "simnpo", "idk_dpo", "idk_nll", "altpo",
            "pdu", "rmu", "finetune"} <= lm_strategies
    assert {"full", "random", "loss", "gradient_norm", "influence", "k_center",
            "herding"} <= lm_selectors
    assert sum(p == "general" for _, p in STRATEGY_CASES) >= 10
    assert sum(p == "general" for _, p in SELECTOR_CASES) >= 8
    corpus_strategies = {s for s, p in STRATEGY_CASES if p == "wmdp-bio"}
    assert {"gradient_ascent", "grad_diff", "npo", "simnpo", "rmu", "finetune", "task_vector",
            "wga", "satimp", "ce_u", "undial", "pdu", "pipeline", "ensemble",
            "auto"} == corpus_strategies  # idk_*, altpo: Q and A
    assert {s for s, p in SELECTOR_CASES if p == "wmdp-bio"} == lm_selectors


EFFECTIVE_CASES = [s for s, p in STRATEGY_CASES
                   if p == "general" and STRATEGIES.get(s).uses_forget]


@pytest.fixture(scope="module")
def class_tuning_setting(cache_dir: str):
    """The class scenario on the first tuning seed (never reported) and its config."""
    from erasus_bench.harness.runner import get_setting
    from erasus_bench.protocols.tuned import TUNING_SEED_BASE

    config = PROTOCOLS.get("general")().resolve_config({"scenario": "class"})
    return get_setting("general", config, TUNING_SEED_BASE, cache_dir), config


@pytest.mark.parametrize("strategy", EFFECTIVE_CASES)
def test_strategy_forgets_half_way_to_gold(strategy: str, class_tuning_setting) -> None:
    """No silent no-ops: with the full forget set and its protocol hyperparameters, every
    strategy that reads the forget set brings forget accuracy at least half way from the
    original's to the retrained model's, on a tuning seed of the class scenario."""
    setting, config = class_tuning_setting
    protocol = PROTOCOLS.get("general")()
    hp, _ = protocol.resolved_hparams(strategy, config)
    spec = CellSpec("general", config, strategy, "full", 1.0, setting.seed, hp)
    model = unlearn(spec, setting).model
    acc = protocol.evaluate(setting, model, 1.0).metrics["forget_acc"]
    original = protocol.evaluate(setting, setting.base, 1.0).metrics["forget_acc"]
    gold = setting.gold_eval.metrics["forget_acc"]
    assert acc <= (original + gold) / 2, (
        f"{strategy}: forget accuracy {acc:.3f}, original {original:.3f}, gold {gold:.3f}")


def test_forget_free_strategies_are_declared() -> None:
    assert {s for s, p in STRATEGY_CASES if p == "general"} - set(EFFECTIVE_CASES) == \
        {"finetune", "l1_sparse"}
    assert all(STRATEGIES.get(s).coreset_invariant for s in ("finetune", "l1_sparse"))


INVARIANT_CASES = [(s, p, scenario) for s, p in STRATEGY_CASES
                   if STRATEGIES.get(s).coreset_invariant
                   for scenario in (("random", "class") if p == "general" else (None,))]


@pytest.mark.parametrize(("strategy", "protocol", "scenario"), INVARIANT_CASES)
def test_coreset_invariant_strategies_ignore_the_coreset(
        strategy: str, protocol: str, scenario: str | None, request: pytest.FixtureRequest
) -> None:
    """A strategy declared coreset-invariant (run once per seed, with the ``full`` selector)
    gives the same model with a random 10% coreset as with the whole forget set."""
    if scenario == "class":
        setting, config = request.getfixturevalue("class_tuning_setting")
    else:
        setting = request.getfixturevalue(f"{protocol.replace('-', '_')}_setting")
        config = request.getfixturevalue(f"{protocol.replace('-', '_')}_config")
    small, whole = (unlearn(cell(protocol, config, strategy, sel, frac), setting)
                    for sel, frac in (("random", 0.1), ("full", 1.0)))
    assert len(small.coreset) < len(whole.coreset)
    assert same(state(small.model), state(whole.model)), f"{strategy} depends on its coreset"


EPOCHS_CASES = [(s, p) for s, p in STRATEGY_CASES
                if is_iterative(STRATEGIES.get(s)) and not STRATEGIES.get(s).coreset_invariant]


@pytest.mark.parametrize(("strategy", "protocol"), EPOCHS_CASES)
def test_epochs_budget_counts_passes_over_the_coreset(strategy: str, protocol: str,
                                                      protocol_setting) -> None:
    """The epochs regime: the step count is the strategy's ``steps_for_epochs`` of its coreset
    (recorded as optimizer steps), and a smaller coreset never takes more steps."""
    setting, config = protocol_setting
    hp = for_budget(cell(protocol, config, strategy, "random").hparams, "epochs", 1)
    steps = {}
    for fraction in (0.1, 1.0):
        spec = CellSpec(protocol, config, strategy, "random", fraction, 0, hp, None, "epochs")
        done = unlearn(spec, setting)
        cls = STRATEGIES.get(strategy)
        task = runner.UnlearnTask(model=setting.base, original=setting.base,
                                  forget=setting.forget.subset(np.array(done.coreset)),
                                  retain=setting.retain, adapter=setting.adapter, seed=0,
                                  num_classes=setting.num_classes)
        expected = build_strategy(cls, hp, "epochs", task).steps
        assert done.cost["optimizer_steps"] == expected
        steps[fraction] = expected
    assert 1 <= steps[0.1] <= steps[1.0]
    if STRATEGIES.get(strategy).steps_for_epochs is Strategy.steps_for_epochs and \
            steps[1.0] > 1:  # (the test LM forget set is a single batch)
        assert steps[0.1] < steps[1.0], "one pass over 10% of the forget set is not cheaper"
