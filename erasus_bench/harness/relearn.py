"""The relearning attack: fine-tune a copy of a model on half of the forget set and follow a
metric on the other half (Hu et al., ICLR 2025; Deeb & Roger, arXiv 2410.08827)."""
from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

import torch
from torch import nn

from erasus_bench.methods.adapter import ModelAdapter
from erasus_bench.methods.examples import Examples


@dataclass(frozen=True)
class RelearnRecipe:
    """The attacker's fine-tuning: optimizer, learning rate, steps, batch size, and how often
    the curve is measured (every ``every`` steps, step 0 included)."""

    optimizer: str  # "sgd" or "adamw"
    lr: float
    steps: int
    batch_size: int
    every: int
    momentum: float = 0.0  # SGD only

    def settings(self) -> dict:
        return asdict(self)

    def checkpoints(self) -> list[int]:
        """The steps at which the curve is measured."""
        return sorted({*range(0, self.steps + 1, self.every), self.steps})


def _steps(model: nn.Module, adapter: ModelAdapter, data: Examples, recipe: RelearnRecipe,
           seed: int) -> Iterator[tuple[int, nn.Module]]:
    """(step, the attacked copy) from step 0 to ``recipe.steps``: a copy of ``model`` trained
    on ``data`` with the adapter's training loss (answer tokens only for LMs)."""
    attacked = copy.deepcopy(model).requires_grad_(True)
    params = [p for p in attacked.parameters() if p.requires_grad]
    opt = (torch.optim.SGD(params, lr=recipe.lr, momentum=recipe.momentum)
           if recipe.optimizer == "sgd" else torch.optim.AdamW(params, lr=recipe.lr))
    stream = data.stream(recipe.batch_size, torch.Generator().manual_seed(seed))
    yield 0, attacked
    for step in range(1, recipe.steps + 1):
        attacked.train()
        opt.zero_grad()
        adapter.loss(attacked, next(stream)).backward()
        opt.step()
        yield step, attacked
    attacked.eval()


def relearn_curve(model: nn.Module, adapter: ModelAdapter, half_a: Examples,
                  metric: Callable[[nn.Module], float], recipe: RelearnRecipe, seed: int
                  ) -> list[float]:
    """``metric`` of a copy of ``model`` at each of ``recipe.checkpoints()`` while it trains on
    ``half_a``; ``model`` itself is left as it was."""
    marks = set(recipe.checkpoints())
    return [metric(m) for step, m in _steps(model, adapter, half_a, recipe, seed)
            if step in marks]


def relearned(model: nn.Module, adapter: ModelAdapter, data: Examples, recipe: RelearnRecipe,
              seed: int) -> nn.Module:
    """A copy of ``model`` after the recipe's steps on ``data``."""
    for _, attacked in _steps(model, adapter, data, recipe, seed):
        pass
    return attacked.eval()
