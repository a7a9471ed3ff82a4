"""GraNd: top-k per-sample gradient L2 norm over all parameters (Paul, Ganguli & Dziugaite,
NeurIPS 2021, "Deep learning on a data diet"), averaged over early-training checkpoints."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace

import numpy as np
import torch
from torch import nn

from erasus_bench.methods.selectors.base import Selector, register_selector, top_k
from erasus_bench.methods.task import SelectionContext

GradFn = Callable[[Sequence[torch.Tensor]], torch.Tensor]


@contextmanager
def gradient_ready(model: nn.Module, params: Sequence[nn.Parameter]) -> Iterator[None]:
    """Eval mode, grad enabled and ``requires_grad`` on ``params`` for the duration; the model's
    mode and flags are restored afterwards (``torch.autograd.grad`` never touches ``.grad``)."""
    was_training = model.training
    flags = [p.requires_grad for p in params]
    try:
        model.eval()
        for p in params:
            p.requires_grad_(True)
        with torch.enable_grad():
            yield
    finally:
        for p, flag in zip(params, flags):
            p.requires_grad_(flag)
        model.train(was_training)


def _grads(loss: torch.Tensor, params: Sequence[nn.Parameter]) -> list[torch.Tensor]:
    gs = torch.autograd.grad(loss, list(params), allow_unused=True)
    return [torch.zeros_like(p) if g is None else g for p, g in zip(params, gs)]


def grad_params(ctx: SelectionContext, last_layer_only: bool) -> list[nn.Parameter]:
    """Every parameter of the model (or of its last layer), frozen ones included."""
    module = ctx.adapter.last_layer(ctx.model) if last_layer_only else ctx.model
    return list(module.parameters())


def per_example_grad_scores(ctx: SelectionContext, params: Sequence[nn.Parameter],
                            score: GradFn) -> torch.Tensor:
    """``score(grads)`` of each forget example's loss gradient w.r.t. ``params``, float64 [N].

    One backward per example, reduced on the fly so
    memory stays O(P) rather than O(N * P): the [N, P] matrix of an LM would not fit.
    """
    out = torch.empty(len(ctx.forget), dtype=torch.float64)
    with gradient_ready(ctx.model, params):
        for i in range(len(ctx.forget)):
            loss = ctx.adapter.per_example_loss(ctx.model, ctx.forget[[i]]).sum()
            out[i] = score(_grads(loss, params)).detach().double().cpu()
    return out


def mean_grad(ctx: SelectionContext, params: Sequence[nn.Parameter], batch_size: int = 64
              ) -> list[torch.Tensor]:
    """Gradient of the forget set's mean loss w.r.t. ``params`` (batched backward passes)."""
    n = len(ctx.forget)
    total = [torch.zeros_like(p, dtype=torch.float64) for p in params]
    with gradient_ready(ctx.model, params):
        for batch in ctx.forget.batches(batch_size):
            loss = ctx.adapter.per_example_loss(ctx.model, batch).sum() / n
            for t, g in zip(total, _grads(loss, params)):
                t += g.double()
    return total


def squared_norm(grads: Sequence[torch.Tensor]) -> torch.Tensor:
    return sum((g.double() ** 2).sum() for g in grads)


@register_selector("gradient_norm", description="top-k per-sample gradient L2 norm over all "
                   "parameters (GraNd, Paul et al. 2021)")
class GradientNorm(Selector):
    """Top-``k`` of ``||d loss_i / d theta||_2`` over every parameter (eval mode), averaged over
    the protocol's early-training checkpoints as in the paper; on the base model where a protocol
    provides none (LLM protocols: the fine-tuned model)."""

    paper = "Paul et al. 2021"

    uses_early_models = True

    def select(self, ctx: SelectionContext, k: int) -> np.ndarray:
        n = len(ctx.forget)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        norms = torch.stack([
            per_example_grad_scores(view, grad_params(view, last_layer_only=False),
                                    squared_norm).sqrt()
            for view in (replace(ctx, model=m) for m in ctx.score_models())]).mean(0)
        return top_k(norms, min(k, n))
