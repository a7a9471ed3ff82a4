"""Content-addressed on-disk cache of trained models (outside the repository)."""
from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from erasus_bench.harness.cache_dir import default_cache_dir
from erasus_bench.harness.spec import stable_hash


class ModelCache:
    """Stores state dicts under the hash of everything that determines them."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root else default_cache_dir()

    def path(self, key: dict[str, Any]) -> Path:
        return self.root / "models" / f"{stable_hash(key, 24)}.pt"

    def get_or_train(self, key: dict[str, Any], model: nn.Module,
                     train: Callable[[], nn.Module]) -> tuple[nn.Module, float]:
        """Load the weights stored under ``key`` into ``model``, or train, store and return.

        Returns the model and the wall time its training took (measured when it was trained).
        """
        path = self.path(key)
        if path.exists():
            blob = torch.load(path, map_location="cpu", weights_only=True)
            model.load_state_dict(blob["state_dict"])
            model.eval()
            return model, float(blob["train_s"])
        start = time.perf_counter()
        trained = train()
        train_s = time.perf_counter() - start
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(fd)
        try:
            torch.save({"state_dict": trained.state_dict(), "train_s": train_s,
                        "key": json.dumps(key, sort_keys=True, default=str)}, tmp)
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return trained, train_s
