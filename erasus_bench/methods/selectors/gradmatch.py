"""GRAD-MATCH (Killamsetty, Sivasubramanian, Ramakrishnan, De & Iyer, ICML 2021, "GRAD-MATCH:
Gradient Matching based Data Subset Selection for Efficient Deep Model Training"): orthogonal
matching pursuit picks examples whose non-negatively weighted gradients match the forget set's
summed gradient.

As the reference (CORDS ``GradMatchStrategy`` with ``valid=False``, ``linear_layer=True``;
solver ``helpers/omp_solvers.py``, ``OrthogonalMP_REG_Parallel_V1``, ``positive=True``) the
dictionary is the per-example last-layer (weight and bias) cross-entropy gradients ``g_i``, the
target ``b = sum_i g_i``, and each step

1. picks the unchosen example of largest correlation ``g_i . r`` with the residual
   ``r = b - sum_{j in S} w_j g_j``,
2. re-solves the weights on the support by ridge least squares,
   ``(G_S G_S^T + lam I) w = G_S b`` (lam = 0.5, CORDS' GRAD-MATCH configs),
3. while a weight is negative, drops the most negative example from the support and re-solves.

Deviations, for a ranking that ``select(ctx, k) == rank(ctx)[:k]`` can read: the first step
uses the same ridge solve (the reference takes ``g . r / ||g||^2`` without lam there); an
example the non-negativity step drops is barred from re-entry (the reference may re-pick it,
spending its budget on the cycle); one OMP over the whole forget set (the reference's per-class
runs, a speed-up, shuffle their merged output at random; its per-batch runs pick whole batches);
and instead of
topping a short selection up at random, the examples OMP never keeps are ranked after its picks
by their correlation ``g_i . b`` with the target (descending, ties to the lower index). OMP stops
when the relative residual ``||r|| / ||b||`` falls below ``tol`` or no unchosen example
correlates positively with ``r``. The ranking is the support in the order its members entered.

lam is made scale-free (a deliberate deviation): the ridge term is ``lam`` times the mean squared
gradient norm, the scale of the Gram matrix's diagonal. CORDS applies lam = 0.5 to gradients of
a model in training (norms of order 1); on a forget set the trained base model fits well they
are small (on `general`, median last-layer norm ~1e-3), an absolute 0.5 dominates the weights
and the picks follow ``g_i . b`` alone: its 10% coreset then shared 92-100% of ``influence``'s
(seeds 0-2, random and class forget sets).
"""
from __future__ import annotations

import numpy as np

from erasus_bench.methods.selectors.base import Selector, register_selector
from erasus_bench.methods.selectors.last_layer import linear_head
from erasus_bench.methods.task import SelectionContext


def _ridge(a: np.ndarray, b: np.ndarray, lam: float) -> np.ndarray:
    """argmin_w ||a^T w - b||^2 + lam ||w||^2 through its normal equations (least squares, so a
    singular system with lam = 0 still has an answer)."""
    gram = a @ a.T + lam * np.eye(len(a))
    return np.linalg.lstsq(gram, a @ b, rcond=None)[0]


def nonneg_omp(a: np.ndarray, b: np.ndarray, lam: float, tol: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """Non-negative regularised OMP of ``b`` [P] over the rows of ``a`` [N, P]: the support in
    the order its members entered and their weights (see the module docstring)."""
    n = len(a)
    support: list[int] = []
    barred = np.zeros(n, dtype=bool)
    w = np.empty(0)
    norm_b = float(np.linalg.norm(b))
    while True:
        r = b - a[support].T @ w if support else b
        if norm_b == 0 or np.linalg.norm(r) / norm_b < tol:
            break
        corr = a @ r
        corr[barred] = -np.inf
        corr[support] = -np.inf
        j = int(np.argmax(corr))  # ties to the lower index
        if not corr[j] > 0:
            break
        support.append(j)
        w = _ridge(a[support], b, lam)
        while len(w) and w.min() < 0:
            drop = int(np.argmin(w))
            barred[support.pop(drop)] = True
            w = _ridge(a[support], b, lam) if support else np.empty(0)
    return np.asarray(support, dtype=np.int64), w


def gradmatch_ranking(a: np.ndarray, b: np.ndarray, lam: float, tol: float) -> np.ndarray:
    """Every row index of ``a``: the OMP support in pick order, then the rest by ``a_i . b``
    (descending, ties to the lower index)."""
    picked, _ = nonneg_omp(a, b, lam, tol)
    rest = np.setdiff1d(np.arange(len(a)), picked)
    rest = rest[np.argsort(-(a[rest] @ b), kind="stable")]
    return np.concatenate([picked, rest]).astype(np.int64)


@register_selector("gradmatch", description="non-negative OMP matching the forget set's summed "
                   "last-layer gradient (GRAD-MATCH, Killamsetty et al. 2021)",
                   modalities=("classifier",))
class GradMatch(Selector):
    """The first ``k`` of ``gradmatch_ranking`` over the forget set's last-layer gradients
    (deterministic: no draw)."""

    paper = "Killamsetty et al. 2021 (GRAD-MATCH)"

    lam: float = 0.5  # the ridge term of CORDS' GRAD-MATCH configs
    tol: float = 1e-4  # the solver's default relative-residual tolerance

    def select(self, ctx: SelectionContext, k: int) -> np.ndarray:
        n = len(ctx.forget)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        grads = linear_head(ctx).grads().numpy()
        scale = float(np.mean(np.sum(grads ** 2, axis=1)))
        return gradmatch_ranking(grads, grads.sum(0), self.lam * scale, self.tol)[:k]
