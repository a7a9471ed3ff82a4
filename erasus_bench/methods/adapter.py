"""Model adapters: the few model operations strategies and selectors need, per modality.

A protocol hands every method an adapter, so one strategy (e.g. gradient ascent) serves both
classifiers and causal LMs, and selectors get per-example losses, gradients and embeddings alike.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import nn

from erasus_bench.methods.examples import Batch, Examples


class ModelAdapter(ABC):
    """Per-example views of a model for one modality (``classifier`` or ``causal_lm``)."""

    modality: str

    @abstractmethod
    def per_example_loss(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        """Training loss of each example in ``batch``, shape [B]."""

    @abstractmethod
    def logits(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        """Model outputs before softmax ([B, C] for classifiers, [B, T, V] for LMs)."""

    @abstractmethod
    def embed(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        """A representation of each example, [B, D] (penultimate layer / mean hidden state)."""

    @abstractmethod
    def last_layer(self, model: nn.Module) -> nn.Module:
        """The output layer, whose gradients cheap selectors use."""

    def loss(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        """Mean training loss over ``batch``."""
        return self.per_example_loss(model, batch).mean()

    def evaluate_losses(self, model: nn.Module, examples: Examples, batch_size: int = 512
                        ) -> torch.Tensor:
        """Per-example losses over a whole set, without gradients, in eval mode."""
        was_training = model.training
        model.eval()
        with torch.no_grad():
            out = (torch.cat([self.per_example_loss(model, b)
                              for b in examples.batches(batch_size)]) if len(examples)
                   else torch.empty(0))
        model.train(was_training)
        return out

    def embeddings(self, model: nn.Module, examples: Examples, batch_size: int = 512
                   ) -> torch.Tensor:
        """Embeddings of a whole set, [N, D], without gradients."""
        was_training = model.training
        model.eval()
        with torch.no_grad():
            out = torch.cat([self.embed(model, b) for b in examples.batches(batch_size)])
        model.train(was_training)
        return out
