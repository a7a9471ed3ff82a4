"""Greedy k-center on penultimate-layer embeddings (Sener & Savarese, ICLR 2018, "Active Learning
for Convolutional Neural Networks: A Core-Set Approach"); a 2-approximation of k-center."""
from __future__ import annotations

import numpy as np
import torch

from erasus_bench.methods.selectors.base import Selector, register_selector
from erasus_bench.methods.task import SelectionContext


def greedy_k_center(emb: np.ndarray, k: int, first: int) -> np.ndarray:
    """Start at ``first``, then repeatedly add the point farthest (Euclidean) from its nearest
    chosen centre; ties go to the lower index. Returns ``min(k, n)`` distinct indices."""
    n = len(emb)
    k = min(k, n)
    chosen = np.empty(k, dtype=np.int64)
    if k == 0:
        return chosen
    chosen[0] = first
    min_d2 = ((emb - emb[first]) ** 2).sum(axis=1)
    min_d2[first] = -np.inf
    for t in range(1, k):
        i = int(np.argmax(min_d2))  # first maximum: stable tie-break
        chosen[t] = i
        np.minimum(min_d2, ((emb - emb[i]) ** 2).sum(axis=1), out=min_d2)
        min_d2[i] = -np.inf  # chosen points never come back, even when duplicates remain
    return chosen


@register_selector("k_center", description="greedy k-center cover of the forget set's "
                   "penultimate embeddings (Sener & Savarese 2018)")
class KCenter(Selector):
    """Greedy k-center (Euclidean) on ``adapter.embeddings``; first centre drawn from
    ``ctx.generator(salt=1)``."""

    paper = "Sener & Savarese 2018"

    def select(self, ctx: SelectionContext, k: int) -> np.ndarray:
        n = len(ctx.forget)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        emb = ctx.adapter.embeddings(ctx.model, ctx.forget).double().cpu().numpy()
        # salt 1: an unsalted draw would always equal `random`'s first pick (same torch stream)
        first = int(torch.randint(n, (1,), generator=ctx.generator(salt=1)).item())
        return greedy_k_center(emb, k, first)
