"""Attack stages run on a cell's model after its evaluation (issue [9]): relearning and
quantization for every protocol, and the protocol's own stages (``general``'s per-example
epsilon). Each reports recoveries (``metrics.recovery``) beside what they were computed from."""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from erasus_bench.errors import UserError, unknown_choice
from erasus_bench.metrics.recovery import recovery

if TYPE_CHECKING:
    from erasus_bench.methods.adapter import ModelAdapter
    from erasus_bench.methods.examples import Examples
    from erasus_bench.protocols.base import Protocol, Setting

RELEARN, QUANTIZE = "relearn", "quantize"
SPLIT_SALT = 9  # the forget set's halves: a generator seeded with (setting seed, SPLIT_SALT)


@dataclass
class AttackInput:
    """What a stage attacks: the cell's model (unlearned; base or gold for the reference rows),
    its setting and row, and ``rerun(i)``: the cell's model again from another unlearning seed
    ``i`` (the same coreset; None where the row cannot be rerun)."""

    setting: Setting
    model: nn.Module
    row: str
    rerun: Callable[[int], nn.Module] | None = None


@dataclass
class StageResult:
    """A stage's metrics (plain numbers or None) and what they came from (``attacks.<stage>``
    of the record: settings, reference values, curves)."""

    metrics: dict[str, float | None]
    info: dict[str, Any] = field(default_factory=dict)


def check_attacks(protocol: Protocol, config: dict[str, Any], names: Sequence[str] | None
                  ) -> tuple[str, ...]:
    """The stages to run on ``config``: ``names`` checked against the protocol's stages
    (sorted, no repeats; a UserError naming a bad one and the valid choices), or the
    protocol's default stages when ``names`` is None."""
    default, optional = protocol.attack_stages(config)
    if names is None:
        return tuple(sorted(default))
    valid = (*default, *optional)
    for name in names:
        if name not in valid:
            if not valid:
                raise UserError(f"protocol {protocol.name!r} offers no attack stage with "
                                f"model {config.get('model')!r}")
            raise unknown_choice(f"attack stage for protocol {protocol.name!r}", name, valid)
    return tuple(sorted(set(names)))


def halves(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint halves (A, B) of positions 0..n-1, fixed by ``seed``."""
    order = np.random.default_rng([seed, SPLIT_SALT]).permutation(n)
    return np.sort(order[:n // 2]), np.sort(order[n // 2:])


def likelihood(adapter: ModelAdapter, examples: Examples) -> Callable[[nn.Module], float]:
    """The attack metric on ``examples``: mean exp(-per-example loss), i.e. the true-class
    probability of a classifier, the length-normalised answer probability of an LM."""

    def metric(model: nn.Module) -> float:
        losses = adapter.evaluate_losses(model, examples).double()
        return float(torch.exp(-losses).mean())

    return metric


def _memo(setting: Setting, key: str, compute: Callable[[], float]) -> float:
    """A per-setting value (the original model's attack metric) computed once per process."""
    memo = setting.extra.setdefault("_attack_memo", {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def relearn_stage(protocol: Protocol, inp: AttackInput) -> StageResult:
    """Fine-tune on half A of the forget set with the protocol's recipe; ``relearn_recovery``
    of the attack metric on half B at the last step, the curve at every checkpoint."""
    from erasus_bench.harness.relearn import relearn_curve

    s = inp.setting
    recipe = protocol.relearn_recipe(s.config)
    a, b = halves(len(s.forget), s.seed)
    metric = likelihood(s.adapter, s.forget.subset(b))
    original = _memo(s, "relearn_original", lambda: metric(s.base))
    curve = relearn_curve(inp.model, s.adapter, s.forget.subset(a), metric, recipe, s.seed)
    return StageResult({"relearn_recovery": recovery(original, curve[0], curve[-1])}, {
        "settings": {**recipe.settings(), "half_a": len(a), "half_b": len(b),
                     "split": f"numpy default_rng([seed, {SPLIT_SALT}]) permutation"},
        "metric": protocol.attack_metric, "original": original, "steps": recipe.checkpoints(),
        "curve": curve})


def quantize_stage(protocol: Protocol, inp: AttackInput) -> StageResult:
    """Reload the model with int4 and int8 weights; ``quant_recovery`` (4 bits) and
    ``quant8_recovery`` of the attack metric on the whole forget set."""
    from erasus_bench.harness.quantize import quantized, scheme

    s = inp.setting
    metric = likelihood(s.adapter, s.forget)
    original = _memo(s, "quantize_original", lambda: metric(s.base))
    unlearned = metric(inp.model)
    q4, q8 = (metric(quantized(inp.model, bits)) for bits in (4, 8))
    return StageResult({"quant_recovery": recovery(original, unlearned, q4),
                        "quant8_recovery": recovery(original, unlearned, q8)}, {
        "settings": {"int4": scheme(4), "int8": scheme(8)}, "metric": protocol.attack_metric,
        "original": original, "unlearned": unlearned, "int4": q4, "int8": q8})


STAGES: dict[str, Callable[[Protocol, AttackInput], StageResult]] = {
    RELEARN: relearn_stage, QUANTIZE: quantize_stage}


def run_attacks(protocol: Protocol, stages: Sequence[str], inp: AttackInput
                ) -> tuple[dict[str, float | None], dict[str, Any], dict[str, float]]:
    """Run ``stages`` on ``inp``: their metrics, ``{stage: info}``, and each stage's wall
    time as ``attack_<stage>_s``."""
    metrics: dict[str, float | None] = {}
    infos: dict[str, Any] = {}
    timings: dict[str, float] = {}
    for name in stages:
        start = time.perf_counter()
        run = STAGES.get(name)
        result = run(protocol, inp) if run else protocol.attack(name, inp)
        timings[f"attack_{name}_s"] = time.perf_counter() - start
        metrics.update(result.metrics)
        infos[name] = result.info
    return metrics, infos, timings
