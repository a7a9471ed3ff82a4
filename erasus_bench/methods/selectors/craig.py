"""CRAIG (Mirzasoleiman, Bilmes & Leskovec, ICML 2020, "Coresets for Data-efficient Training of
Machine Learning Models"): greedy facility location over per-example gradient similarity, so
that every forget example has a chosen example whose gradient is close to its own.

For deep networks the paper bounds gradient differences by last-layer ones (its Sec. 3.4); as in
CORDS' ``CRAIGStrategy`` with ``linear_layer=True`` the gradient space is the last layer's
(weight and bias) per-example cross-entropy gradients. The similarity is the reference code's
(``baharanm/craig``, ``util.similarity``): ``s(i, j) = d_max - ||g_i - g_j||`` over the
examples of one class, 0 across classes; both references solve one facility location per class
(CORDS' ``Supervised`` variant writes that as one greedy on this block-diagonal similarity,
which is what this selector does: one greedy order over the whole forget set, so the ranking is
the pick order). The greedy machinery and the Euclidean similarity are
``facility_location``'s, applied to gradients instead of embeddings (CORDS squares the
distance; the original code, followed here, does not).
"""
from __future__ import annotations

import numpy as np

from erasus_bench.methods.selectors.base import Selector, register_selector
from erasus_bench.methods.selectors.facility_location import (greedy_facility_location,
                                                              similarities)
from erasus_bench.methods.selectors.last_layer import linear_head
from erasus_bench.methods.task import SelectionContext


def class_block_similarities(grads: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``similarities`` within each class (its own ``d_max``), 0 between classes, [N, N]."""
    sim = np.zeros((len(grads), len(grads)))
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        sim[np.ix_(idx, idx)] = similarities(grads[idx])
    return sim


@register_selector("craig", description="greedy facility location over per-example last-layer "
                   "gradients, per class (CRAIG, Mirzasoleiman et al. 2020)",
                   modalities=("classifier",))
class Craig(Selector):
    """The ``k`` first greedy maximisers of ``F(S) = sum_i max_{j in S} s(i, j)`` with ``s``
    the per-class gradient similarity (deterministic: no draw; ties to the lower index).
    Greedy is prefix-consistent, so ``select(ctx, k)`` is the head of the full pick order."""

    paper = "Mirzasoleiman et al. 2020"

    def select(self, ctx: SelectionContext, k: int) -> np.ndarray:
        n = len(ctx.forget)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        head = linear_head(ctx)
        sim = class_block_similarities(head.grads().numpy(), head.labels.numpy())
        return greedy_facility_location(sim, min(k, n))
