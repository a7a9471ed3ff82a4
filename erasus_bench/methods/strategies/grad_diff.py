"""Gradient difference / NegGrad+ (Kurmanji et al., NeurIPS 2023, "Towards Unbounded Machine
Unlearning"): descend on the retain loss while ascending on the forget loss."""
from __future__ import annotations

from torch import nn

from erasus_bench.methods.strategies._common import make_optimizer, optimize, streams
from erasus_bench.methods.strategies.base import Strategy, register_strategy
from erasus_bench.methods.task import UnlearnTask


@register_strategy("grad_diff", description="NegGrad+: alpha*retain loss - (1-alpha)*forget loss")
class GradDiff(Strategy):
    """``steps`` optimizer steps on ``alpha * L(retain batch) - (1 - alpha) * L(forget batch)``
    (Kurmanji et al.'s NegGrad+ weighting). open-unlearning's GradDiff
    (``configs/trainer/GradDiff.yaml``) minimises ``gamma * (-L_forget) + alpha * L_retain`` with
    gamma = alpha = 1, i.e. twice this loss at ``alpha = 0.5``; its TOFU runs use AdamW, lr 1e-5,
    weight decay 0.01 (``experiment/unlearn/tofu/default.yaml``). The defaults here are the
    classifier protocols' (SGD); LM protocols set their own (e.g. TOFU's ``hparams.py``)."""

    paper = "Kurmanji et al. 2023"

    def __init__(self, steps: int = 150, batch_size: int = 64, lr: float = 0.01,
                 optimizer: str = "sgd", alpha: float = 0.9) -> None:
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.alpha = alpha

    def unlearn(self, task: UnlearnTask) -> nn.Module:
        model, ad = task.model, task.adapter
        forget, retain = streams(task, self.batch_size)
        return optimize(model, make_optimizer(model, self.optimizer, self.lr), self.steps,
                        lambda t: self.alpha * ad.loss(model, next(retain))
                        - (1 - self.alpha) * ad.loss(model, next(forget)))
