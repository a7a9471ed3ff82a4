"""EL2N: top-k error L2 norm ||softmax(logits) - onehot(y)||_2 (Paul, Ganguli & Dziugaite,
NeurIPS 2021, "Deep learning on a data diet"), averaged over early-training checkpoints."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from erasus_bench.methods.selectors.base import Selector, register_selector, top_k
from erasus_bench.methods.task import SelectionContext


def el2n_scores(ctx: SelectionContext, batch_size: int = 512) -> torch.Tensor:
    """EL2N of every forget example, averaged over ``ctx.score_models()`` (eval mode, no
    gradients), float64 [N]."""
    return torch.stack([model_el2n(ctx, m, batch_size) for m in ctx.score_models()]).mean(0)


def model_el2n(ctx: SelectionContext, model: torch.nn.Module, batch_size: int) -> torch.Tensor:
    """EL2N of every forget example under one ``model``, float64 [N]."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = []
            for batch in ctx.forget.batches(batch_size):
                logits = ctx.adapter.logits(model, batch).double()
                y = batch["y"].to(logits.device)
                err = F.softmax(logits, dim=-1) - F.one_hot(y, logits.shape[-1]).double()
                out.append(err.norm(dim=-1).cpu())
    finally:
        model.train(was_training)
    return torch.cat(out) if out else torch.empty(0, dtype=torch.float64)


@register_selector("el2n", description="top-k EL2N score ||softmax(logits) - onehot(y)||_2 "
                   "(Paul et al. 2021)", modalities=("classifier",))
class EL2N(Selector):
    """Top-``k`` EL2N averaged over the protocol's early-training checkpoints (the paper: a few
    epochs in, several runs); on the base model only where a protocol provides none."""

    paper = "Paul et al. 2021"

    uses_early_models = True

    def select(self, ctx: SelectionContext, k: int) -> np.ndarray:
        n = len(ctx.forget)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        return top_k(el2n_scores(ctx), min(k, n))
