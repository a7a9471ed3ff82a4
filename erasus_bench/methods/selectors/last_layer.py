"""A classifier's last layer as the gradient-based selectors (craig, gradmatch, glister,
representer) see it: the forget set's penultimate features (the linear head's input), the head's
weight and bias, and per-example cross-entropy gradients w.r.t. the head in closed form, all
float64 on the CPU.

For a linear head ``z = W f + b`` and ``loss = CE(z, y)``, ``dloss/dz = softmax(z) - onehot(y)``
(= ``e``), so ``dloss/dW = e f^T`` and ``dloss/db = e``: the last-layer gradient of every
example comes from one forward pass over the forget set, with no backward pass (the layout,
``W`` row-major then ``b``, is that of ``torch.cat([g.flatten() for g in head.parameters()])``,
i.e. of ``gradient_norm.grad_params(ctx, last_layer_only=True)``).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from erasus_bench.methods.task import SelectionContext


@dataclass(frozen=True)
class LinearHead:
    """The forget set under the base model's linear head (float64, CPU)."""

    features: torch.Tensor  # [N, D]: the head's input
    labels: torch.Tensor  # [N] int64
    weight: torch.Tensor  # [C, D]
    bias: torch.Tensor | None  # [C], None for a head without bias

    def logits(self, weight: torch.Tensor | None = None, bias: torch.Tensor | None = None
               ) -> torch.Tensor:
        """``features @ weight.T + bias`` (the head's own parameters by default), [N, C]."""
        w = self.weight if weight is None else weight
        b = self.bias if bias is None else bias
        z = self.features @ w.T
        return z if b is None else z + b

    def grads(self, logits: torch.Tensor | None = None) -> torch.Tensor:
        """Per-example last-layer gradients of the cross-entropy at ``logits`` (default: the
        head's), [N, C*D (+ C)]."""
        err = output_errors(self.logits() if logits is None else logits, self.labels)
        return layer_grads(self.features, err, self.bias is not None)

    def unflatten(self, vec: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """A flat last-layer vector as (weight-shaped, bias-shaped or None)."""
        c, d = self.weight.shape
        return vec[:c * d].reshape(c, d), (vec[c * d:] if self.bias is not None else None)


def output_errors(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``softmax(logits) - onehot(labels)``: the cross-entropy's gradient w.r.t. the logits."""
    return torch.softmax(logits, -1) - F.one_hot(labels, logits.shape[-1]).to(logits.dtype)


def layer_grads(features: torch.Tensor, err: torch.Tensor, bias: bool) -> torch.Tensor:
    """Rows ``[vec(err_i f_i^T), err_i]`` (the bias part only when ``bias``), [N, C*D (+ C)]."""
    w = (err[:, :, None] * features[:, None, :]).reshape(len(err), -1)
    return torch.cat([w, err], 1) if bias else w


def linear_head(ctx: SelectionContext, batch_size: int = 512) -> LinearHead:
    """The forget set's features as the head receives them in the model's forward pass (eval
    mode, no gradients; the model's mode is restored), and the head's parameters."""
    if ctx.adapter.modality != "classifier":
        raise ValueError(f"a linear-head selector needs a classifier, not {ctx.adapter.modality}")
    model = ctx.model
    head = ctx.adapter.last_layer(model)
    if not isinstance(head, nn.Linear):
        raise ValueError(f"the classifier's last layer is a {type(head).__name__}, not the "
                         "nn.Linear these selectors differentiate in closed form")
    captured: list[torch.Tensor] = []
    handle = head.register_forward_hook(lambda _m, args, _out: captured.append(args[0].detach()))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for batch in ctx.forget.batches(batch_size):
                ctx.adapter.logits(model, batch)
    finally:
        handle.remove()
        model.train(was_training)
    features = torch.cat(captured).double().cpu()
    if len(features) != len(ctx.forget):
        raise ValueError("the classifier's head ran more than once per forward pass")
    return LinearHead(features, ctx.forget.tensors["y"].long().cpu(),
                      head.weight.detach().double().cpu().clone(),
                      None if head.bias is None else head.bias.detach().double().cpu().clone())
