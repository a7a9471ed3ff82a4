"""Submodular facility location on penultimate embeddings, maximised greedily (the coreset
objective of CRAIG, Mirzasoleiman, Bilmes & Leskovec, ICML 2020; greedy's (1 - 1/e) bound:
Nemhauser, Wolsey & Fisher 1978)."""
from __future__ import annotations

import numpy as np

from erasus_bench.methods.selectors.base import Selector, register_selector
from erasus_bench.methods.task import SelectionContext


def similarities(emb: np.ndarray) -> np.ndarray:
    """s(i, j) = d_max - ||e_i - e_j|| (CRAIG's similarity: non-negative, d_max the largest
    pairwise distance), float64 [N, N]."""
    sq = (emb ** 2).sum(1)
    d = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * emb @ emb.T, 0.0))
    np.fill_diagonal(d, 0.0)
    return d.max() - d


def facility_value(sim: np.ndarray, chosen: list[int] | np.ndarray) -> float:
    """F(S) = sum_i max_{j in S} s(i, j) (0 for the empty set)."""
    return float(sim[:, list(chosen)].max(1).sum()) if len(chosen) else 0.0


def greedy_facility_location(sim: np.ndarray, k: int) -> np.ndarray:
    """Greedy maximisation of F: each step adds the point of largest marginal gain (ties to
    the lower index). Returns ``min(k, n)`` distinct indices in the order chosen."""
    n = len(sim)
    best = np.zeros(n)  # max_{j in S} s(i, j) per point i
    chosen: list[int] = []
    for _ in range(min(k, n)):
        gains = np.maximum(sim - best[:, None], 0.0).sum(0)
        gains[chosen] = -np.inf
        j = int(np.argmax(gains))
        chosen.append(j)
        best = np.maximum(best, sim[:, j])
    return np.asarray(chosen, dtype=np.int64)


@register_selector("facility_location", description="greedy submodular facility location "
                   "on the forget set's penultimate embeddings (the CRAIG objective)")
class FacilityLocation(Selector):
    """The ``k`` greedy maximisers of facility location over ``adapter.embeddings``
    (deterministic: no draw)."""

    paper = "Mirzasoleiman et al. 2020"

    def select(self, ctx: SelectionContext, k: int) -> np.ndarray:
        if len(ctx.forget) == 0:
            return np.empty(0, dtype=np.int64)
        emb = ctx.adapter.embeddings(ctx.model, ctx.forget).double().cpu().numpy()
        return greedy_facility_location(similarities(emb), k)
