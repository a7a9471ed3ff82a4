"""Weighted reciprocal rank fusion (Cormack, Clarke & Buettcher, SIGIR 2009, "Reciprocal Rank
Fusion outperforms Condorcet and individual Rank Learning Methods") over other selectors."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from erasus_bench.methods.selectors.base import Selector, register_selector
from erasus_bench.methods.selectors.voting import MEMBERS
from erasus_bench.methods.task import SelectionContext
from erasus_bench.registry import SELECTORS

RRF_K = 60  # the paper's constant: damps the weight of the very top ranks


def reciprocal_rank_fusion(rankings: Sequence[np.ndarray], weights: Sequence[float], n: int,
                           c: int = RRF_K) -> np.ndarray:
    """Indices ordered by sum_m w_m / (c + rank_m(i)) (rank 1 = best), highest first; ties go
    to the lower index."""
    score = np.zeros(n)
    for r, w in zip(rankings, weights):
        score[np.asarray(r)] += w / (c + np.arange(1, n + 1))
    return np.lexsort((np.arange(n), -score)).astype(np.int64)


@register_selector("weighted_fusion", description="weighted reciprocal rank fusion over loss, "
                   "gradient_norm, influence, k_center and herding (Cormack et al. 2009)")
class WeightedFusion(Selector):
    """The ``k`` forget examples of highest weighted reciprocal-rank score over ``members``'
    full rankings (``weights`` one per member, default equal: RRF as published); unlike
    ``voting``'s Borda count, a member's top picks outweigh its middle. Its cost is every
    member's."""

    paper = "Cormack et al. 2009"
    uses_early_models = any(SELECTORS.get(m).uses_early_models for m in MEMBERS)

    def __init__(self, members: Sequence[str] = MEMBERS,
                 weights: Sequence[float] | None = None) -> None:
        self.members = tuple(members)
        self.weights = tuple(weights) if weights is not None else (1.0,) * len(self.members)

    def select(self, ctx: SelectionContext, k: int) -> np.ndarray:
        n = len(ctx.forget)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        if len(self.weights) != len(self.members):
            raise ValueError(f"weighted_fusion: {len(self.weights)} weights for "
                             f"{len(self.members)} members {self.members}")
        rankings = [SELECTORS.get(m)().rank(ctx) for m in self.members]
        return reciprocal_rank_fusion(rankings, self.weights, n)[:min(k, n)]
