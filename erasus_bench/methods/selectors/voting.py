"""Rank aggregation by Borda count (de Borda 1781; rank aggregation of coreset scores, cf.
Dwork et al., WWW 2001, "Rank Aggregation Methods for the Web") over other selectors."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from erasus_bench.methods.selectors.base import Selector, register_selector
from erasus_bench.methods.task import SelectionContext
from erasus_bench.registry import SELECTORS

# the informed selectors that apply to every protocol (random is the control, not a voter)
MEMBERS = ("loss", "gradient_norm", "influence", "k_center", "herding")


def borda(rankings: Sequence[np.ndarray], n: int) -> np.ndarray:
    """Indices ordered by mean position over ``rankings`` (each a permutation of 0..n-1, best
    first); ties go to the lower index."""
    position = np.zeros(n)
    for r in rankings:
        position[np.asarray(r)] += np.arange(n)
    return np.lexsort((np.arange(n), position)).astype(np.int64)


@register_selector("voting", description="Borda count over the rankings of loss, "
                   "gradient_norm, influence, k_center and herding")
class Voting(Selector):
    """The ``k`` forget examples of best mean rank over ``members``' full rankings; its cost
    is every member's."""

    paper = "Borda; Dwork et al. 2001"

    uses_early_models = any(SELECTORS.get(m).uses_early_models for m in MEMBERS)

    def __init__(self, members: Sequence[str] = MEMBERS) -> None:
        self.members = tuple(members)

    def select(self, ctx: SelectionContext, k: int) -> np.ndarray:
        n = len(ctx.forget)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        rankings = [SELECTORS.get(m)().rank(ctx) for m in self.members]
        return borda(rankings, n)[:min(k, n)]
