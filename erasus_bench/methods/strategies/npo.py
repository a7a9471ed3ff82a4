"""Negative Preference Optimization (Zhang et al., COLM 2024, "Negative Preference Optimization:
From Catastrophic Collapse to Effective Unlearning"), with a retain NLL term (NPO+RT).

open-unlearning's TOFU unlearning runs (``configs/experiment/unlearn/tofu/default.yaml``,
``idk.yaml``; ``scripts/tofu_unlearn.sh``), shared by NPO, SimNPO, IdkDPO (its DPO), GradAscent,
GradDiff and RMU: AdamW (``paged_adamw_32bit``) at lr 1e-5 with weight decay 0.01, 10 epochs, a
one-epoch warm-up, effective batch 32 (4 per device x 4 accumulation x 2 GPUs). Deliberate
deviation here: a fixed budget of ``steps`` optimizer steps with the project's shared loop, plain
Adam (no weight decay, constant rate), so every method gets the same budget.
"""
from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn

from erasus_bench.methods.examples import Batch
from erasus_bench.methods.strategies._common import make_optimizer, optimize, streams
from erasus_bench.methods.strategies._preference import dpo_loss, lm_adapter, log_ratio
from erasus_bench.methods.strategies.base import Strategy, register_strategy
from erasus_bench.methods.task import LM_MODALITIES, UnlearnTask


@register_strategy("npo", description="NPO: DPO with the forget answer as the only (rejected) "
                   "response, plus retain NLL", modalities=LM_MODALITIES)
class NPO(Strategy):
    """``steps`` optimizer steps on ``gamma * L_NPO(forget batch) + alpha * NLL(retain batch)``
    with ``L_NPO = -(2/beta) * mean log sigmoid(-beta * (log p(a|q) - log p_ref(a|q)))``, ``log p``
    the summed answer log-likelihood and ``p_ref`` the original model. Loss weights follow
    open-unlearning's ``configs/trainer/NPO.yaml`` (beta 0.1, alpha 1, gamma 1, retain NLL) and
    lr its TOFU experiments' 1e-5; unlike them (AdamW, weight decay 0.01, see the module
    docstring) the optimizer is Adam without weight decay."""

    paper = "Zhang et al. 2024"

    def __init__(self, steps: int = 150, batch_size: int = 16, lr: float = 1e-5,
                 optimizer: str = "adam", beta: float = 0.1, alpha: float = 1.0,
                 gamma: float = 1.0) -> None:
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.beta = beta
        self.alpha = alpha
        self.gamma = gamma

    def forget_loss(self, task: UnlearnTask, model: nn.Module, batch: Batch) -> torch.Tensor:
        """The NPO term on one forget batch (reference: ``task.original``)."""
        ad = lm_adapter(task.adapter, "npo")
        return dpo_loss(0.0, log_ratio(ad, model, task.original, batch), self.beta)

    def forget_batches(self, task: UnlearnTask, batches: Iterator[Batch]) -> Iterator[Batch]:
        """The forget batches the loss sees (IdkDPO draws its "I don't know" answers here)."""
        return batches

    def unlearn(self, task: UnlearnTask) -> nn.Module:
        model, ad = task.model, lm_adapter(task.adapter, self.name)
        forget, retain = streams(task, self.batch_size)
        forget = self.forget_batches(task, forget)
        return optimize(model, make_optimizer(model, self.optimizer, self.lr), self.steps,
                        lambda t: self.gamma * self.forget_loss(task, model, next(forget))
                        + self.alpha * ad.loss(model, next(retain)))
