"""Predictive-uncertainty coreset: the k forget examples whose predicted class distribution
under the base model has the highest entropy (uncertainty sampling, Lewis & Gale, SIGIR 1994;
entropy as in Settles, "Active Learning Literature Survey", 2009)."""
from __future__ import annotations

import numpy as np
import torch

from erasus_bench.methods.selectors.base import Selector, register_selector, top_k
from erasus_bench.methods.task import SelectionContext


def predictive_entropy(logits: torch.Tensor) -> torch.Tensor:
    """-sum_c p_c log p_c of softmax(logits) per row, float64."""
    logp = torch.log_softmax(logits.double(), dim=-1)
    return -(logp.exp() * logp).sum(-1)


@register_selector("active_learning", description="top-k predictive entropy of the base "
                   "model's class distribution (uncertainty sampling)",
                   modalities=("classifier",))
class ActiveLearning(Selector):
    """Top-``k`` predictive entropy of ``adapter.logits`` (eval mode, no gradients); ties to
    the lower index."""

    paper = "Lewis & Gale 1994"

    def select(self, ctx: SelectionContext, k: int) -> np.ndarray:
        n = len(ctx.forget)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        model, was_training = ctx.model, ctx.model.training
        model.eval()
        try:
            with torch.no_grad():
                scores = torch.cat([predictive_entropy(ctx.adapter.logits(model, b)).cpu()
                                    for b in ctx.forget.batches(512)])
        finally:
            model.train(was_training)
        return top_k(scores, min(k, n))
