"""SCRUB (Kurmanji et al., NeurIPS 2023, "Towards Unbounded Machine Unlearning"): a student
moves away from the original model on the forget set while staying close to it on retain."""
from __future__ import annotations

import math

import torch
from torch import nn

from erasus_bench.methods.strategies._common import (FORGET_SALT, RETAIN_SALT, kl_per_example,
                                                     make_optimizer, optimize, pass_steps)
from erasus_bench.methods.strategies.base import CLASSIFIER_ONLY, Strategy, register_strategy
from erasus_bench.methods.task import UnlearnTask


def scrub_epoch(epoch: int, msteps: int, cycle_epochs: int, forget_pass: int, retain_pass: int
                ) -> list[bool]:
    """Steps of one reference epoch (True = max-step): a pass over forget of max-steps when the
    epoch is among the first ``msteps`` of its cycle of ``cycle_epochs``, then a pass over
    retain of min-steps."""
    return [True] * (forget_pass if epoch % cycle_epochs < msteps else 0) + [False] * retain_pass


def max_step_schedule(steps: int, msteps: int, forget_pass: int, retain_pass: int,
                      cycle_epochs: int) -> list[bool]:
    """Which of ``steps`` steps are max-steps: the reference run (``cycle_epochs`` epochs)
    laid out in order and repeated, cut at the front so that the budget ends where a run ends
    (on the reference's closing min epochs, never in the middle of an ascent)."""
    run = [s for e in range(cycle_epochs)
           for s in scrub_epoch(e, msteps, cycle_epochs, forget_pass, retain_pass)]
    repeats = math.ceil(steps / len(run))
    return (run * repeats)[len(run) * repeats - steps:]


@register_strategy("scrub", description="SCRUB: max KL to the original on forget, min KL + CE "
                   "on retain", modalities=CLASSIFIER_ONLY)
class Scrub(Strategy):
    """Max-steps minimise ``-KL(teacher||student)`` on forget batches of ``forget_batch_size``;
    min-steps minimise ``alpha * KL(teacher||student) + gamma * L`` on retain batches of
    ``batch_size`` (teacher = ``task.original``, KL x T^2 at temperature ``temperature``).
    Defaults follow the reference notebook (``large_scale_unlearning.ipynb``: SGD, lr 5e-4,
    alpha 0.001, gamma 0.99, T 4, msteps 2, forget batch 32, retain batch 128, 3 epochs).
    The reference run is ``cycle_epochs`` (its ``sgda_epochs``) epochs whose first ``msteps``
    open with a forget pass; the step budget repeats that run, cut at the front so the budget
    ends as a run does (``max_step_schedule``). Deliberate: running the reference's epoch loop
    longer would leave only ``msteps`` forget passes however large the budget (a 10% coreset's
    1-2 max-steps among ~150 min-steps: no forgetting), and a cut at the end can stop right
    after an ascent (measured: retain acc 0.99 -> 0.90). Its weight decay (5e-4) and lr decay
    (after epoch 3, i.e. never within its run) are not used."""

    paper = "Kurmanji et al. 2023"

    def __init__(self, steps: int = 150, batch_size: int = 128, lr: float = 5e-4,
                 optimizer: str = "sgd", alpha: float = 0.001, gamma: float = 0.99,
                 temperature: float = 4.0, msteps: int = 2, forget_batch_size: int = 32,
                 cycle_epochs: int = 3) -> None:
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.alpha = alpha
        self.gamma = gamma
        self.temperature = temperature
        self.msteps = msteps
        self.forget_batch_size = forget_batch_size
        self.cycle_epochs = cycle_epochs

    def steps_for_epochs(self, task: UnlearnTask, epochs: float) -> int:
        """Steps of ``epochs`` reference epochs (max-steps over the coreset in the first
        ``msteps`` epochs of each cycle, a min-step pass over retain in every epoch)."""
        f = pass_steps(task.forget, self.forget_batch_size)
        r = pass_steps(task.retain, self.batch_size)
        whole = int(epochs)
        steps = sum(len(scrub_epoch(e, self.msteps, self.cycle_epochs, f, r))
                    for e in range(whole))
        part = len(scrub_epoch(whole, self.msteps, self.cycle_epochs, f, r)) * (epochs - whole)
        return max(1, steps + round(part))

    def unlearn(self, task: UnlearnTask) -> nn.Module:
        model, teacher, ad = task.model, task.original, task.adapter
        forget = task.forget.stream(self.forget_batch_size, task.generator(FORGET_SALT))
        retain = task.retain.stream(self.batch_size, task.generator(RETAIN_SALT))
        is_max = max_step_schedule(self.steps, self.msteps,
                                   pass_steps(task.forget, self.forget_batch_size),
                                   pass_steps(task.retain, self.batch_size), self.cycle_epochs)

        def kl(batch: dict[str, torch.Tensor]) -> torch.Tensor:
            with torch.no_grad():
                target = ad.logits(teacher, batch)
            return kl_per_example(ad.logits(model, batch), target, self.temperature).mean()

        def loss(t: int) -> torch.Tensor:
            if is_max[t]:
                return -kl(next(forget))
            batch = next(retain)
            return self.alpha * kl(batch) + self.gamma * ad.loss(model, batch)

        opt = make_optimizer(model, self.optimizer, self.lr)
        return optimize(model, opt, self.steps, loss)
