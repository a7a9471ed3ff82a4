"""TOFU's unlearning budget and the centres of each strategy's tuning search.

``BUDGET`` (steps, batch size) is the same for every method; ``HPARAMS`` holds the values around
which ``erasus-bench tune`` searches (lr x {1/3, 1, 3}, steps x {1/2, 1, 2}); the values ``run``
uses are the tuned ones in ``tuned.json`` beside this file, chosen by ``OBJECTIVE`` on seeds that
are never reported. Loss weights that differ from the open-unlearning defaults (SimNPO gamma,
RMU steering coefficient and alpha) are rescaled for a model with 128-dimensional activations,
where the Llama values freeze or destroy it.
"""
from __future__ import annotations

import math
from typing import Any

from erasus_bench.protocols.base import Objective

UTILITY_FLOOR = 0.9  # tuning keeps model utility >= 90% of the base (finetuned) model's

BUDGET: dict[str, int] = {"steps": 40, "batch_size": 16}

HPARAMS: dict[str, dict[str, Any]] = {
    "finetune": {"optimizer": "adam", "lr": 1e-3},
    "gradient_ascent": {"optimizer": "adam", "lr": 2e-4},
    "grad_diff": {"optimizer": "adam", "lr": 3e-4, "alpha": 0.5},
    "npo": {"optimizer": "adam", "lr": 2e-3},
    "simnpo": {"optimizer": "adam", "lr": 3e-3, "gamma": 1.0},
    "idk_dpo": {"optimizer": "adam", "lr": 3e-3},
    "rmu": {"optimizer": "adam", "lr": 3e-3, "steering_coeff": 20.0, "alpha": 1.0},
    # centres from a probe on tuning seed 1000 (full forget set, 40 steps, Adam; base forget
    # quality 1.2e-4, utility 0.708): WGA 3e-3 -> 0.48 at utility 0.71; SatImp 3e-3 -> 6e-4 at
    # 0.71 (1e-2: 0.18 at 0.38); CE-U, with no retain term, 1e-4 -> 1e-4 at 0.67 (3e-4: 0.70 at
    # 0.04); UNDIAL, no retain term, 3e-4 -> 1.7e-3 at 0.63 (1e-3: 0.035 at 0.60)
    "wga": {"optimizer": "adam", "lr": 3e-3},
    "satimp": {"optimizer": "adam", "lr": 3e-3},
    "ce_u": {"optimizer": "adam", "lr": 1e-4},
    "undial": {"optimizer": "adam", "lr": 3e-4},
    # open-unlearning's loss weights (DPO.yaml, PDU run.sh) with learning-rate centres from a
    # probe on tuning seed 1000 (full forget set, 40 steps, Adam; base forget quality 1.2e-4,
    # utility 0.707, retain NLL 0.008): AltPO 1e-3 -> 2.6e-6 at utility 0.71, 2e-3 -> 3.7e-4 at
    # 0.67, 3e-3 -> 0.05 at 0.61; IdkNLL 1e-4 -> 2.1e-4 at 0.68, 3e-4 -> 1.2e-4 at 0.56 (the
    # model answers "I don't know" to retain questions too), 1e-3 -> 2.8e-3 at 0.53
    "altpo": {"optimizer": "adam", "lr": 2e-3},
    "idk_nll": {"optimizer": "adam", "lr": 1e-4},
    # PDU: run.sh's TOFU multiplier (initial 100, dual step 5, warm-up half the run); its
    # retain bound 0.3 (for Llama) lowered to 0.1, still far above the tiny base's retain NLL
    # (its README: "somewhat above" it; 0.1 and 0.3 gave about the same). Probe: 3e-4 -> 0.011
    # at utility 0.62, 1e-3 -> 0.016 at 0.60 (initial multiplier 300: 0.016 at 0.63)
    "pdu": {"optimizer": "adam", "lr": 3e-4, "alpha": 100.0, "dual_step_size": 5.0,
            "retain_loss_eps": 0.1, "dual_warmup": 0.5},
}


def hparams_for(strategy: str, defaults: dict[str, Any]) -> dict[str, Any]:
    """``defaults`` overridden by the budget, then by the tuned values (keys the strategy
    accepts)."""
    tuned = {k: v for k, v in {**BUDGET, **HPARAMS.get(strategy, {})}.items() if k in defaults}
    return {**defaults, **tuned}


def _score(cells: list[dict[str, Any]], base: list[dict[str, Any]]) -> float:
    """Mean log10 forget quality when mean model utility is >= ``UTILITY_FLOOR`` x the base
    model's on the same seeds; otherwise below every trial that meets it, ordered by utility."""
    mu = sum(c["model_utility"] for c in cells) / len(cells)
    base_mu = sum(b["model_utility"] for b in base) / len(base)
    if mu < UTILITY_FLOOR * base_mu:
        return -1e6 + mu
    return sum(math.log10(max(c["forget_quality"], 1e-300)) for c in cells) / len(cells)


OBJECTIVE = Objective("maximise mean log10 forget quality subject to model utility >= 90% of "
                      "the finetuned model's (mean over tuning seeds and the random-10% and "
                      "full coresets; open-unlearning's convention of reporting forget quality "
                      "at retained utility)", _score)
