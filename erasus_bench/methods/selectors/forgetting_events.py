"""Forgetting events (Toneva, Sordoni, Combes, Trischler, Bengio & Gordon, ICLR 2019, "An
Empirical Study of Example Forgetting during Deep Neural Network Learning"): rank the forget
set by how often base training forgot each example (correct -> incorrect between two
consecutive presentations)."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from erasus_bench.methods.selectors.base import Selector, register_selector, top_k
from erasus_bench.methods.task import SelectionContext
from erasus_bench.methods.training_run import TrainingRun


def presentation_accuracy(run: TrainingRun) -> np.ndarray:
    """[epochs, len(run.train)] bool: whether each example was classified correctly when it
    was presented in each epoch (the batch's train-mode outputs before the update), recorded
    by replaying the base model's training."""
    n = len(run.train)
    epochs: list[np.ndarray] = []

    def observe(epoch: int, step: int, positions: np.ndarray, logits: torch.Tensor,
                labels: torch.Tensor, before: dict[str, torch.Tensor], after: nn.Module
                ) -> None:
        if epoch == len(epochs):
            epochs.append(np.zeros(n, dtype=bool))
        epochs[epoch][positions] = (logits.argmax(1) == labels).numpy()

    run.replay(observe)
    return np.stack(epochs)


def forgetting_counts(acc: np.ndarray) -> np.ndarray:
    """Forgetting events per example of a [presentations, examples] 0/1 accuracy array: the
    1 -> 0 transitions between consecutive presentations; an example never classified
    correctly counts as many events as there are presentations (the reference's maximum)."""
    acc = np.asarray(acc, dtype=np.int64)
    events = (np.diff(acc, axis=0) == -1).sum(0)
    return np.where(acc.any(0), events, acc.shape[0])


def first_learned(acc: np.ndarray) -> np.ndarray:
    """The first presentation at which each example was classified correctly (the number of
    presentations for one never learned)."""
    acc = np.asarray(acc, dtype=bool)
    return np.where(acc.any(0), acc.argmax(0), acc.shape[0])


@register_selector("forgetting_events", description="top-k most forgotten during base training "
                   "(forgetting events; Toneva et al. 2019)", modalities=("classifier",))
class ForgettingEvents(Selector):
    """Top-``k`` of the forget set by forgetting events counted over the base model's own
    training run (one presentation per example per epoch, as in the reference
    ``run_cifar.py``/``order_examples_by_forgetting.py``): never-learned examples first (counted
    as the number of epochs, as the reference does), "unforgettable" ones (learned, never
    forgotten: 0 events) last. Ties (on the digits MLP nearly the whole forget set is
    unforgettable) go to the example learned later (its first correct presentation, which the
    reference computes but does not sort by; its own order among ties is arbitrary), then to
    the lower position in the forget set. The per-presentation
    accuracies are a training-time artifact of one replay of base training. The reference sorts
    ascending to find examples safe to drop; ranking most-forgotten first is what a coreset of
    the hardest-to-keep examples needs. Needs the training run, so classifiers only."""

    paper = "Toneva et al. 2019"
    guarantee = "approximate"

    def select(self, ctx: SelectionContext, k: int) -> np.ndarray:
        run = ctx.training_run
        if run is None:
            raise ValueError("forgetting_events needs the base model's training run "
                             "(SelectionContext.training_run), which this protocol lacks")
        acc = run.artifact("presentation_accuracy", {}, lambda: presentation_accuracy(run))
        # lexicographic: forgetting events, then the first correct presentation (later first)
        score = forgetting_counts(acc) * (len(acc) + 1) + first_learned(acc)
        return top_k(score[run.pool_pos], min(k, len(ctx.forget)))
