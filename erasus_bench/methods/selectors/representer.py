"""Representer point selection (Yeh, Kim, Yen & Ravikumar, NeurIPS 2018, "Representer Point
Selection for Explaining Deep Neural Networks"): rank forget examples by their representer
values' global sample importance.

For a last layer ``Theta`` (features augmented with a constant 1, so the bias is a row of
``Theta``) that is a stationary point of ``(1/n) sum_i L(Theta^T f_i, t_i) + lam ||Theta||^2``,
the representer theorem gives ``Theta = sum_i f_i alpha_i^T`` with
``alpha_i = -1/(2 lam n) dL/dPhi(x_i) = (t_i - softmax(Theta^T f_i)) / (2 lam n)``, so every
pre-activation output is ``Phi(x_t) = sum_i alpha_i f_i^T f_t``: ``alpha_ij f_i^T f_t`` is the
representer value of ``x_i`` for class ``j`` at ``x_t``, ``alpha_ij`` its global sample
importance (independent of ``x_t``).

As the reference (``chihkuanyeh/Representer_Point_Selection``, ``compute_representer_vals.py``)
does for a pre-trained network, the last layer is first fine-tuned: ``Theta`` is refit from the
base model's head with the L2 term (lam = 0.003, the reference's default) and the soft-max
cross-entropy against the base model's own predicted class probabilities ``t_i``, on the
penultimate features; on a copy, so the model is unchanged (the refit's optimizer step and time
count in the selection's cost). The reference fits on the whole training set; a selector sees
the forget set only, so ``n`` and the fit are the forget set's. It minimises with gradient
descent and a backtracking line search, stopping at 1/200 of the first gradient; this uses
L-BFGS with a strong-Wolfe line search in float64 on the same strictly convex objective, run
until it stalls (on the `general` forget set: gradient ~1e-9, and ``Theta`` equals
``sum_i f_i alpha_i^T`` to ~1e-7), so the alphas are those of the optimum to that precision.

Score: ``|alpha_{i, y_i}|``, the global importance for the example's own label, the quantity the
reference ranks training points by in its dataset-debugging experiment
(``run_inputcheck.py``: ``sum(abs(alpha) * onehot(y), 1)``); highest first, ties to the lower
index. Since ``alpha_{i, y_i} = (t_{i, y_i} - p_{i, y_i}) / (2 lam n)``, it is the gap between the
base model's and the L2-regularised head's probability of the label: the examples the
regularised head resists fitting the way the model does.
"""
from __future__ import annotations

import numpy as np
import torch

from erasus_bench.methods.selectors.base import Selector, register_selector, top_k
from erasus_bench.methods.selectors.last_layer import linear_head
from erasus_bench.methods.task import SelectionContext


def augment(features: torch.Tensor) -> torch.Tensor:
    """Features with a trailing constant 1 (the bias as a row of ``Theta``), [N, D + 1]."""
    return torch.cat([features, torch.ones(len(features), 1, dtype=features.dtype)], 1)


def l2_objective(theta: torch.Tensor, feats: torch.Tensor, targets: torch.Tensor, lam: float
                 ) -> torch.Tensor:
    """``(1/n) sum_i CE(softmax(feats_i Theta), t_i) + lam ||Theta||^2`` (soft targets)."""
    logp = torch.log_softmax(feats @ theta, -1)
    return -(targets * logp).sum(1).mean() + lam * (theta ** 2).sum()


def fit_l2_head(feats: torch.Tensor, targets: torch.Tensor, lam: float, init: torch.Tensor,
                max_iter: int = 1000) -> torch.Tensor:
    """The minimiser of ``l2_objective`` from ``init`` (L-BFGS, float64; a detached copy)."""
    theta = init.detach().clone().double().requires_grad_(True)
    opt = torch.optim.LBFGS([theta], lr=1.0, max_iter=max_iter, tolerance_grad=1e-12,
                            tolerance_change=1e-16, history_size=50,
                            line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = l2_objective(theta, feats, targets, lam)
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    return theta.detach()


def representer_alphas(feats: torch.Tensor, theta: torch.Tensor, targets: torch.Tensor,
                       lam: float) -> torch.Tensor:
    """``alpha_i = -1/(2 lam n) dL/dPhi_i = (t_i - softmax(feats_i Theta)) / (2 lam n)``,
    [N, C]."""
    return (targets - torch.softmax(feats @ theta, -1)) / (2 * lam * len(feats))


@register_selector("representer", description="top-k representer global importance "
                   "|alpha_{i,y_i}| of an L2-refit last layer (Yeh et al. 2018)",
                   modalities=("classifier",))
class Representer(Selector):
    """Top-``k`` of ``|alpha_{i, y_i}|`` under the L2-refit head (deterministic: no draw)."""

    paper = "Yeh et al. 2018"

    lam: float = 0.003

    def select(self, ctx: SelectionContext, k: int) -> np.ndarray:
        n = len(ctx.forget)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        head = linear_head(ctx)
        feats = augment(head.features)
        targets = torch.softmax(head.logits(), -1)  # the base model's predictions
        bias = head.bias if head.bias is not None else torch.zeros(len(head.weight),
                                                                   dtype=head.weight.dtype)
        theta = fit_l2_head(feats, targets, self.lam, torch.cat([head.weight.T, bias[None]]))
        alphas = representer_alphas(feats, theta, targets, self.lam)
        return top_k(alphas[torch.arange(n), head.labels].abs(), min(k, n))
