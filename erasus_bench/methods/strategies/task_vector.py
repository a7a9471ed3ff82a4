"""Task-vector negation (Ilharco et al., ICLR 2023, "Editing Models with Task Arithmetic"), as
MUSE's baseline (``swj0419/muse_bench``, ``baselines/baselines/task_vector.py``): fine-tune a
copy of the model on the forget set, then move the model against the change,
theta - alpha * (theta_finetuned - theta)."""
from __future__ import annotations

import torch
from torch import nn

from erasus_bench.methods.strategies._common import make_optimizer, optimize, streams
from erasus_bench.methods.strategies.base import Strategy, register_strategy
from erasus_bench.methods.task import UnlearnTask


@register_strategy("task_vector", description="fine-tune on the forget set, subtract alpha x "
                   "the task vector (MUSE's baseline)", modalities=("lm_corpus",))
class TaskVector(Strategy):
    """``steps`` optimizer steps of the training loss on forget-coreset batches give the
    reinforced model; the result is the model minus ``alpha`` times (reinforced - model).
    MUSE's News run: 10 epochs, AdamW lr 1e-5 with a cosine schedule, alpha 5 (here the
    protocol's budget and a constant learning rate). Parameters shared by two names (tied
    embeddings) are moved once; integer buffers are left as they are, as in the reference."""

    paper = "Ilharco et al. 2023"

    def __init__(self, steps: int = 150, batch_size: int = 4, lr: float = 1e-5,
                 optimizer: str = "adamw", alpha: float = 5.0) -> None:
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.alpha = alpha

    def unlearn(self, task: UnlearnTask) -> nn.Module:
        model = task.model
        before = {n: p.detach().clone() for n, p in model.named_parameters()}
        forget, _ = streams(task, self.batch_size)
        optimize(model, make_optimizer(model, self.optimizer, self.lr), self.steps,
                 lambda t: task.adapter.loss(model, next(forget)))
        with torch.no_grad():
            for name, p in model.named_parameters():
                p.copy_(before[name] - self.alpha * (p - before[name]))
        return model
