"""MUSE's unlearning budget and hyperparameters, per model kind.

Pretrained models: MUSE's scripts (``baselines/scripts/unlearn_news.sh``): AdamW lr 1e-5, batch 4
per device, and task vector alpha 5; the budget here is counted in optimizer steps (150) rather
than MUSE's 10 epochs over 2048-token chunks. The embedded tiny model: one budget for every
method, learning rates tuned by ``erasus-bench tune`` on seed 1000 (``tuned.json`` beside
this file, objective ``OBJECTIVE``) around the centres below.
"""
from __future__ import annotations

from typing import Any

from erasus_bench.protocols.base import Objective

TINY_BUDGET: dict[str, int] = {"steps": 40, "batch_size": 8}
TINY_HPARAMS: dict[str, dict[str, Any]] = {
    "finetune": {"optimizer": "adam", "lr": 1e-3},
    "gradient_ascent": {"optimizer": "adam", "lr": 1e-4},
    # MUSE's GD (ga_gdr): forget and retain losses weighted equally (0.5 each here)
    "grad_diff": {"optimizer": "adam", "lr": 3e-4, "alpha": 0.5},
    "npo": {"optimizer": "adam", "lr": 3e-4},
    "simnpo": {"optimizer": "adam", "lr": 1e-3, "gamma": 1.0},
    "rmu": {"optimizer": "adam", "lr": 1e-3, "layer": 1, "steering_coeff": 100.0,
            "alpha": 10.0},
    "task_vector": {"optimizer": "adam", "lr": 1e-3, "alpha": 1.0},
    # open-unlearning's token-weighted / distillation objectives: TOFU's centres (from a probe
    # on its tuning seed) scaled by this protocol's ratio of NPO centres (wga, satimp: forget
    # terms that saturate like NPO's) or gradient-ascent centres (ce_u, undial: unbounded)
    "wga": {"optimizer": "adam", "lr": 5e-4},
    "satimp": {"optimizer": "adam", "lr": 5e-4},
    "ce_u": {"optimizer": "adam", "lr": 5e-5},
    "undial": {"optimizer": "adam", "lr": 1.5e-4},
    # PDU: open-unlearning's MUSE multiplier (community/methods/PDU/run.sh: initial 50, dual
    # step 1, warm-up 3 of 10 epochs) at NPO's lr; its retain bound (1.5 for Llama-2-7B on
    # News) set a little above the tiny target's retain NLL (0.074 on seed 0), as its README
    # asks. Not probed for forgetting metrics; on seed 0 forget NLL 0.08 -> 3.6, retain -> 0.27
    "pdu": {"optimizer": "adam", "lr": 3e-4, "alpha": 50.0, "dual_step_size": 1.0,
            "retain_loss_eps": 0.2, "dual_warmup": 0.3},
}

PRETRAINED_BUDGET: dict[str, int] = {"steps": 150, "batch_size": 4}
PRETRAINED_HPARAMS: dict[str, dict[str, Any]] = {
    **{s: {"optimizer": "adamw", "lr": 1e-5} for s in
       ("finetune", "gradient_ascent", "npo", "simnpo", "rmu", "wga", "satimp", "ce_u",
        "undial")},
    "grad_diff": {"optimizer": "adamw", "lr": 1e-5, "alpha": 0.5},
    "task_vector": {"optimizer": "adamw", "lr": 1e-5, "alpha": 5.0},
    # open-unlearning's PDU run on MUSE-News with Llama-2-7B (community/methods/PDU/run.sh)
    "pdu": {"optimizer": "adamw", "lr": 1e-5, "alpha": 50.0, "dual_step_size": 1.0,
            "retain_loss_eps": 1.5, "dual_warmup": 0.3},
}


def hparams_for(strategy: str, defaults: dict[str, Any], tiny: bool) -> dict[str, Any]:
    """``defaults`` overridden by the budget and the values of ``strategy`` for the tiny model
    or a pretrained one (keys the strategy accepts)."""
    budget, table = (TINY_BUDGET, TINY_HPARAMS) if tiny else (PRETRAINED_BUDGET,
                                                              PRETRAINED_HPARAMS)
    chosen = {k: v for k, v in {**budget, **table.get(strategy, {})}.items() if k in defaults}
    return {**defaults, **chosen}


UTILITY_FLOOR = 0.9  # tuning keeps KnowMem on retain >= 90% of the target model's


def _score(cells: list[dict[str, Any]], base: list[dict[str, Any]]) -> float:
    """Minus the mean of VerbMem and KnowMem on the forget set when KnowMem on retain is >=
    ``UTILITY_FLOOR`` x the target model's; otherwise below every trial that meets it."""
    kept = sum(c["knowmem_r"] for c in cells) / len(cells)
    base_kept = sum(b["knowmem_r"] for b in base) / len(base)
    if kept < UTILITY_FLOOR * base_kept:
        return -1e6 + kept
    return -sum(c["verbmem_f"] + c["knowmem_f"] for c in cells) / (2 * len(cells))


OBJECTIVE = Objective("minimise the mean of VerbMem and KnowMem on the forget set subject to "
                      "KnowMem on retain >= 90% of the target model's (mean over tuning seeds "
                      "and the random-10% and full coresets)", _score)
