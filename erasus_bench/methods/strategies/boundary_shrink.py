"""Boundary Shrink (Chen, Gao, Liu & Peng, CVPR 2023, "Boundary Unlearning: Rapid Forgetting of
Deep Networks via Shifting the Decision Boundary"): relabel each forget sample with the class an
FGSM step from it lands in (its nearest wrong class), and fine-tune on those labels."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from erasus_bench.methods.strategies._common import make_optimizer, optimize, streams
from erasus_bench.methods.strategies.base import Strategy, register_strategy
from erasus_bench.methods.task import UnlearnTask


def nearest_wrong_labels(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                         bound: float) -> torch.Tensor:
    """The original model's prediction at ``x + bound * sign(grad_x CE(model(x), y))``
    (untargeted FGSM): the neighbouring class across the nearest boundary, or ``y`` itself
    where one step does not cross it."""
    x_adv = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        grad, = torch.autograd.grad(F.cross_entropy(model(x_adv), y), x_adv)
    with torch.no_grad():
        return model(x + bound * grad.sign()).argmax(-1)


@register_strategy("boundary_shrink", description="Boundary Shrink: fine-tune forget samples "
                   "to the class an FGSM step lands in (Chen et al. 2023)",
                   modalities=("classifier",))
class BoundaryShrink(Strategy):
    """``steps`` SGD steps on CE(model(x), nearest wrong label of x) over forget batches, the
    labels found by FGSM on the original model (frozen, eval mode) as each batch is drawn.
    Defaults as the authors' code: FGSM bound 0.1 (in the input's normalised units: our
    features are standardised; the reference's [0, 1] clamp and 8-bit rounding of images do
    not apply), SGD lr 1e-5 with momentum 0.9, batch 64; its 10 epochs over the forget set are
    the ``epochs`` budget regime's unit here."""

    paper = "Chen et al. 2023"

    def __init__(self, steps: int = 150, batch_size: int = 64, lr: float = 1e-5,
                 optimizer: str = "sgd", bound: float = 0.1) -> None:
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.bound = bound

    def unlearn(self, task: UnlearnTask) -> nn.Module:
        model, original = task.model, task.original
        forget, _ = streams(task, self.batch_size)

        def loss(_: int) -> torch.Tensor:
            b = next(forget)
            target = nearest_wrong_labels(original, b["x"], b["y"], self.bound)
            return F.cross_entropy(model(b["x"]), target)

        return optimize(model, make_optimizer(model, self.optimizer, self.lr), self.steps, loss)
