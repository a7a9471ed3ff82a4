"""Boundary Expanding (Chen, Gao, Liu & Peng, CVPR 2023, "Boundary Unlearning: Rapid Forgetting
of Deep Networks via Shifting the Decision Boundary"): widen the head by a shadow class, train
the forget samples into it, then prune the shadow class away."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from erasus_bench.methods.strategies._common import (EXTRA_SALT, make_optimizer, optimize,
                                                     require_num_classes, streams)
from erasus_bench.methods.strategies.base import Strategy, register_strategy
from erasus_bench.methods.task import UnlearnTask


def widened(head: nn.Linear, generator: torch.Generator) -> nn.Linear:
    """``head`` with one more output (the shadow class): the old rows copied, the new row
    initialised as torch initialises a Linear layer (from ``generator``)."""
    wide = nn.Linear(head.in_features, head.out_features + 1).to(head.weight.device)
    with torch.no_grad():
        bound = 1 / head.in_features ** 0.5  # kaiming_uniform(a=sqrt(5)) and bias init
        wide.weight.uniform_(-bound, bound, generator=generator)
        wide.bias.uniform_(-bound, bound, generator=generator)
        wide.weight[:-1] = head.weight
        wide.bias[:-1] = head.bias
    return wide


@register_strategy("boundary_expanding", description="Boundary Expanding: train forget samples "
                   "into an extra shadow class, then prune it (Chen et al. 2023)",
                   modalities=("classifier",))
class BoundaryExpanding(Strategy):
    """``steps`` SGD steps of CE(widened model(x), shadow class) over forget batches, every
    weight trainable (the reference trains features and the widened head), then the head keeps
    its first C rows. Defaults as the authors' code: SGD lr 1e-5, momentum 0.9, batch 64 (its
    10 epochs over the forget set: the ``epochs`` budget regime's unit here). Needs a model whose
    ``head`` is its last, linear layer (the classifier adapter's contract)."""

    paper = "Chen et al. 2023"

    def __init__(self, steps: int = 150, batch_size: int = 64, lr: float = 1e-5,
                 optimizer: str = "sgd") -> None:
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer

    def unlearn(self, task: UnlearnTask) -> nn.Module:
        classes = require_num_classes(task)
        model = task.model
        head = model.head
        model.head = widened(head, task.generator(EXTRA_SALT))  # the reference's widen_model
        forget, _ = streams(task, self.batch_size)

        def loss(_: int) -> torch.Tensor:
            b = next(forget)
            return F.cross_entropy(model(b["x"]), torch.full_like(b["y"], classes))

        try:
            optimize(model, make_optimizer(model, self.optimizer, self.lr), self.steps, loss)
        finally:
            wide, model.head = model.head, head
        with torch.no_grad():  # prune the shadow class
            head.weight.copy_(wide.weight[:classes])
            head.bias.copy_(wide.bias[:classes])
        return model.eval()
