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
