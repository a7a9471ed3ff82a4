"""The `general` protocol's classifier (a small MLP) and its training recipe."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from erasus_bench.methods.examples import Examples
from erasus_bench.methods.training_run import TrainingObserver

RECIPE_VERSION = 1  # bump when the training code below changes: it is part of the cache key


class MLP(nn.Module):
    """Two hidden ReLU layers; ``features`` is the penultimate representation."""

    def __init__(self, in_dim: int, num_classes: int, hidden: int = 128) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(),
                                  nn.Linear(hidden, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


@dataclass(frozen=True)
class Recipe:
    """How base and gold models are trained (identical for both; only the data differs)."""

    hidden: int = 128
    epochs: int = 60
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4

    def key(self) -> dict:
        return {**asdict(self), "recipe_version": RECIPE_VERSION}


def build_model(in_dim: int, num_classes: int, recipe: Recipe, seed: int) -> MLP:
    """A freshly initialised MLP (initialisation seeded by ``seed``)."""
    torch.manual_seed(seed)
    return MLP(in_dim, num_classes, recipe.hidden)


def train_model(data: Examples, in_dim: int, num_classes: int, recipe: Recipe, seed: int,
                observer: TrainingObserver | None = None) -> MLP:
    """Train from scratch with Adam for ``recipe.epochs`` epochs; same seed, same result.
    ``observer`` (a replay of the run, methods.training_run) is called after each optimizer
    step; it changes nothing in the training itself."""
    model = build_model(in_dim, num_classes, recipe, seed)
    opt = torch.optim.Adam(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    step = 0
    for epoch in range(recipe.epochs):
        # the shuffle of Examples.batches, written out to know each batch's positions
        order = torch.randperm(len(data), generator=gen)
        for start in range(0, len(data), recipe.batch_size):
            pos = order[start:start + recipe.batch_size]
            batch = data[pos]
            before = ({k: p.detach().clone() for k, p in model.named_parameters()}
                      if observer is not None else {})
            opt.zero_grad()
            logits = model(batch["x"])
            F.cross_entropy(logits, batch["y"]).backward()
            opt.step()
            if observer is not None:
                observer(epoch, step, pos.numpy(), logits.detach(), batch["y"], before, model)
            step += 1
    model.zero_grad(set_to_none=True)
    model.eval()
    return model
