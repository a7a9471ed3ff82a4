"""TracIn self-influence (Pruthi, Liu, Kale & Sundararajan, NeurIPS 2020, "Estimating Training
Data Influence by Tracing Gradient Descent"): TracInCP(z, z) = sum over checkpoints c of
eta_c ||grad loss(z; theta_c)||^2, over checkpoints of the base model's own training run."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from erasus_bench.methods.selectors.base import Selector, register_selector, top_k
from erasus_bench.methods.selectors.gradient_norm import (grad_params,
                                                          per_example_grad_scores,
                                                          squared_norm)
from erasus_bench.methods.task import SelectionContext


@register_selector("tracin", description="top-k TracInCP self-influence over the base model's "
                   "training checkpoints (Pruthi et al. 2020)", modalities=("classifier",))
class TracIn(Selector):
    """Top-``k`` of the summed squared per-example gradient norms (every parameter, eval mode)
    at two checkpoints of the base model's training run: its early snapshot (the protocol's
    first early model, same seed and recipe) and the final model, with equal step sizes. Needs
    that snapshot: on protocols without one it would rank as ``gradient_norm`` does, so it
    applies to classifiers only."""

    paper = "Pruthi et al. 2020"

    def select(self, ctx: SelectionContext, k: int) -> np.ndarray:
        n = len(ctx.forget)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        if not ctx.early_models:
            raise ValueError("tracin needs the base model's early training checkpoint "
                             "(SelectionContext.early_models), which this protocol lacks")
        checkpoints = (ctx.early_models[0], ctx.model)
        scores = torch.stack([
            per_example_grad_scores(view, grad_params(view, last_layer_only=False), squared_norm)
            for view in (replace(ctx, model=m) for m in checkpoints)]).sum(0)
        return top_k(scores, min(k, n))
