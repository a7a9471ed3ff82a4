"""The NeurIPS 2023 Machine Unlearning Challenge's forgetting score (Triantafillou et al., arXiv
2406.09073): per forget example, an (epsilon, delta) estimate of how well thresholds on its
logit-scaled confidence tell unlearned from retrained models, bucketed into a score, as in
``google-deepmind/unlearning_evaluation`` ``metric.py`` and ``main.py``."""
from __future__ import annotations

import math

import numpy as np

DELTA = 1e-5
EPSILON_CAP = 50.0
THRESHOLDS_PER_UNIT = 100
BUFFER = 2.0  # the double-threshold family's search margin (confidence units)
BUCKET = 0.5


def logit_scaled_confidence(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """log p(correct) - log p(any wrong class) of each row (LiRA's numerically stable form)."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    rows = np.arange(len(z))
    correct = p[rows, targets].copy()
    p[rows, targets] = 0.0
    return np.log(correct + 1e-45) - np.log(p.sum(axis=1) + 1e-45)


def _at_least(sorted_confs: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """How many of ``sorted_confs`` are >= each threshold."""
    return len(sorted_confs) - np.searchsorted(sorted_confs, thresholds, side="left")


def _double_counts(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (positive, negative) counts of "inside [left, right]" over the reference's
    grid of threshold pairs around the peakier of the two samples (which becomes the positive):
    right thresholds r_i, left ones r_i + o_j. Along a row i the counts change only where
    r_i + o_j passes a sample, so each row is read at j = 0 and at those crossings."""
    if np.ptp(pos) >= np.ptp(neg):
        pos, neg = neg, pos
    width = np.ptp(pos)
    lo, hi = pos.min() + width - BUFFER, pos.max() + BUFFER
    right = np.linspace(lo, hi, num=int(np.ceil((hi - lo) * THRESHOLDS_PER_UNIT)))
    n_left = int(np.ceil(2 * BUFFER * THRESHOLDS_PER_UNIT))
    offsets = np.linspace(-width - BUFFER, -width + BUFFER, num=n_left)
    # the first left-threshold index j at which each sample lies below r_i + o_j
    crossings = [np.searchsorted(offsets, x[None, :] - right[:, None], side="right")
                 for x in (pos, neg)]
    js = np.concatenate([np.zeros((len(right), 1), dtype=np.int64), *crossings], axis=1)
    valid = js < n_left
    counts = []
    for x, cross in zip((pos, neg), crossings):
        at_most_right = np.searchsorted(np.sort(x), right, side="right")
        below_left = (cross[:, None, :] <= js[:, :, None]).sum(-1)
        counts.append(np.maximum(at_most_right[:, None] - below_left, 0)[valid])
    return counts[0], counts[1]


def _single_counts(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positive, negative) counts of "confidence >= t" over an even grid of thresholds."""
    both = np.concatenate([pos, neg])
    num = int(np.ceil((both.max() - both.min()) * THRESHOLDS_PER_UNIT))
    t = np.linspace(both.min(), both.max(), num)
    return _at_least(np.sort(pos), t), _at_least(np.sort(neg), t)


def example_epsilon(pos: np.ndarray, neg: np.ndarray, delta: float = DELTA) -> float:
    """The epsilon of one example from its confidences under the models of the class with the
    larger median (``pos``) and of the other (``neg``), as many of each: the largest over both
    decision-rule families of max(log(1-delta-FPR) - log(FNR), log(1-delta-FNR) - log(FPR)),
    clipped to [0, EPSILON_CAP]; the cap when one sample's spread is under 1% of the other's
    (a peaky, e.g. deterministic, unlearning run); thresholds with exactly one of FPR and FNR
    zero are discarded and both zero gives the cap. A threshold's epsilon depends only on its
    pair of counts, so each distinct pair is scored once. Deviation: where every threshold is
    discarded (both samples one identical value) the reference stops with an assertion; this
    returns 0."""
    pos, neg = np.asarray(pos, np.float64), np.asarray(neg, np.float64)
    n = len(pos)
    if len(neg) != n:
        raise ValueError(f"{len(pos)} positive but {len(neg)} negative confidences")
    small, large = sorted((np.ptp(pos), np.ptp(neg)))
    if large > 0 and small / large < 0.01:
        return EPSILON_CAP
    counts = [_double_counts(pos, neg), _single_counts(pos, neg)]
    seen = np.zeros((n + 1) * (n + 1), dtype=bool)
    for tp, fp in counts:
        seen[tp * (n + 1) + fp] = True
    tp, fp = np.divmod(np.flatnonzero(seen), n + 1)
    tpr, fpr = tp / n, fp / n
    fnr = 1.0 - tpr
    if np.any((fpr == 0) & (fnr == 0)):
        return EPSILON_CAP
    keep = (fpr > 0) & (fnr > 0)
    if not keep.any():
        return 0.0
    fpr, fnr = fpr[keep], fnr[keep]
    with np.errstate(invalid="ignore"):
        eps = np.maximum(np.log(1 - delta - fpr) - np.log(fnr),
                         np.log(1 - delta - fnr) - np.log(fpr))
    return float(np.clip(np.nanmax(eps), 0.0, EPSILON_CAP))


def epsilons(unlearned: np.ndarray, retrained: np.ndarray) -> np.ndarray:
    """Per-example epsilons from [models, examples] confidences of each side; the positive
    class of an example is the side with the larger median confidence."""
    u, r = np.asarray(unlearned, np.float64), np.asarray(retrained, np.float64)
    retrain_pos = np.median(r, axis=0) > np.median(u, axis=0)
    return np.array([example_epsilon(r[:, i], u[:, i]) if retrain_pos[i]
                     else example_epsilon(u[:, i], r[:, i]) for i in range(u.shape[1])])


def bucket_points(eps: np.ndarray, n_models: int) -> np.ndarray:
    """Each epsilon's points: buckets of width 0.5 from 0 worth 1, 1/2, 1/4, ... up to
    ceil(ln(n_models - 1)); 0 above the last bucket."""
    top = math.ceil(math.log(n_models - 1))
    n_buckets = int(top / BUCKET)
    idx = np.floor(np.asarray(eps) / BUCKET)
    return np.where(idx < n_buckets, 0.5 ** np.minimum(idx, n_buckets), 0.0)


def forget_score(unlearned: np.ndarray, retrained: np.ndarray) -> tuple[float, np.ndarray]:
    """The forgetting score F (mean bucket points over the forget set) and the per-example
    epsilons, from [models, examples] confidences with as many models on each side."""
    eps = epsilons(unlearned, retrained)
    return float(bucket_points(eps, np.asarray(unlearned).shape[0]).mean()), eps


def challenge_score(forget: float, retain_acc: tuple[float, float],
                    test_acc: tuple[float, float]) -> float:
    """F x (RA_unlearned / RA_retrained) x (TA_unlearned / TA_retrained), each accuracy the
    mean over that side's models (``main.py``); not clipped."""
    return forget * (retain_acc[0] / retain_acc[1]) * (test_acc[0] / test_acc[1])
