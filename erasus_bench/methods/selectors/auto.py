"""``auto``: a selector chosen by a documented rule from the modality and the forget set's size
(the design's ``auto``)."""
from __future__ import annotations

import numpy as np

from erasus_bench.methods.selectors.base import Selector, register_selector
from erasus_bench.methods.task import SelectionContext
from erasus_bench.registry import SELECTORS

# classifiers: the examples the model finds hardest to move (largest loss gradient, as
# gradient-based coreset work does: Paul et al. 2021's GraNd at the trained model); language
# models: coverage of the forget set's embeddings (k-center, Sener & Savarese 2018), which
# needs no per-token gradient
BY_MODALITY = {"classifier": "gradient_norm", "causal_lm": "k_center", "lm_corpus": "k_center"}
# below this many forget examples a 10% coreset holds 1-3 of them: scoring buys nothing, the
# free random draw is taken
SMALL_FORGET = 32


def choose(modality: str, n: int) -> str:
    """The rule: ``random`` for a forget set of fewer than ``SMALL_FORGET`` examples, else the
    modality's choice."""
    return "random" if n < SMALL_FORGET else BY_MODALITY[modality]


@register_selector("auto", description="gradient_norm (classifiers) or k_center (LMs); random "
                   "for a forget set under 32 examples")
class Auto(Selector):
    """Delegates to the selector ``choose`` names for the adapter's modality and the forget
    set's size (never the coreset's, so ``select(k)`` is the head of one ranking)."""

    paper = "design: auto"

    def _chosen(self, ctx: SelectionContext) -> Selector:
        return SELECTORS.get(choose(ctx.adapter.modality, len(ctx.forget)))()

    def select(self, ctx: SelectionContext, k: int) -> np.ndarray:
        return self._chosen(ctx).select(ctx, k)

    def rank(self, ctx: SelectionContext) -> np.ndarray:
        return self._chosen(ctx).rank(ctx)
