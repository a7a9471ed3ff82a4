"""l1-sparse unlearning (Jia et al., NeurIPS 2023, "Model Sparsity Can Simplify Machine
Unlearning"): fine-tune on retain with an l1 penalty whose weight decays linearly to zero."""
from __future__ import annotations

import torch
from torch import nn

from erasus_bench.methods.strategies._common import make_optimizer, optimize, streams
from erasus_bench.methods.strategies.base import CLASSIFIER_ONLY, Strategy, register_strategy
from erasus_bench.methods.task import UnlearnTask


@register_strategy("l1_sparse", description="fine-tune on retain with a decaying l1 penalty",
                   modalities=CLASSIFIER_ONLY)
class L1Sparse(Strategy):
    """Step ``t`` minimises ``L(retain batch) + gamma * (1 - t/steps) * ||theta||_1``."""

    paper = "Jia et al. 2023"

    uses_forget = False
    coreset_invariant = True

    def __init__(self, steps: int = 150, batch_size: int = 64, lr: float = 0.01,
                 optimizer: str = "sgd", gamma: float = 1e-4) -> None:
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.gamma = gamma

    def unlearn(self, task: UnlearnTask) -> nn.Module:
        model = task.model
        params = [p for p in model.parameters() if p.requires_grad]
        _, retain = streams(task, self.batch_size)

        def loss(t: int) -> torch.Tensor:
            l1 = torch.stack([p.abs().sum() for p in params]).sum()
            gamma_t = self.gamma * (1 - t / self.steps)
            return task.adapter.loss(model, next(retain)) + gamma_t * l1

        return optimize(model, make_optimizer(model, self.optimizer, self.lr), self.steps, loss)
