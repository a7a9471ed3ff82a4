"""The adapter for classifiers whose modules expose ``features(x)`` (penultimate layer) and
``head``."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from erasus_bench.methods.adapter import ModelAdapter
from erasus_bench.methods.examples import Batch, Examples


class ClassifierAdapter(ModelAdapter):
    """Batches are ``{"x": features, "y": labels}``; loss is per-example cross-entropy."""

    modality = "classifier"

    def per_example_loss(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        return F.cross_entropy(model(batch["x"]), batch["y"], reduction="none")

    def logits(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        return model(batch["x"])

    def all_logits(self, model: nn.Module, examples: Examples) -> torch.Tensor:
        """Logits of every example, in order (eval mode, no gradient)."""
        model.eval()
        with torch.no_grad():
            return torch.cat([self.logits(model, b) for b in examples.batches(1024)])

    def embed(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        return model.features(batch["x"])

    def last_layer(self, model: nn.Module) -> nn.Module:
        return model.head
