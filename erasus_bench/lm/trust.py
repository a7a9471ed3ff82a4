"""The metric-trust pool of the LM protocols (``harness.trust``): their base/gold training
recipe as it is, at twice its learning rate, and stopped earlier."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from erasus_bench.errors import unknown_choice
from erasus_bench.lm.train import LMRecipe

POOL_RECIPES = ("base", "double_lr", "shorter")
TRUST_VARIANTS = tuple({"recipe": name} for name in POOL_RECIPES)


def pool_recipe(recipe: LMRecipe, variant: dict[str, Any]) -> LMRecipe:
    """``recipe`` changed by a pool ``variant``: ``shorter`` halves the epochs and, for a
    recipe that stops once memorised, stops at 10x its target NLL."""
    name = variant.get("recipe")
    if name == "base":
        return recipe
    if name == "double_lr":
        return replace(recipe, lr=2 * recipe.lr)
    if name == "shorter":
        return replace(recipe, epochs=max(1, recipe.epochs // 2),
                       target_nll=10 * recipe.target_nll)
    raise unknown_choice("metric-trust pool recipe", str(name), POOL_RECIPES)
