"""The base model's training run: replaying it with an observer, and caching what methods need
from it (training-time artifacts: paid once, before any deletion request)."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import torch
from torch import nn

from erasus_bench.harness.clock import Stopwatch
from erasus_bench.harness.cost import uncounted
from erasus_bench.harness.spec import CODE_VERSION, stable_hash
from erasus_bench.methods.examples import Examples

T = TypeVar("T")
ARTIFACT_VERSION = 1  # bump when what an observer records changes: it is part of the key


class TrainingObserver(Protocol):
    """Called once per optimizer step of the replayed training, after the update.

    ``epoch`` and ``step`` count from 0 (``step`` over the whole run); ``positions`` are the
    batch's positions in ``TrainingRun.train``; ``logits`` the batch's outputs before the update
    (train mode, detached); ``labels`` its labels; ``before`` the named parameters before the
    update (detached copies); ``after`` the model after it (read it, do not modify it).
    """

    def __call__(self, epoch: int, step: int, positions: np.ndarray, logits: torch.Tensor,
                 labels: torch.Tensor, before: dict[str, torch.Tensor], after: nn.Module
                 ) -> None: ...


# trains the base model from scratch, calling the observer (if any) at each optimizer step
Trainer = Callable[[TrainingObserver | None], nn.Module]


@dataclass(frozen=True)
class BaseRecipe:
    """How the base model was trained, for methods that train models of its kind (SISA's
    constituents): a freshly initialised model for a seed, the batch size and weight decay of
    its Adam, and the whole recipe as a cache key."""

    init_model: Callable[[int], nn.Module]
    batch_size: int
    weight_decay: float
    key: dict[str, Any]


class TrainingRun:
    """The base model's training run: its training set (the protocol's order), the positions in
    it of the setting's unlearning pool, its seed, a replay of it, and its cached artifacts.

    ``key`` identifies the run (the base model's cache key); artifacts are stored under
    ``cache_dir``/artifacts. ``built_s`` accumulates the seconds spent building artifacts
    (training-time cost, subtracted from selection and unlearning times by the runner),
    ``built_cpu_s`` their CPU seconds. ``recipe``: how the base model was trained (None when
    the protocol does not say).
    """

    def __init__(self, train: Examples, pool_pos: np.ndarray, seed: int, key: dict[str, Any],
                 cache_dir: str | Path, trainer: Trainer, recipe: BaseRecipe | None = None
                 ) -> None:
        self.train = train
        self.pool_pos = np.asarray(pool_pos, dtype=np.int64)
        self.seed = seed
        self.key = key
        self.cache_dir = Path(cache_dir)
        self.trainer = trainer
        self.recipe = recipe
        self.built_s = 0.0
        self.built_cpu_s = 0.0

    def artifact_path(self, name: str, params: dict[str, Any]) -> Path:
        key = {"training_run": self.key, "artifact": name, "params": params,
               "code_version": CODE_VERSION, "artifact_version": ARTIFACT_VERSION}
        return self.cache_dir / "artifacts" / f"{name}-{stable_hash(key, 24)}.pt"

    def artifact(self, name: str, params: dict[str, Any], build: Callable[[], T]) -> T:
        """``build()`` once per (training run, ``name``, ``params``, code version), stored
        atomically in the cache directory and loaded afterwards. Building is not counted as
        the caller's compute and its seconds are added to ``built_s``."""
        path = self.artifact_path(name, params)
        if path.exists():
            return torch.load(path, map_location="cpu", weights_only=False)
        with uncounted(), Stopwatch() as clock:
            value = build()
        self.built_s += clock.wall_s
        self.built_cpu_s += clock.cpu_s
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(fd)
        try:
            torch.save(value, tmp)
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return value

    def replay(self, observer: TrainingObserver) -> nn.Module:
        """Re-run the base model's training (same data, recipe and seed: the same model),
        calling ``observer`` at each optimizer step; returns the trained model."""
        return self.trainer(observer)

