"""Highest-loss coreset: the k forget examples the base model fits worst (loss-based data
selection, cf. Loshchilov & Hutter 2015 / Jiang et al. 2019 "Selective Backprop")."""
from __future__ import annotations

import numpy as np

from erasus_bench.methods.selectors.base import Selector, register_selector, top_k
from erasus_bench.methods.task import SelectionContext


@register_selector("loss", description="top-k per-example training loss under the base model")
class Loss(Selector):
    """Top-``k`` of ``adapter.evaluate_losses`` (eval mode, no gradients); ties to lower index."""

    paper = "Jiang et al. 2019"

    def select(self, ctx: SelectionContext, k: int) -> np.ndarray:
        n = len(ctx.forget)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        losses = ctx.adapter.evaluate_losses(ctx.model, ctx.forget)
        return top_k(losses, min(k, n))
