"""The coreset selector contract and its registration decorator."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar

import numpy as np
import torch

from erasus_bench.methods.task import ALL_MODALITIES, SelectionContext
from erasus_bench.registry import SELECTORS


class Selector(ABC):
    """Chooses ``k`` examples of the forget set; returns their indices into the forget set."""

    name: ClassVar[str] = ""
    uses_early_models: ClassVar[bool] = False  # charged ctx.early_train_s when True
    paper: ClassVar[str] = ""  # short citation ("Author et al. YEAR"), as `list` shows it

    @abstractmethod
    def select(self, ctx: SelectionContext, k: int) -> np.ndarray:
        """``k`` distinct indices into ``ctx.forget``, best first (the model must be left
        unchanged); ``select(ctx, k)`` is the first ``k`` of ``rank(ctx)``."""

    def rank(self, ctx: SelectionContext) -> np.ndarray:
        """Every index of ``ctx.forget``, best first (what rank aggregation reads)."""
        return np.asarray(self.select(ctx, len(ctx.forget)), dtype=np.int64)


def top_k(scores: torch.Tensor | np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores; ties broken by lower index (stable, deterministic)."""
    s = np.asarray(scores.detach().cpu() if isinstance(scores, torch.Tensor) else scores,
                   dtype=np.float64)
    return np.argsort(-s, kind="stable")[:k].astype(np.int64)


def register_selector(name: str, *, description: str,
                      modalities: tuple[str, ...] = ALL_MODALITIES) -> Callable[[type], type]:
    """Class decorator registering a Selector subclass."""

    def deco(cls: type) -> type:
        cls.name = name
        return SELECTORS.register(name, description=description, applies_to=modalities)(cls)

    return deco
