"""k-means++ seeding on penultimate embeddings (Arthur & Vassilvitskii, SODA 2007, "k-means++:
The Advantages of Careful Seeding"), by scikit-learn's ``kmeans_plusplus``."""
from __future__ import annotations

import numpy as np
import torch
from sklearn.cluster import kmeans_plusplus

from erasus_bench.methods.selectors.base import Selector, register_selector
from erasus_bench.methods.task import SelectionContext


def kmeans_pp_indices(emb: np.ndarray, k: int, seed: int) -> np.ndarray:
    """The paper's D² seeding (one trial per centre: scikit-learn's ``n_local_trials=1``; its
    default 2 + log k is the greedy variant). Duplicate points can make it pick a point twice:
    the seeds are kept once, in order, then topped up by the farthest point from those chosen."""
    k = min(k, len(emb))
    if k == 0:
        return np.empty(0, dtype=np.int64)
    _, idx = kmeans_plusplus(emb, n_clusters=k, random_state=seed, n_local_trials=1)
    chosen = list(dict.fromkeys(int(i) for i in idx))
    d2 = ((emb[:, None, :] - emb[chosen][None, :, :]) ** 2).sum(-1).min(1)
    d2[chosen] = -np.inf
    while len(chosen) < k:
        i = int(np.argmax(d2))
        chosen.append(i)
        d2 = np.minimum(d2, ((emb - emb[i]) ** 2).sum(1))
        d2[chosen] = -np.inf
    return np.asarray(chosen, dtype=np.int64)


@register_selector("kmeans_pp", description="k-means++ seeding (D² sampling) on the forget "
                   "set's penultimate embeddings (Arthur & Vassilvitskii 2007)")
class KMeansPP(Selector):
    """k-means++ seeds on ``adapter.embeddings`` as the coreset; the seeding's random state is
    drawn from ``ctx.generator(salt=2)``."""

    paper = "Arthur & Vassilvitskii 2007"

    def select(self, ctx: SelectionContext, k: int) -> np.ndarray:
        if len(ctx.forget) == 0:
            return np.empty(0, dtype=np.int64)
        emb = ctx.adapter.embeddings(ctx.model, ctx.forget).double().cpu().numpy()
        seed = int(torch.randint(2**31 - 1, (1,), generator=ctx.generator(salt=2)).item())
        return kmeans_pp_indices(emb, k, seed)
