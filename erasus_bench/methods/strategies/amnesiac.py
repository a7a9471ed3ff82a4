"""Amnesiac unlearning (Graves, Nagisetti & Ganesh, AAAI 2021, "Amnesiac Machine Learning"):
subtract the logged parameter updates of every training batch that held a forgotten example,
then repair briefly on the retained data."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from erasus_bench.methods.strategies._common import RETAIN_SALT, make_optimizer, optimize
from erasus_bench.methods.strategies.base import Strategy, register_strategy
from erasus_bench.methods.task import UnlearnTask
from erasus_bench.methods.training_run import TrainingRun


@dataclass
class UpdateLog:
    """Base training's parameter updates: ``deltas[t]`` is step ``t``'s update (after - before,
    every trainable parameter flattened in ``parameters()`` order, float32); the positions in
    the training set of step ``t``'s batch are ``positions[offsets[t]:offsets[t + 1]]``."""

    deltas: torch.Tensor
    positions: np.ndarray
    offsets: np.ndarray

    def steps_holding(self, positions: np.ndarray) -> np.ndarray:
        """The steps whose batch held any of ``positions`` (ascending)."""
        step_of = np.repeat(np.arange(len(self.deltas)), np.diff(self.offsets))
        return np.unique(step_of[np.isin(self.positions, positions)])


def update_log(run: TrainingRun) -> UpdateLog:
    """Replay base training, logging every step's update and its batch's positions."""
    deltas: list[torch.Tensor] = []
    batches: list[np.ndarray] = []

    def observe(epoch: int, step: int, positions: np.ndarray, logits: torch.Tensor,
                labels: torch.Tensor, before: dict[str, torch.Tensor], after: nn.Module
                ) -> None:
        deltas.append(torch.cat([(p.detach() - before[k]).reshape(-1).float()
                                 for k, p in after.named_parameters()]))
        batches.append(np.asarray(positions, dtype=np.int32))

    run.replay(observe)
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in batches])]).astype(np.int64)
    return UpdateLog(torch.stack(deltas), np.concatenate(batches), offsets)


def subtract_updates(model: nn.Module, log: UpdateLog, positions: np.ndarray,
                     undone: np.ndarray | None = None) -> np.ndarray:
    """Subtract from ``model``'s parameters the logged updates of the steps whose batch held
    any of ``positions``, except steps in ``undone`` (subtracted by an earlier deletion
    request); returns the steps subtracted now."""
    steps = log.steps_holding(positions)
    if undone is not None:
        steps = np.setdiff1d(steps, undone)
    if len(steps):
        params = list(model.parameters())
        with torch.no_grad():
            flat = parameters_to_vector(params) - log.deltas[steps].sum(0).to(params[0].dtype)
            vector_to_parameters(flat, params)
    return steps


@register_strategy("amnesiac", description="Amnesiac: subtract the logged updates of the "
                   "training batches that held a forgotten example, then repair on retain",
                   modalities=("classifier",))
class Amnesiac(Strategy):
    """Undo, from the base model, the parameter update of every base-training batch that held a
    coreset example (positions ``task.training_run.pool_pos[task.coreset_pos]``), then train
    ``steps`` optimizer steps of cross-entropy on retain batches of ``batch_size`` (the
    protocol's budget) with ``optimizer``/``lr``. The update log (every step's update, float32,
    and its batch's positions) is a training-time artifact of one replay of base training: the
    reference notebook (lmgraves/AmnesiacML, "Amnesiac Unlearning - MNIST") logs each
    sensitive batch's weight and bias update during training; here every batch is logged, since
    which examples will be forgotten is not known while training. Unlearning cost is the
    subtraction and the repair. The reference subtracts with a constant of 1 and then keeps
    training on the non-sensitive data with the training optimizer (Adam, lr 1e-3) and its
    state; here the repair's Adam starts fresh (base training's optimizer state is not kept),
    at the base recipe's (and the reference's) lr 1e-3, for the protocol's step budget rather
    than the reference's epochs. The paper targets a few examples; with a forget set of ~10% of
    train nearly every batch held one, so the subtraction undoes most of training and the
    repair retrains from near the initialisation, as published. Needs the training run, so
    classifiers only."""

    paper = "Graves et al. 2021"
    guarantee = "approximate"

    def __init__(self, steps: int = 150, batch_size: int = 64, lr: float = 1e-3,
                 optimizer: str = "adam") -> None:
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer

    def unlearn(self, task: UnlearnTask) -> nn.Module:
        run = task.training_run
        if run is None or task.coreset_pos is None:
            raise ValueError("amnesiac needs the base model's training run and the coreset's "
                             "positions (UnlearnTask.training_run, coreset_pos), which this "
                             "protocol lacks")
        model = task.model
        log = run.artifact("update_log", {}, lambda: update_log(run))
        # a later deletion request must not undo a step twice: the model keeps what it undid
        before = getattr(model, "amnesiac_undone", np.empty(0, dtype=np.int64))
        now = subtract_updates(model, log, run.pool_pos[task.coreset_pos], before)
        model.amnesiac_undone = np.union1d(before, now)
        model.unlearning_report = {"steps_undone": len(now),
                                   "steps_undone_total": len(model.amnesiac_undone)}
        retain = task.retain.stream(self.batch_size, task.generator(RETAIN_SALT))

        def loss(_t: int) -> torch.Tensor:
            b = next(retain)
            return F.cross_entropy(model(b["x"]), b["y"])

        return optimize(model, make_optimizer(model, self.optimizer, self.lr), self.steps, loss)
