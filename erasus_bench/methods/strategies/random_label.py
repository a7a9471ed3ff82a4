"""Random labelling (Golatkar et al., CVPR 2020; the "RL" baseline of Fan et al., "SalUn",
ICLR 2024): train on forget samples with random wrong labels and on retain with true ones."""
from __future__ import annotations

import torch
from torch import nn

from erasus_bench.methods.strategies._common import (EXTRA_SALT, make_optimizer, optimize,
                                                     random_wrong_labels, require_num_classes,
                                                     streams)
from erasus_bench.methods.strategies.base import Strategy, register_strategy
from erasus_bench.methods.task import UnlearnTask


def random_label_unlearn(task: UnlearnTask, steps: int, batch_size: int, lr: float,
                         optimizer: str, retain_weight: float,
                         grad_mask: list[torch.Tensor] | None = None) -> nn.Module:
    """Minimise ``L(forget batch, random wrong labels) + retain_weight * L(retain batch)``; the
    wrong labels are redrawn every step; ``grad_mask`` restricts the update (SalUn)."""
    num_classes = require_num_classes(task)
    model, ad = task.model, task.adapter
    forget, retain = streams(task, batch_size)
    gen = task.generator(EXTRA_SALT)

    def loss(t: int) -> torch.Tensor:
        f, r = next(forget), next(retain)
        relabelled = {**f, "y": random_wrong_labels(f["y"], num_classes, gen)}
        return ad.loss(model, relabelled) + retain_weight * ad.loss(model, r)

    return optimize(model, make_optimizer(model, optimizer, lr), steps, loss, grad_mask)


@register_strategy("random_label", description="relabel forget samples at random, keep training "
                   "on retain", modalities=("classifier",))
class RandomLabel(Strategy):
    """``steps`` optimizer steps of random-label CE on the forget coreset plus CE on retain."""

    def __init__(self, steps: int = 150, batch_size: int = 64, lr: float = 0.01,
                 optimizer: str = "sgd", retain_weight: float = 1.0) -> None:
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.retain_weight = retain_weight

    def unlearn(self, task: UnlearnTask) -> nn.Module:
        return random_label_unlearn(task, self.steps, self.batch_size, self.lr, self.optimizer,
                                    self.retain_weight)
