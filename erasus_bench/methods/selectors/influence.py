"""First-order influence: dot product of each example's last-layer gradient with the forget set's
mean last-layer gradient (Koh & Liang ICML 2017 with H = I; TracIn, Pruthi et al. NeurIPS 2020)."""
from __future__ import annotations

import numpy as np

from erasus_bench.methods.selectors.base import Selector, register_selector, top_k
from erasus_bench.methods.selectors.gradient_norm import (
    grad_params,
    mean_grad,
    per_example_grad_scores,
)
from erasus_bench.methods.task import SelectionContext


@register_selector("influence", description="top-k dot product of per-sample last-layer gradient "
                   "with the forget-set mean gradient (first-order influence)")
class Influence(Selector):
    """Top-``k`` of ``g_i . g_bar``: ``g_i`` is the last-layer gradient of example ``i``'s loss,
    ``g_bar`` the last-layer gradient of the forget set's mean loss (= the mean of the ``g_i``).

    ``g_i . g_bar`` is the first-order change of the forget-set loss under a gradient step on
    example ``i`` alone: Koh & Liang's influence with the Hessian replaced by the identity, and
    TracIn at a single checkpoint. The dot product (not cosine) is used because that is what both
    derivations give: it keeps gradient magnitude, so confidently fitted examples (tiny ``g_i``)
    count for little, while cosine would rank by direction alone.
    """

    paper = "Koh & Liang 2017"

    def select(self, ctx: SelectionContext, k: int) -> np.ndarray:
        n = len(ctx.forget)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        params = grad_params(ctx, last_layer_only=True)
        g_bar = mean_grad(ctx, params)
        scores = per_example_grad_scores(
            ctx, params, lambda gs: sum((g.double() * m).sum() for g, m in zip(gs, g_bar)))
        return top_k(scores, min(k, n))
