"""Content-addressed on-disk cache of trained models (outside the repository)."""
from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from erasus_bench.harness.cache_dir import default_cache_dir
from erasus_bench.harness.clock import Stopwatch
from erasus_bench.harness.spec import stable_hash


@dataclass(frozen=True)
class Trained:
    """A model this cache object trained: where it is stored, wall and CPU seconds."""

    path: Path
    wall_s: float
    cpu_s: float


class ModelCache:
    """Stores state dicts under the hash of everything that determines them; ``trained``
    lists the models this object trained, ``used`` the files of every model it trained or
    found."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root else default_cache_dir()
        self.trained: list[Trained] = []
        self.used: list[Path] = []

    def path(self, key: dict[str, Any]) -> Path:
        return self.root / "models" / f"{stable_hash(key, 24)}.pt"

    def get_or_train(self, key: dict[str, Any], model: nn.Module,
                     train: Callable[[], nn.Module]) -> tuple[nn.Module, float]:
        """Load the weights stored under ``key`` into ``model``, or train, store and return.

        Returns the model and the wall time its training took (measured when it was trained).
        """
        self.used.append(self.path(key))
        loaded = self.load(key, model)
        if loaded is not None:
            return model, loaded
        with Stopwatch() as clock:
            trained = train()
        self.store(key, trained, clock.wall_s, clock.cpu_s)
        self.trained.append(Trained(self.path(key), clock.wall_s, clock.cpu_s))
        return trained, clock.wall_s

    def load(self, key: dict[str, Any], model: nn.Module) -> float | None:
        """Load the weights stored under ``key`` into ``model`` (eval mode) and return the
        seconds recorded with them; None (model untouched) when nothing is stored."""
        path = self.path(key)
        if not path.exists():
            return None
        blob = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(blob["state_dict"])
        model.eval()
        return float(blob["train_s"])

    def store(self, key: dict[str, Any], model: nn.Module, seconds: float,
              cpu_s: float | None = None) -> None:
        """Store ``model``'s weights under ``key`` atomically, with the seconds it took (and
        the CPU seconds, when measured)."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(fd)
        try:
            torch.save({"state_dict": model.state_dict(), "train_s": seconds,
                        "train_cpu_s": cpu_s,
                        "key": json.dumps(key, sort_keys=True, default=str)}, tmp)
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
