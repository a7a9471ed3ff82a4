"""The metric-trust cells (issue [9], ``metrics.trust``): pool models that saw the forget set
or did not (faithfulness), and unlearned and retrained models measured before and after
relearning and 4-bit quantization (robustness). Each is one record under
``<variant>/trust/``; the summary turns them into the page's "which metrics to trust" table."""
from __future__ import annotations

import time
from typing import Any

from torch import nn

from erasus_bench.harness.attacks import likelihood
from erasus_bench.harness.quantize import quantized
from erasus_bench.harness.relearn import relearned
from erasus_bench.harness.spec import CellSpec
from erasus_bench.protocols.base import Protocol, Setting

POOL, ROBUSTNESS = "pool", "robustness"
SAW, UNSEEN = "trust_saw", "trust_unseen"  # pool rows: trained with / without the forget set
LIKELIHOOD = "forget_likelihood"  # the attack metric on the whole forget set
# where a pool model's training values come from (its record's ``hparams_source``)
POOL_SOURCE = {"source": "paper", "ref": "open-unlearning's meta-evaluation (arXiv 2506.12618): "
               "models trained with and without the forget set under varied learning "
               "rates and epochs; here the protocol's base/gold training recipe and its "
               "trust_variants"}


def trust_cells(protocol: Protocol, config: dict[str, Any], seeds: int,
                strategies: list[str]) -> list[CellSpec]:
    """Every pool model of ``seeds`` seeds (each of the protocol's ``trust_variants`` with and
    without the forget set), then the retrain row and each strategy on the full forget set
    (steps regime, reported hyperparameters) for robustness."""
    cells = [CellSpec(protocol.name, config, role, None, None, seed, dict(variant),
                      hparams_source=POOL_SOURCE, trust=POOL)
             for seed in range(seeds) for variant in protocol.trust_variants
             for role in (SAW, UNSEEN)]
    for seed in range(seeds):
        cells.append(CellSpec(protocol.name, config, "retrain", None, None, seed,
                              trust=ROBUSTNESS))
        for strategy in strategies:
            hp, source = protocol.resolved_hparams(strategy, config, "steps")
            cells.append(CellSpec(protocol.name, config, strategy, "full", 1.0, seed, hp,
                                  source, "steps", trust=ROBUSTNESS))
    return cells


def measure(protocol: Protocol, setting: Setting, model: nn.Module) -> dict[str, float]:
    """The metrics the table judges: the protocol's ``knowledge`` metrics and the attack
    metric on the whole forget set."""
    ev = protocol.evaluate(setting, model, None).metrics
    out = {k: ev[k] for k in protocol.knowledge if ev.get(k) is not None}
    out[LIKELIHOOD] = likelihood(setting.adapter, setting.forget)(model)
    return out


def run_trust(spec: CellSpec, setting: Setting, protocol: Protocol,
              model: nn.Module | None) -> tuple[dict[str, float], dict[str, Any]]:
    """(metrics, the record's ``trust`` block) of one trust cell; ``model``: the cell's
    unlearned (or retrained) model for a robustness cell, None for a pool cell."""
    if spec.trust == POOL:
        start = time.perf_counter()
        pool = protocol.trust_model(setting, spec.strategy == SAW, spec.hparams)
        return measure(protocol, setting, pool), {"role": spec.trust, "knowledge": signs(
            protocol), "train_s": time.perf_counter() - start}
    assert model is not None
    recipe = protocol.relearn_recipe(setting.config)
    attacked = relearned(model, setting.adapter, setting.forget, recipe, setting.seed)
    return measure(protocol, setting, model), {
        "role": spec.trust, "knowledge": signs(protocol),
        "relearn": measure(protocol, setting, attacked),
        "quantize": measure(protocol, setting, quantized(model, 4)),
        "settings": {"relearn": {**recipe.settings(), "data": "the whole forget set"},
                     "quantize": "int4, groups of 32 (harness.quantize)"}}


def signs(protocol: Protocol) -> dict[str, int]:
    """Each judged metric's orientation (+1: higher is more knowledge of the forget set)."""
    return {**protocol.knowledge, LIKELIHOOD: 1}
