"""Gradient ascent on the forget set ("NegGrad"; Thudi et al., EuroS&P 2022, "Unrolling SGD";
Graves et al., AAAI 2021, "Amnesiac Machine Learning")."""
from __future__ import annotations

from torch import nn

from erasus_bench.methods.strategies._common import make_optimizer, optimize, streams
from erasus_bench.methods.strategies.base import Strategy, register_strategy
from erasus_bench.methods.task import UnlearnTask


@register_strategy("gradient_ascent", description="NegGrad: maximise the training loss on the "
                   "forget set (plain; grad_diff adds a retain term)")
class GradientAscent(Strategy):
    """``steps`` optimizer steps on the negated training loss of forget-coreset batches.
    open-unlearning's GradAscent (``configs/trainer/GradAscent.yaml``) is the same loss; its TOFU
    runs use AdamW, lr 1e-5, weight decay 0.01 (``experiment/unlearn/tofu/default.yaml``). The
    defaults here are the classifier protocols' (SGD); LM protocols set their own (e.g. TOFU's
    ``hparams.py``)."""

    paper = "Thudi et al. 2022"

    def __init__(self, steps: int = 150, batch_size: int = 64, lr: float = 1e-3,
                 optimizer: str = "sgd") -> None:
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer

    def unlearn(self, task: UnlearnTask) -> nn.Module:
        model = task.model
        forget, _ = streams(task, self.batch_size)
        return optimize(model, make_optimizer(model, self.optimizer, self.lr), self.steps,
                        lambda t: -task.adapter.loss(model, next(forget)))
