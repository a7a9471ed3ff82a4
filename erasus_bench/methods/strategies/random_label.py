"""Random labelling (Golatkar et al., CVPR 2020; the "RL" baseline of Fan et al., "SalUn",
ICLR 2024): train on forget samples with random labels and on retain with true ones."""
from __future__ import annotations

import torch
from torch import nn

from erasus_bench.methods.strategies._common import (EXTRA_SALT, epoch_schedule, make_optimizer,
                                                     optimize, pass_steps, random_labels,
                                                     require_num_classes, streams)
from erasus_bench.methods.strategies.base import Strategy, register_strategy
from erasus_bench.methods.task import UnlearnTask


def rl_epoch(forget_pass: int, retain_pass: int) -> list[bool]:
    """Steps of one reference epoch (True = forget step): a pass over forget, then over retain."""
    return [True] * forget_pass + [False] * retain_pass


def rl_steps_for_epochs(task: UnlearnTask, epochs: float, batch_size: int) -> int:
    """Steps of ``epochs`` reference epochs: each a pass over the forget coreset and one over
    retain (the retain pass does not shrink with the coreset)."""
    one = len(rl_epoch(pass_steps(task.forget, batch_size), pass_steps(task.retain, batch_size)))
    return max(1, round(epochs * one))


def random_label_unlearn(task: UnlearnTask, steps: int, batch_size: int, lr: float,
                         optimizer: str, retain_weight: float,
                         grad_mask: list[torch.Tensor] | None = None) -> nn.Module:
    """OPTML's ``unlearn/RL.py`` (CIFAR-10 branch) in a step budget: epochs of a pass over the
    forget coreset with labels drawn uniformly over all classes (redrawn per batch), then a pass
    over retain with true labels (loss x ``retain_weight``; 1 in the reference), repeated or
    truncated to ``steps``; ``grad_mask`` restricts the update (SalUn)."""
    num_classes = require_num_classes(task)
    model, ad = task.model, task.adapter
    forget, retain = streams(task, batch_size)
    gen = task.generator(EXTRA_SALT)
    plan = epoch_schedule(lambda e: rl_epoch(pass_steps(task.forget, batch_size),
                                             pass_steps(task.retain, batch_size)), steps)

    def loss(t: int) -> torch.Tensor:
        if plan[t]:
            f = next(forget)
            return ad.loss(model, {**f, "y": random_labels(f["y"], num_classes, gen)})
        return retain_weight * ad.loss(model, next(retain))

    return optimize(model, make_optimizer(model, optimizer, lr), steps, loss, grad_mask)


@register_strategy("random_label", description="relabel forget samples at random, keep training "
                   "on retain", modalities=("classifier",))
class RandomLabel(Strategy):
    """``random_label_unlearn`` without a mask (reference: SGD; its lr is tuned per setting)."""

    paper = "Golatkar et al. 2020"

    def __init__(self, steps: int = 150, batch_size: int = 64, lr: float = 0.01,
                 optimizer: str = "sgd", retain_weight: float = 1.0) -> None:
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.retain_weight = retain_weight

    def steps_for_epochs(self, task: UnlearnTask, epochs: float) -> int:
        return rl_steps_for_epochs(task, epochs, self.batch_size)

    def unlearn(self, task: UnlearnTask) -> nn.Module:
        return random_label_unlearn(task, self.steps, self.batch_size, self.lr, self.optimizer,
                                    self.retain_weight)
