"""Certified removal (Guo et al. 2020): the Newton removal step and its gradient-residual bound
on a hand-sized L2-logistic problem, checked against numpy/scipy, and the strategy's removal
through the model."""
from __future__ import annotations

import copy
import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import minimize
from scipy.special import expit

from erasus_bench.methods.classifier import ClassifierAdapter
from erasus_bench.methods.examples import Examples
from erasus_bench.methods.strategies.certified_removal import (
    CertifiedRemoval,
    OvRHead,
    fit,
    gradient,
    newton_removal,
    ovr_targets,
)
from erasus_bench.methods.task import UnlearnTask
from erasus_bench.protocols.general.model import Recipe, build_model

# six 2-D points, labels +-1, not separable by a line through the origin
X6 = np.array([[1.0, 0.2], [0.8, -0.5], [-0.3, 1.0], [-1.0, -0.4], [0.5, 0.9], [-0.6, 0.3]])
Y6 = np.array([1.0, 1.0, -1.0, -1.0, -1.0, 1.0])
LAM = 0.05
B = np.array([0.3, -0.2])  # the loss perturbation


def np_grad(w: np.ndarray, X: np.ndarray, y: np.ndarray, lam: float, b: np.ndarray
            ) -> np.ndarray:
    """Gradient of sum_i log(1 + exp(-y_i x_i.w)) + lam n |w|^2 / 2 + b.w, by hand."""
    return X.T @ ((expit(y * (X @ w)) - 1) * y) + lam * len(X) * w + b


def np_retrain(X: np.ndarray, y: np.ndarray, lam: float, b: np.ndarray) -> np.ndarray:
    """The exact minimiser by scipy (BFGS to a tiny gradient)."""
    def f(w: np.ndarray) -> float:
        return float(np.logaddexp(0, -y * (X @ w)).sum() + lam * len(X) / 2 * w @ w + b @ w)

    return minimize(f, np.zeros(2), jac=lambda w: np_grad(w, X, y, lam, b), method="BFGS",
                    options={"gtol": 1e-12}).x


def t(a: np.ndarray) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64)


def test_fit_reaches_the_perturbed_optimum() -> None:
    w = fit(t(X6), t(Y6), LAM, t(B)).numpy()
    assert np.allclose(w, np_retrain(X6, Y6, LAM, B), atol=1e-8)
    assert np.linalg.norm(np_grad(w, X6, Y6, LAM, B)) < 1e-9


def test_newton_removal_is_within_its_bound_of_retraining() -> None:
    w = np_retrain(X6, Y6, LAM, B)
    X, y = X6[1:], Y6[1:]  # remove point 0
    # the removed point's gradient, its lam w share included (the reference's lr_grad, n = 1)
    g0 = X6[0] * (expit(Y6[0] * X6[0] @ w) - 1) * Y6[0] + LAM * w
    x_norm = np.linalg.norm(X, 2)
    w_new, bound = newton_removal(t(w), t(X), t(y), LAM, t(g0), x_norm)
    w_new = w_new.numpy()
    # the step and the reference's bound, by hand: H of the remaining data at w
    s = expit(y * (X @ w))
    H = X.T @ (X * (s * (1 - s))[:, None]) + LAM * len(X) * np.eye(2)
    delta = np.linalg.solve(H, g0)
    assert np.allclose(w_new, w + delta, atol=1e-12)
    assert np.isclose(bound, 0.25 * x_norm * np.linalg.norm(delta) * np.linalg.norm(X @ delta),
                      rtol=1e-12)
    # the true gradient residual on the remaining data is positive and below the bound
    residual = np.linalg.norm(np_grad(w_new, X, y, LAM, B))
    assert 0 < residual <= bound
    assert bound < np.linalg.norm(np_grad(w, X, y, LAM, B))  # better than not updating
    # strong convexity (modulus lam (n - 1)) turns the residual into a distance to retraining
    gap = np.linalg.norm(w_new - np_retrain(X, y, LAM, B))
    assert gap <= residual / (LAM * len(X)) <= bound / (LAM * len(X))
    assert gap < 0.1 * np.linalg.norm(w - np_retrain(X, y, LAM, B))


def test_strategy_removes_each_coreset_point_with_newton_steps(fake_training_run) -> None:
    gen = torch.Generator().manual_seed(0)
    n, d, c = 40, 5, 3
    train = Examples({"x": torch.randn(n, d, generator=gen),
                      "y": torch.randint(0, c, (n,), generator=gen)})
    base = build_model(d, c, Recipe(hidden=8), 0)
    run = fake_training_run(train, np.arange(30, 40), 0)
    task = UnlearnTask(model=copy.deepcopy(base), original=copy.deepcopy(base).eval(),
                       forget=train.subset(np.array([32, 35])), retain=train.subset(np.arange(30)),
                       adapter=ClassifierAdapter(), seed=0, num_classes=c)
    task.training_run, task.coreset_pos = run, np.array([2, 5])
    lam = 0.1
    model = CertifiedRemoval(lam=lam).unlearn(task)
    # by hand: fit on base features, then one step per point and class, in coreset order
    with torch.no_grad():
        X = F.normalize(base.features(train.tensors["x"]), dim=-1).double()
    Y = ovr_targets(train.tensors["y"], c)
    W = run.store[next(iter(run.store))]["W"].clone()
    for k in range(c):  # the fitted head is the perturbed optimum
        assert gradient(W[k], X, Y[:, k], lam).norm() > 1e-3  # b moves it off the plain one
    keep, total = np.ones(n, dtype=bool), 0.0
    for pos in (32, 35):
        keep[pos] = False
        for k in range(c):
            g = gradient(W[k], X[[pos]], Y[[pos], k], lam)
            W[k], b = newton_removal(W[k], X[keep], Y[keep, k], lam, g,
                                     float(torch.linalg.matrix_norm(X[keep], ord=2)))
            total += b
    assert isinstance(model.head, OvRHead)
    assert torch.allclose(model.head.weight, W, rtol=1e-5, atol=1e-6)
    assert np.isclose(model.residual_bound, total, rtol=1e-4)
    # the record's method_report: the bound and its epsilon at delta 1e-4 (Theorem 3, by hand)
    report = model.unlearning_report
    assert np.isclose(report["residual_bound"], total, rtol=1e-4)
    assert np.isclose(report["epsilon_at_delta_1e-4"],
                      total * np.sqrt(2 * np.log(1.5 / 1e-4)) / 10.0, rtol=1e-4)
    assert list(model.head.removed) == [32, 35]
    assert all(p.grad is None for p in model.parameters())
    with torch.no_grad():
        assert torch.allclose(model(train.tensors["x"]), (X @ W.T).float(), atol=1e-5)
    assert run.builds == 1
