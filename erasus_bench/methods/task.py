"""What a strategy and a selector are given: the model, the data they may touch, the adapter."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from erasus_bench.methods.adapter import ModelAdapter
from erasus_bench.methods.examples import Examples

ALL_MODALITIES = ("classifier", "causal_lm")


@dataclass
class UnlearnTask:
    """Inputs of one unlearning run.

    ``model`` is a private copy of the base model that the strategy may modify and return;
    ``original`` is a frozen copy of the base model (teacher for distillation methods);
    ``forget`` holds only the coreset the selector chose; ``retain`` is the retain split.
    """

    model: nn.Module
    original: nn.Module
    forget: Examples
    retain: Examples
    adapter: ModelAdapter
    seed: int
    num_classes: int | None = None
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    def generator(self, salt: int = 0) -> torch.Generator:
        """A torch generator seeded from the cell seed (``salt`` separates independent streams)."""
        return torch.Generator().manual_seed(self.seed * 1_000_003 + salt)


@dataclass
class SelectionContext:
    """Inputs of one coreset selection: the base model (read only) and the full forget set."""

    model: nn.Module
    forget: Examples
    adapter: ModelAdapter
    seed: int
    num_classes: int | None = None

    def generator(self, salt: int = 0) -> torch.Generator:
        """A torch generator seeded from the cell seed."""
        return torch.Generator().manual_seed(self.seed * 1_000_003 + 7919 + salt)
