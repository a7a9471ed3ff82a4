"""The shared loop of the token-level LLM methods (WGA, SatImp, CE-U, UNDIAL):
``gamma * forget term + alpha * retain NLL`` for ``steps`` optimizer steps, as open-unlearning's
trainers combine them (``compute_loss``); the retain batch is not read when ``alpha`` is 0."""
from __future__ import annotations

from abc import abstractmethod

import torch
from torch import nn

from erasus_bench.methods.examples import Batch
from erasus_bench.methods.strategies._common import make_optimizer, optimize, streams
from erasus_bench.methods.strategies._preference import lm_adapter
from erasus_bench.methods.strategies.base import Strategy
from erasus_bench.methods.task import UnlearnTask


class TokenForget(Strategy):
    """Subclasses set their hyperparameters in ``__init__`` (``steps``, ``batch_size``, ``lr``,
    ``optimizer``, ``gamma``, ``alpha`` and their own) and define ``forget_term``."""

    steps: int
    batch_size: int
    lr: float
    optimizer: str
    gamma: float
    alpha: float

    @abstractmethod
    def forget_term(self, task: UnlearnTask, model: nn.Module, batch: Batch) -> torch.Tensor:
        """The method's loss on one forget batch."""

    def unlearn(self, task: UnlearnTask) -> nn.Module:
        model, ad = task.model, lm_adapter(task.adapter, self.name)
        forget, retain = streams(task, self.batch_size)

        def loss(_: int) -> torch.Tensor:
            total = self.gamma * self.forget_term(task, model, next(forget))
            return total + self.alpha * ad.loss(model, next(retain)) if self.alpha else total

        return optimize(model, make_optimizer(model, self.optimizer, self.lr), self.steps, loss)
