"""Forgetting events (Toneva et al. 2019) on hand-made presentation accuracies."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch

from erasus_bench.methods.classifier import ClassifierAdapter
from erasus_bench.methods.examples import Examples
from erasus_bench.methods.selectors.forgetting_events import (ForgettingEvents,
                                                              first_learned,
                                                              forgetting_counts,
                                                              presentation_accuracy)
from erasus_bench.methods.task import SelectionContext

# rows: presentations (epochs), columns: examples
ACC = np.array([[1, 0, 1, 0, 0],
                [0, 0, 1, 1, 1],
                [1, 0, 1, 1, 0],
                [0, 0, 1, 0, 1],
                [1, 0, 1, 0, 0]])


def test_counts_are_the_hand_counted_one_to_zero_transitions() -> None:
    # ex 0: 1 0 1 0 1 -> two falls; ex 1 never learned -> 5 (the number of presentations);
    # ex 2 unforgettable -> 0; ex 3: 0 1 1 0 0 -> one; ex 4: 0 1 0 1 0 -> two
    assert forgetting_counts(ACC).tolist() == [2, 5, 0, 1, 2]


def _ctx(pool_pos: list[int], acc: np.ndarray = ACC) -> SelectionContext:
    run = SimpleNamespace(pool_pos=np.array(pool_pos),
                          artifact=lambda name, params, build: acc.astype(bool))
    forget = Examples({"x": torch.zeros(len(pool_pos), 1),
                       "y": torch.zeros(len(pool_pos), dtype=torch.long)})
    return SelectionContext(torch.nn.Linear(1, 2), forget, ClassifierAdapter(), 0, 2,
                            training_run=run)


def test_first_learned_is_the_first_correct_presentation() -> None:
    assert first_learned(ACC).tolist() == [0, 5, 0, 1, 1]


def test_ranks_most_forgotten_first_then_learned_later_unforgettable_last() -> None:
    # counts 2, 5, 0, 1, 2: ex 1 first; ex 0 and ex 4 tie at 2, ex 4 learned later goes first
    assert ForgettingEvents().select(_ctx([0, 1, 2, 3, 4]), 5).tolist() == [1, 4, 0, 3, 2]
    # a pool of train positions 4, 2, 0: counts 2, 0, 2, first learned 1, 0, 0
    assert ForgettingEvents().select(_ctx([4, 2, 0]), 2).tolist() == [0, 2]
    # equal keys (both learned at presentation 1, never forgotten) keep the forget-set order
    tie = np.array([[0, 0, 1], [1, 1, 1]])
    assert ForgettingEvents().select(_ctx([2, 1, 0], tie), 3).tolist() == [1, 2, 0]


def test_presentation_accuracy_records_each_batch_before_its_update() -> None:
    """A replay of two epochs over three examples (batches of two then one) whose logits say
    which examples are right: the array holds them per epoch and position."""
    steps = [(0, [2, 0], [True, False]), (0, [1], [True]),
             (1, [1, 2], [False, False]), (1, [0], [True])]

    def replay(observer) -> None:
        for t, (epoch, pos, right) in enumerate(steps):
            labels = torch.zeros(len(pos), dtype=torch.long)
            logits = torch.tensor([[1.0, 0.0] if r else [0.0, 1.0] for r in right])
            observer(epoch, t, np.array(pos), logits, labels, {}, None)

    run = SimpleNamespace(train=Examples({"x": torch.zeros(3, 1)}), replay=replay)
    got = presentation_accuracy(run)
    assert got.tolist() == [[False, True, True], [True, False, False]]
