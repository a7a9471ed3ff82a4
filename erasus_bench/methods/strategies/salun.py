"""SalUn (Fan et al., ICLR 2024, "SalUn: Empowering Machine Unlearning via Gradient-based Weight
Saliency"): random-label unlearning that updates only the weights salient for the forget loss."""
from __future__ import annotations

import torch
from torch import nn

from erasus_bench.methods.strategies.base import Strategy, register_strategy
from erasus_bench.methods.strategies.random_label import random_label_unlearn, rl_steps_for_epochs
from erasus_bench.methods.task import UnlearnTask


def saliency_mask(task: UnlearnTask, mask_ratio: float, batch_size: int) -> list[torch.Tensor]:
    """0/1 masks (one per trainable parameter) selecting the ``mask_ratio`` share of all weights
    with the largest |gradient| of the mean forget-coreset loss (ties broken by position)."""
    model, n = task.model, len(task.forget)
    params = [p for p in model.parameters() if p.requires_grad]
    was_training = model.training
    model.eval()
    grads = [torch.zeros_like(p) for p in params]
    for batch in task.forget.batches(batch_size):
        loss = task.adapter.per_example_loss(model, batch).sum() / n
        for acc, g in zip(grads, torch.autograd.grad(loss, params, allow_unused=True)):
            if g is not None:
                acc.add_(g)
    model.train(was_training)
    saliency = torch.cat([g.abs().reshape(-1) for g in grads])
    order = torch.argsort(saliency, descending=True, stable=True)
    flat = torch.zeros_like(saliency)
    flat[order[:round(mask_ratio * len(saliency))]] = 1.0
    return [m.view_as(p) for m, p in zip(flat.split([p.numel() for p in params]), params)]


@register_strategy("salun", description="random labels on forget, updating only salient weights",
                   modalities=("classifier",))
class SalUn(Strategy):
    """Saliency mask from forget-loss gradients, then masked random-label unlearning."""

    paper = "Fan et al. 2024"

    def __init__(self, steps: int = 150, batch_size: int = 64, lr: float = 0.01,
                 optimizer: str = "sgd", retain_weight: float = 1.0,
                 mask_ratio: float = 0.5) -> None:
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.retain_weight = retain_weight
        self.mask_ratio = mask_ratio

    def steps_for_epochs(self, task: UnlearnTask, epochs: float) -> int:
        return rl_steps_for_epochs(task, epochs, self.batch_size)

    def unlearn(self, task: UnlearnTask) -> nn.Module:
        mask = saliency_mask(task, self.mask_ratio, self.batch_size)
        return random_label_unlearn(task, self.steps, self.batch_size, self.lr,
                                    self.optimizer, self.retain_weight, mask)
