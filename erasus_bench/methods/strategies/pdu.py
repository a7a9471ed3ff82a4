"""PDU, primal-dual unlearning (Entesari et al., 2025, arXiv:2506.05314, "Constrained Entropic
Unlearning: A Primal-Dual Framework for Large Language Models"), as open-unlearning's
``src/trainer/unlearn/pdu.py`` and ``configs/trainer/PDU.yaml``."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from erasus_bench.methods.strategies._common import make_optimizer, optimize, streams
from erasus_bench.methods.strategies._preference import lm_adapter
from erasus_bench.methods.strategies._token import logit_margin_loss
from erasus_bench.methods.strategies.base import Strategy, register_strategy
from erasus_bench.methods.task import LM_MODALITIES, UnlearnTask


@dataclass
class DualVariable:
    """The retain-constraint multiplier ``lam`` of PDU's Lagrangian ``gamma * L_forget + lam *
    (L_retain - eps)``: from step ``start`` on, each step's retain gap ``g = L_retain - eps``
    moves it by projected dual ascent, ``lam <- max(0, lam + step_size * g)``, after the step's
    loss was formed with the old value (the reference's ``final_loss_value``)."""

    value: float
    step_size: float
    start: int

    def update(self, step: int, gap: float) -> None:
        if step >= self.start:
            self.value = max(0.0, self.value + self.step_size * gap)


@register_strategy("pdu", description="PDU: flatten the forget logits under a retain-loss "
                   "constraint, its multiplier updated by dual ascent", modalities=LM_MODALITIES)
class PDU(Strategy):
    """``steps`` optimizer steps on ``gamma * L_f(forget batch) + lam * (NLL(retain batch) -
    retain_loss_eps)``, ``L_f`` the squared gap between the largest and the mean next-token
    logit averaged over the answer tokens (``logit_margin_loss``), and ``lam`` (starting at
    ``alpha``) the dual variable of the constraint ``NLL(retain) <= retain_loss_eps``, updated
    after every step once the first ``dual_warmup`` fraction of the steps is over
    (``DualVariable``); with ``primal_dual`` off it stays ``alpha``. Defaults from
    open-unlearning's ``configs/trainer/PDU.yaml`` (gamma 1, alpha 1, dual step size 1, updates
    per step, 5 warm-up epochs, i.e. half of its 10-epoch TOFU runs) and lr 1e-5 from its PDU
    runs (``community/methods/PDU/run.sh``); ``retain_loss_eps`` has no default there
    (``???``: "somewhat above the base model's retain loss"), 0.3 here is that script's TOFU
    value. Deviations: the warm-up is a fraction of the step budget rather than a count of
    epochs; the forget loss reads the positions that predict answer tokens (the reference masks
    with the unshifted labels, one position later: it skips the prediction of the first answer
    token and includes the one after the last); the dual variable moves once per optimizer step
    (the reference: once per micro-batch, with gradient accumulation); its per-epoch update mode
    (``dual_update_upon: epoch``, unused by its runs) is not provided; Adam instead of AdamW."""

    paper = "Entesari et al. 2025"

    def __init__(self, steps: int = 150, batch_size: int = 16, lr: float = 1e-5,
                 optimizer: str = "adam", gamma: float = 1.0, alpha: float = 1.0,
                 retain_loss_eps: float = 0.3, primal_dual: bool = True,
                 dual_step_size: float = 1.0, dual_warmup: float = 0.5) -> None:
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.gamma = gamma
        self.alpha = alpha
        self.retain_loss_eps = retain_loss_eps
        self.primal_dual = primal_dual
        self.dual_step_size = dual_step_size
        self.dual_warmup = dual_warmup

    def dual_variable(self) -> DualVariable:
        """The multiplier at its initial value ``alpha``, moving from step
        ``round(dual_warmup * steps)`` on (never without ``primal_dual``)."""
        start = round(self.dual_warmup * self.steps) if self.primal_dual else self.steps
        return DualVariable(self.alpha, self.dual_step_size, start)

    def unlearn(self, task: UnlearnTask) -> nn.Module:
        model, ad = task.model, lm_adapter(task.adapter, self.name)
        forget, retain = streams(task, self.batch_size)
        dual = self.dual_variable()

        def loss(t: int) -> torch.Tensor:
            out, b = ad.forward(model, next(forget))
            gap = ad.loss(model, next(retain)) - self.retain_loss_eps
            total = self.gamma * logit_margin_loss(out.logits, b["labels"]) + dual.value * gap
            dual.update(t, gap.item())
            return total

        return optimize(model, make_optimizer(model, self.optimizer, self.lr), self.steps, loss)
