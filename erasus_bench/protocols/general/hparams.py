"""One place for the general protocol's defaults; the same step budget for every iterative method.

``BUDGET`` is given to every strategy that takes ``steps``/``batch_size``; ``HPARAMS`` holds the
per-strategy values tuned once on digits + MLP (seeds 0-2; random-10% and class-0 forget sets;
random coresets of 10% and 100%), one setting per strategy for both scenarios. Where it differs
from a paper's optimizer, the reason is the base model: trained with Adam to near-zero loss, its
gradients vanish, so SGD-based ascent either stalls or, once it moves, diverges within the budget.
"""
from __future__ import annotations

from typing import Any

BUDGET: dict[str, int] = {"steps": 150, "batch_size": 64}

HPARAMS: dict[str, dict[str, Any]] = {
    "finetune": {"optimizer": "adam", "lr": 1e-2},
    "gradient_ascent": {"optimizer": "adam", "lr": 5e-5},
    "grad_diff": {"optimizer": "adam", "lr": 1e-4, "alpha": 0.95},
    "random_label": {"optimizer": "sgd", "lr": 1e-3, "retain_weight": 10.0},
    "l1_sparse": {"optimizer": "sgd", "lr": 0.1, "gamma": 1e-3},
    "salun": {"optimizer": "sgd", "lr": 1e-3, "retain_weight": 10.0, "mask_ratio": 0.5},
    "scrub": {"optimizer": "sgd", "lr": 1e-2, "alpha": 0.001, "gamma": 0.99, "temperature": 4.0,
              "msteps": 4},
    "bad_teacher": {"optimizer": "adam", "lr": 1e-3, "temperature": 4.0},
    "fisher_forgetting": {"alpha": 1e-9, "max_var": 0.03},
    "ssd": {"alpha": 4.0, "lam": 0.25},
}


def hparams_for(strategy: str, defaults: dict[str, Any]) -> dict[str, Any]:
    """``defaults`` overridden by the budget (only keys the strategy accepts), then by the
    strategy's tuned values."""
    budget = {k: v for k, v in BUDGET.items() if k in defaults}
    return {**defaults, **budget, **HPARAMS.get(strategy, {})}
