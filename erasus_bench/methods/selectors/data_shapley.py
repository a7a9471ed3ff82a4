"""KNN-Shapley data values (Jia et al., VLDB 2019, "Efficient Task-Specific Data Valuation for
Nearest Neighbor Algorithms", Theorem 1: exact Shapley values of the unweighted KNN utility in
O(N log N) per test point) on penultimate embeddings."""
from __future__ import annotations

import numpy as np

from erasus_bench.methods.selectors.base import Selector, register_selector, top_k
from erasus_bench.methods.task import SelectionContext

K_NEIGHBOURS = 5


def knn_shapley(train: np.ndarray, train_y: np.ndarray, test: np.ndarray, test_y: np.ndarray,
                k: int = K_NEIGHBOURS) -> np.ndarray:
    """Exact Shapley value of every training point for the utility "share of the K nearest
    training points that carry the test label", averaged over the test points: with the
    training points sorted nearest first (a_1..a_N, ties by index),
    s(a_N) = [y(a_N) = y] / N and s(a_i) = s(a_{i+1}) + ([y(a_i) = y] - [y(a_{i+1}) = y]) / K
    * min(K, i) / i."""
    n = len(train)
    values = np.zeros(n)
    for x, y in zip(test, test_y):
        order = np.argsort(((train - x) ** 2).sum(1), kind="stable")
        match = (train_y[order] == y).astype(np.float64)
        s = np.zeros(n)
        s[n - 1] = match[n - 1] / n
        for i in range(n - 2, -1, -1):  # position i holds a_{i+1} in the paper's 1-based terms
            s[i] = s[i + 1] + (match[i] - match[i + 1]) / k * min(k, i + 1) / (i + 1)
        values[order] += s
    return values / max(len(test), 1)


def leave_one_out_values(emb: np.ndarray, y: np.ndarray, k: int = K_NEIGHBOURS) -> np.ndarray:
    """Each forget example's KNN-Shapley value for classifying the other forget examples (each
    test point j valued against the forget set without j), averaged over test points."""
    n = len(emb)
    values = np.zeros(n)
    for j in range(n):
        rest = np.delete(np.arange(n), j)
        values[rest] += knn_shapley(emb[rest], y[rest], emb[j:j + 1], y[j:j + 1], k)
    return values / max(n, 1)


@register_selector("data_shapley", description="top-k KNN-Shapley value (exact, Jia et al. "
                   "2019) of each forget example for classifying the rest of the forget set",
                   modalities=("classifier",))
class DataShapley(Selector):
    """Top-``k`` leave-one-out KNN-Shapley values (K = 5) on ``adapter.embeddings`` with the
    forget set's labels: the examples that most support the model's neighbourhood evidence for
    the forget set. Deterministic; ties to the lower index."""

    paper = "Jia et al. 2019"

    def select(self, ctx: SelectionContext, k: int) -> np.ndarray:
        n = len(ctx.forget)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        emb = ctx.adapter.embeddings(ctx.model, ctx.forget).double().cpu().numpy()
        y = ctx.forget.tensors["y"].cpu().numpy()
        return top_k(leave_one_out_values(emb, y), min(k, n))
