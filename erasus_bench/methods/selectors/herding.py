"""Greedy kernel herding on penultimate embeddings: the running mean of the picks tracks the
forget-set mean (Welling, ICML 2009; exemplar selection of iCaRL, Rebuffi et al., CVPR 2017)."""
from __future__ import annotations

import numpy as np

from erasus_bench.methods.selectors.base import Selector, register_selector
from erasus_bench.methods.task import SelectionContext


def herd(emb: np.ndarray, k: int) -> np.ndarray:
    """At step t pick the unpicked i minimising ||mu - (sum of picks + emb_i) / t||_2 (iCaRL's
    rule, linear kernel); ties go to the lower index. Returns ``min(k, n)`` distinct indices."""
    n = len(emb)
    k = min(k, n)
    chosen = np.empty(k, dtype=np.int64)
    if k == 0:
        return chosen
    mu = emb.mean(axis=0)
    running = np.zeros_like(mu)
    taken = np.zeros(n, dtype=bool)
    for t in range(1, k + 1):
        d2 = ((mu - (running + emb) / t) ** 2).sum(axis=1)
        d2[taken] = np.inf
        i = int(np.argmin(d2))  # first minimum: stable tie-break
        chosen[t - 1] = i
        taken[i] = True
        running += emb[i]
    return chosen


@register_selector("herding", description="greedy herding: picks whose running mean embedding "
                   "best matches the forget-set mean (Welling 2009; iCaRL)")
class Herding(Selector):
    """Herding on raw ``adapter.embeddings`` (iCaRL L2-normalises them first; we keep the geometry
    k_center sees). Deterministic: no randomness is involved."""

    paper = "Welling 2009"

    def select(self, ctx: SelectionContext, k: int) -> np.ndarray:
        if len(ctx.forget) == 0:
            return np.empty(0, dtype=np.int64)
        emb = ctx.adapter.embeddings(ctx.model, ctx.forget).double().cpu().numpy()
        return herd(emb, k)
