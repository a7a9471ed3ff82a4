"""The gradient-based coreset selectors (craig, gradmatch, glister, representer) against hand
computations: closed-form last-layer gradients against autograd, OMP on vectors whose answer is
known, facility location's greedy bound on gradients, GLISTER's picks against gradients taken by
autograd at the updated head, representer values by hand and the representer theorem."""
from __future__ import annotations

import copy
import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from erasus_bench.methods.classifier import ClassifierAdapter
from erasus_bench.methods.examples import Examples
from erasus_bench.methods.selectors.craig import Craig, class_block_similarities
from erasus_bench.methods.selectors.facility_location import (facility_value,
                                                              greedy_facility_location)
from erasus_bench.methods.selectors.glister import Glister
from erasus_bench.methods.selectors.gradmatch import GradMatch, gradmatch_ranking, nonneg_omp
from erasus_bench.methods.selectors.influence import Influence
from erasus_bench.methods.selectors.last_layer import linear_head
from erasus_bench.methods.selectors.representer import (Representer, augment, fit_l2_head,
                                                        l2_objective, representer_alphas)
from erasus_bench.methods.task import SelectionContext
from erasus_bench.registry import SELECTORS

NAMES = ("craig", "gradmatch", "glister", "representer")


class Net(nn.Module):
    """A float64 classifier: a fixed nonlinear body (``features``) and a linear ``head``."""

    def __init__(self, seed: int, d_in: int = 3, d: int = 4, c: int = 3) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.body = nn.Sequential(nn.Linear(d_in, d), nn.Tanh()).double()
        self.head = nn.Linear(d, c).double()

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def toy_context(n: int = 12, c: int = 3, seed: int = 0) -> SelectionContext:
    torch.manual_seed(seed + 100)
    x, y = torch.randn(n, 3, dtype=torch.float64), torch.randint(c, (n,))
    return SelectionContext(Net(seed, c=c), Examples({"x": x, "y": y}), ClassifierAdapter(),
                            seed=0, num_classes=c)


def autograd_head_grads(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-example gradients of the cross-entropy w.r.t. (head.weight, head.bias), by autograd."""
    rows = []
    for i in range(len(x)):
        loss = F.cross_entropy(model(x[i:i + 1]), y[i:i + 1])
        gw, gb = torch.autograd.grad(loss, [model.head.weight, model.head.bias])
        rows.append(torch.cat([gw.flatten(), gb]))
    return torch.stack(rows)


def test_registered_for_classifiers_only() -> None:
    for name in NAMES:
        assert SELECTORS.entry(name).applies_to == ("classifier",)


def test_closed_form_last_layer_grads_equal_autograd_and_leave_the_model_alone() -> None:
    ctx = toy_context()
    before = copy.deepcopy(ctx.model.state_dict())
    ctx.model.train()
    head = linear_head(ctx)
    assert ctx.model.training  # mode restored
    x, y = ctx.forget.tensors["x"], ctx.forget.tensors["y"]
    torch.testing.assert_close(head.grads(), autograd_head_grads(ctx.model, x, y),
                               rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(head.logits(), ctx.model(x).detach(), rtol=1e-12, atol=1e-14)
    assert all(torch.equal(before[k], v) for k, v in ctx.model.state_dict().items())
    with pytest.raises(ValueError, match="nn.Linear"):
        ctx.model.head = nn.Sequential(nn.Linear(4, 3).double())
        linear_head(ctx)


# ---- GRAD-MATCH: orthogonal matching pursuit ----

def test_omp_recovers_a_known_combination() -> None:
    """target = 2 g1 + g3: correlations with it are g1 2.5, g2 0.25, g3 2.25, g4 0.5, so OMP
    picks g1 (weight 2.5, residual (0, 1, 0, 0)); then g3 correlates 1 with the residual (g2 0,
    g4 0.5) and least squares on {g1, g3} is exactly (2, 1), residual 0: OMP stops. The rest
    follow by correlation with the target: g4 (0.5), then g2 (0.25)."""
    g = np.array([[1.0, 0, 0, 0], [0.1, 0, 1, 0], [0.5, 1, 0, 0], [0, 0.5, 0, 1]])
    target = 2 * g[0] + g[2]
    support, weights = nonneg_omp(g, target, lam=0.0, tol=1e-9)
    assert support.tolist() == [0, 2]
    np.testing.assert_allclose(weights, [2.0, 1.0], atol=1e-12)
    assert gradmatch_ranking(g, target, lam=0.0, tol=1e-9).tolist() == [0, 2, 3, 1]
    # the L2 term shrinks the weights to the ridge solution (G G^T + lam I)^-1 G b on the support
    support, weights = nonneg_omp(g, target, lam=0.5, tol=1e-9)
    s = g[support]
    np.testing.assert_allclose(weights, np.linalg.solve(s @ s.T + 0.5 * np.eye(len(s)),
                                                        s @ target), atol=1e-12)
    assert (weights > 0).all() and weights[0] < 2


def test_omp_drops_a_pick_whose_weight_turns_negative() -> None:
    """a = (-1, 2), (1, 2), (1, 1); b = (2, 1). Correlations 0, 4, 3: a1 first (weight 4/5);
    residual (1.2, -0.6) correlates 0.6 with a2 (a0: -2.4). On {a1, a2} least squares gives
    (-1, 3): a1 is dropped and barred, a2 alone gets 3/2, and the residual (0.5, -0.5) correlates
    negatively with a0: OMP stops with {a2}. The rest by correlation with b: a1 (4), a0 (0)."""
    a = np.array([[-1.0, 2], [1, 2], [1, 1]])
    b = np.array([2.0, 1])
    support, weights = nonneg_omp(a, b, lam=0.0, tol=1e-9)
    assert support.tolist() == [2]
    np.testing.assert_allclose(weights, [1.5])
    assert gradmatch_ranking(a, b, lam=0.0, tol=1e-9).tolist() == [2, 1, 0]


def test_omp_of_a_zero_target_ranks_by_index() -> None:
    a = np.zeros((3, 2))
    assert gradmatch_ranking(a, a.sum(0), lam=0.5, tol=1e-4).tolist() == [0, 1, 2]


def test_gradmatch_selector_runs_omp_on_the_summed_last_layer_gradient() -> None:
    ctx = toy_context(n=15)
    g = autograd_head_grads(ctx.model, ctx.forget.tensors["x"], ctx.forget.tensors["y"])
    want = gradmatch_ranking(g.numpy(), g.sum(0).numpy(), GradMatch.lam, GradMatch.tol)
    got = GradMatch().select(ctx, 15)
    assert got.tolist() == want.tolist() and sorted(got.tolist()) == list(range(15))
    assert GradMatch().select(ctx, 4).tolist() == want[:4].tolist()


# ---- CRAIG: facility location on gradients ----

def test_craig_objective_is_monotone_and_greedy_reaches_the_bound() -> None:
    rng = np.random.default_rng(1)
    for _ in range(5):
        grads, labels = rng.normal(size=(8, 5)), rng.integers(2, size=8)
        sim = class_block_similarities(grads, labels)
        assert (sim >= 0).all() and np.allclose(sim, sim.T)
        assert (sim[labels[:, None] != labels[None, :]] == 0).all()
        for size in range(8):  # monotone: adding a point never lowers F
            s = list(rng.choice(8, size, replace=False))
            extra = next(i for i in range(8) if i not in s)
            assert facility_value(sim, s + [extra]) >= facility_value(sim, s) - 1e-12
        for k in (1, 2, 3, 4):
            best = max(facility_value(sim, c) for c in itertools.combinations(range(8), k))
            chosen = greedy_facility_location(sim, k)
            assert facility_value(sim, chosen) >= (1 - 1 / math.e) * best - 1e-12


def test_craig_similarity_by_hand() -> None:
    """Class 0: gradients (0, 0), (3, 4), (6, 8): distances 5, 10, 5, so d_max = 10 and
    s = 10 - d; class 1 is a single point (similarity 0 to itself); 0 across classes."""
    grads = np.array([[0.0, 0], [3, 4], [9, 9], [6, 8]])
    sim = class_block_similarities(grads, np.array([0, 0, 1, 0]))
    want = np.array([[10, 5, 0, 0], [5, 10, 0, 5], [0, 0, 0, 0], [0, 5, 0, 10.0]])
    np.testing.assert_allclose(sim, want, atol=1e-12)
    # greedy: gains 15, 20, 0, 15 -> point 1; then gains 5, 0 (point 2), 5 -> the lower index, 0
    assert greedy_facility_location(sim, 2).tolist() == [1, 0]


def test_craig_selector_is_greedy_facility_location_on_autograd_gradients() -> None:
    ctx = toy_context(n=14)
    x, y = ctx.forget.tensors["x"], ctx.forget.tensors["y"]
    g = autograd_head_grads(ctx.model, x, y).numpy()
    want = greedy_facility_location(class_block_similarities(g, y.numpy()), 14)
    assert Craig().select(ctx, 14).tolist() == want.tolist()
    assert Craig().select(ctx, 5).tolist() == want[:5].tolist()


# ---- GLISTER-ONLINE ----

def test_glister_picks_by_hand() -> None:
    """First pick: argmax_e g_e . grad L_V(theta) with every gradient from autograd. Second
    pick: the same at the head moved one step, theta - eta g_first (autograd on a copy)."""
    ctx = toy_context(n=10, seed=3)
    x, y = ctx.forget.tensors["x"], ctx.forget.tensors["y"]
    model = ctx.model
    g = autograd_head_grads(model, x, y)

    def val_grad(m: nn.Module) -> torch.Tensor:
        loss = F.cross_entropy(m(x), y)  # mean over the forget set: the "validation" loss
        return torch.cat([t.flatten() for t in torch.autograd.grad(
            loss, [m.head.weight, m.head.bias])])

    eta = 2.0
    first = int(torch.argmax(g @ val_grad(model)))
    moved = copy.deepcopy(model)
    with torch.no_grad():
        moved.head.weight -= eta * g[first, :12].reshape(3, 4)
        moved.head.bias -= eta * g[first, 12:]
    gains = g @ val_grad(moved)
    gains[first] = -torch.inf
    second = int(torch.argmax(gains))
    selector = Glister()
    selector.eta = eta
    assert selector.select(ctx, 2).tolist() == [first, second]
    full = selector.select(ctx, 10)
    assert full[:2].tolist() == [first, second] and sorted(full.tolist()) == list(range(10))


def test_glister_without_a_step_is_influence() -> None:
    """eta = 0: the validation gradient never moves, so the greedy order is the descending
    order of g_e . g_bar, the influence selector's ranking."""
    ctx = toy_context(n=16, seed=4)
    selector = Glister()
    selector.eta = 0.0
    assert selector.select(ctx, 16).tolist() == Influence().select(ctx, 16).tolist()


# ---- Representer points ----

def test_representer_alphas_by_hand() -> None:
    """Two classes, three points (features with the bias 1 appended), Theta's first row ln 3:
    logits (ln 3, 0), (0, 0), (ln 3, 0) -> softmax (3/4, 1/4), (1/2, 1/2), (3/4, 1/4); labels
    0, 1, 1; lam = 1/2, n = 3, so alpha_i = (t_i - p_i) / 3."""
    feats = torch.tensor([[1.0, 0, 1], [0, 1, 1], [1, 1, 1]], dtype=torch.float64)
    theta = torch.tensor([[math.log(3), 0], [0, 0], [0, 0]], dtype=torch.float64)
    targets = torch.tensor([[1.0, 0], [0, 1], [0, 1]], dtype=torch.float64)
    alphas = representer_alphas(feats, theta, targets, lam=0.5)
    want = torch.tensor([[1 / 12, -1 / 12], [-1 / 6, 1 / 6], [-1 / 4, 1 / 4]],
                        dtype=torch.float64)
    torch.testing.assert_close(alphas, want, rtol=0, atol=1e-15)


def test_representer_theorem_holds_at_the_l2_optimum() -> None:
    """At the minimiser of (1/n) sum CE + lam ||Theta||^2, Theta = sum_i f_i alpha_i^T, so
    every pre-activation output is sum_i alpha_i f_i^T f_t; not so at another head."""
    gen = torch.Generator().manual_seed(0)
    feats = augment(torch.randn(7, 4, generator=gen, dtype=torch.float64))
    targets = torch.softmax(3 * torch.randn(7, 3, generator=gen, dtype=torch.float64), -1)
    init = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    lam = 0.05
    theta = fit_l2_head(feats, targets, lam, init)
    th = theta.clone().requires_grad_(True)
    l2_objective(th, feats, targets, lam).backward()
    assert th.grad.abs().max() < 1e-8  # stationary (float64 L-BFGS stops near 1e-9)
    alphas = representer_alphas(feats, theta, targets, lam)
    test = augment(torch.randn(5, 4, generator=gen, dtype=torch.float64))
    for f in (feats, test):
        # the error is the stationarity gap / (2 lam): ~1e-8 here
        torch.testing.assert_close((f @ feats.T) @ alphas, f @ theta, rtol=0, atol=1e-7)
    wrong = representer_alphas(feats, init, targets, lam)
    assert ((test @ feats.T) @ wrong - test @ init).abs().max() > 1e-2


def test_representer_selector_ranks_by_own_label_importance() -> None:
    ctx = toy_context(n=12, seed=5)
    before = copy.deepcopy(ctx.model.state_dict())
    x, y = ctx.forget.tensors["x"], ctx.forget.tensors["y"]
    model = ctx.model
    with torch.no_grad():
        feats = augment(model.features(x))
        targets = torch.softmax(model(x), -1)
    init = torch.cat([model.head.weight.T, model.head.bias[None]]).detach()
    lam = Representer.lam
    theta = fit_l2_head(feats, targets, lam, init)
    p = torch.softmax(feats @ theta, -1)
    score = ((targets - p)[torch.arange(12), y] / (2 * lam * 12)).abs()
    want = torch.argsort(-score, stable=True)
    assert Representer().select(ctx, 12).tolist() == want.tolist()
    assert Representer().select(ctx, 3).tolist() == want[:3].tolist()
    assert all(torch.equal(before[k], v) for k, v in ctx.model.state_dict().items())
    assert all(p.grad is None for p in ctx.model.parameters())


@pytest.mark.parametrize("name", NAMES)
def test_empty_forget_set(name: str) -> None:
    ctx = toy_context(n=4)
    ctx.forget = ctx.forget.subset(np.array([], dtype=np.int64))
    assert SELECTORS.get(name)().select(ctx, 3).tolist() == []
