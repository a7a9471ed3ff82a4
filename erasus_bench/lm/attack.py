"""The attack settings shared by the LM protocols (TOFU, MUSE, WMDP; harness.attacks)."""
from __future__ import annotations

from typing import Any

from erasus_bench.errors import UserError
from erasus_bench.harness.relearn import RelearnRecipe
from erasus_bench.lm.load import TINY

LM_STAGES = ("quantize", "relearn")
# open-unlearning's meta-evaluation relearns at lr 2e-5 (AdamW, no warm-up); the embedded tiny
# model was trained from random weights at 3e-3, and at 2e-5 an attack on it moves nothing
PRETRAINED_LR, TINY_LR = 2e-5, 1e-3


def lm_relearn_recipe(model: str) -> RelearnRecipe:
    """AdamW on the answer (or text) tokens of half A: 30 steps of 8, the curve every 5."""
    return RelearnRecipe("adamw", lr=TINY_LR if model == TINY else PRETRAINED_LR, steps=30,
                         batch_size=8, every=5)


class LMAttacks:
    """Relearning and quantization for a protocol whose gold is a model for every
    configuration (TOFU)."""

    attacks = LM_STAGES

    def relearn_recipe(self, config: dict[str, Any]) -> RelearnRecipe:
        return lm_relearn_recipe(config["model"])


class TinyModelAttacks(LMAttacks):
    """Relearning and quantization on the embedded tiny model only: with a pretrained model the
    reference row of MUSE and WMDP is a published or chance value, no model to attack."""

    def attack_stages(self, config: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return (self.attacks if config["model"] == TINY else ()), ()


def require_tiny(protocol: str, config: dict[str, Any]) -> None:
    """Refuse a metric-trust pool for a pretrained model of MUSE or WMDP (their pool models
    are the tiny model trained from scratch with and without the forget set)."""
    if config["model"] != TINY:
        raise UserError(f"{protocol}'s metric-trust pool needs the embedded tiny model "
                        f"(model={TINY}); got model={config['model']!r}")
