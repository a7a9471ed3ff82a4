"""Hand-made checks of each coreset selector against an independent computation."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from erasus_bench.methods.classifier import ClassifierAdapter
from erasus_bench.methods.examples import Examples
from erasus_bench.methods.selectors.el2n import EL2N
from erasus_bench.methods.selectors.full import Full
from erasus_bench.methods.selectors.gradient_norm import GradientNorm
from erasus_bench.methods.selectors.herding import Herding
from erasus_bench.methods.selectors.influence import Influence
from erasus_bench.methods.selectors.k_center import KCenter, greedy_k_center
from erasus_bench.methods.selectors.loss import Loss
from erasus_bench.methods.selectors.random import Random
from erasus_bench.methods.task import SelectionContext


class Tiny(nn.Module):
    """A minimal classifier: ``features`` then a linear ``head``."""

    def __init__(self, features: nn.Module, head: nn.Linear) -> None:
        super().__init__()
        self.features = features
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def ctx_for(model: nn.Module, x: np.ndarray, y: np.ndarray, seed: int = 0) -> SelectionContext:
    data = Examples({"x": torch.as_tensor(x, dtype=torch.float32),
                     "y": torch.as_tensor(y, dtype=torch.int64)})
    return SelectionContext(model, data, ClassifierAdapter(), seed, int(np.max(y)) + 1)


def ranking(scores: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")[:k]


def linear_model(in_dim: int, hidden: int, classes: int, seed: int) -> Tiny:
    torch.manual_seed(seed)
    return Tiny(nn.Sequential(nn.Linear(in_dim, hidden), nn.Tanh()), nn.Linear(hidden, classes))


def toy_data(seed: int, n: int = 24, in_dim: int = 3, classes: int = 3):
    rng = np.random.default_rng(seed)
    # per-example input scales differ, so full-model and last-layer gradients rank differently
    x = rng.normal(size=(n, in_dim)) * rng.uniform(0.2, 3.0, size=(n, 1))
    return x.astype(np.float32), rng.integers(0, classes, size=n)


def autograd_one_by_one(model: nn.Module, params: list[nn.Parameter], x, y) -> np.ndarray:
    """[N, P] per-sample gradients, one torch.autograd.grad call per sample."""
    rows = []
    for i in range(len(x)):
        out = model(torch.as_tensor(x[i:i + 1]))
        loss = F.cross_entropy(out, torch.as_tensor(y[i:i + 1]))
        rows.append(torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, params)]))
    return torch.stack(rows).double().numpy()


# ---------------------------------------------------------------- full / random

def test_full_returns_every_index_whatever_k():
    model = linear_model(3, 4, 3, 0)
    x, y = toy_data(0, n=10)
    for k in (1, 4, 10, 50):
        idx = Full().select(ctx_for(model, x, y), k)
        assert idx.dtype == np.int64
        np.testing.assert_array_equal(idx, np.arange(10))


def test_random_is_seeded_distinct_and_seed_dependent():
    model = linear_model(3, 4, 3, 0)
    x, y = toy_data(0, n=40)
    a = Random().select(ctx_for(model, x, y, seed=3), 10)
    b = Random().select(ctx_for(model, x, y, seed=3), 10)
    c = Random().select(ctx_for(model, x, y, seed=4), 10)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(np.sort(a), np.sort(c))
    assert a.dtype == np.int64 and len(set(a.tolist())) == 10 and a.min() >= 0 and a.max() < 40
    full = Random().select(ctx_for(model, x, y, seed=3), 99)  # k clamped to n
    np.testing.assert_array_equal(np.sort(full), np.arange(40))


# ---------------------------------------------------------------- loss / el2n

def hand_linear():
    """Identity features and a hand-set linear head: logits = x @ W.T + b."""
    head = nn.Linear(2, 3)
    w = np.array([[1.0, -0.5], [0.2, 0.8], [-1.0, 0.3]], dtype=np.float32)
    b = np.array([0.1, -0.2, 0.05], dtype=np.float32)
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(w))
        head.bias.copy_(torch.from_numpy(b))
    x = np.array([[1, 0], [0, 1], [2, -1], [-1, 2], [0.5, 0.5], [-2, -2], [3, 1], [-1, -0.3]],
                 dtype=np.float32)
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    logits = x.astype(np.float64) @ w.T + b
    return Tiny(nn.Identity(), head), x, y, logits


def test_loss_matches_numpy_cross_entropy():
    model, x, y, logits = hand_linear()
    m = logits.max(axis=1, keepdims=True)
    lse = (m + np.log(np.exp(logits - m).sum(axis=1, keepdims=True)))[:, 0]
    losses = lse - logits[np.arange(len(y)), y]
    for k in (1, 3, 8):
        np.testing.assert_array_equal(Loss().select(ctx_for(model, x, y), k), ranking(losses, k))


def numpy_el2n(logits: np.ndarray, y: np.ndarray, ord: int = 2) -> np.ndarray:
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return np.linalg.norm(p - np.eye(logits.shape[1])[y], ord=ord, axis=1)


def test_el2n_matches_numpy_formula():
    model, x, y, logits = hand_linear()
    for k in (1, 3, 8):
        np.testing.assert_array_equal(EL2N().select(ctx_for(model, x, y), k),
                                      ranking(numpy_el2n(logits, y), k))


def test_el2n_is_the_l2_norm_not_l1_or_loss():
    rng = np.random.default_rng(5)
    w, b = rng.normal(size=(6, 4)) * 2, rng.normal(size=6)
    x, y = rng.normal(size=(40, 4)).astype(np.float32), rng.integers(0, 6, size=40)
    head = nn.Linear(4, 6)
    with torch.no_grad():
        head.weight.copy_(torch.as_tensor(w))
        head.bias.copy_(torch.as_tensor(b))
    logits = x.astype(np.float64) @ head.weight.detach().double().numpy().T \
        + head.bias.detach().double().numpy()
    k = 15
    expected = ranking(numpy_el2n(logits, y), k)
    assert not np.array_equal(expected, ranking(numpy_el2n(logits, y, ord=1), k))
    loss = np.log(np.exp(logits).sum(axis=1)) - logits[np.arange(40), y]
    assert not np.array_equal(expected, ranking(loss, k))
    got = EL2N().select(ctx_for(Tiny(nn.Identity(), head), x, y), k)
    np.testing.assert_array_equal(got, expected)


# ---------------------------------------------------------------- gradient selectors

@pytest.mark.parametrize("seed", [0, 1])
def test_gradient_norm_matches_autograd_over_all_parameters(seed):
    model = linear_model(3, 4, 3, seed)
    x, y = toy_data(seed)
    g = autograd_one_by_one(model, list(model.parameters()), x, y)
    norms = np.linalg.norm(g, axis=1)
    last = np.linalg.norm(autograd_one_by_one(model, list(model.head.parameters()), x, y), axis=1)
    k = 8
    expected = ranking(norms, k)
    assert not np.array_equal(expected, ranking(last, k))  # the case tells "all" from "last layer"
    np.testing.assert_array_equal(GradientNorm().select(ctx_for(model, x, y), k), expected)


@pytest.mark.parametrize("seed", [0, 1])
def test_influence_is_dot_with_mean_last_layer_gradient(seed):
    model = linear_model(3, 4, 3, seed)
    x, y = toy_data(seed)
    g = autograd_one_by_one(model, list(model.head.parameters()), x, y)
    mean = g.mean(axis=0)
    dot = g @ mean
    cos = dot / (np.linalg.norm(g, axis=1) * np.linalg.norm(mean))
    k = 8
    expected = ranking(dot, k)
    assert not np.array_equal(expected, ranking(cos, k))  # the case tells dot from cosine
    np.testing.assert_array_equal(Influence().select(ctx_for(model, x, y), k), expected)


def test_gradient_selectors_work_on_frozen_training_mode_model_and_restore_it():
    model = linear_model(3, 4, 3, 0)
    x, y = toy_data(0)
    expected = {"gn": GradientNorm().select(ctx_for(model, x, y), 5),
                "inf": Influence().select(ctx_for(model, x, y), 5)}
    model.train()
    for p in model.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        got = {"gn": GradientNorm().select(ctx_for(model, x, y), 5),
               "inf": Influence().select(ctx_for(model, x, y), 5)}
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key])
    assert model.training and not any(p.requires_grad for p in model.parameters())
    assert all(p.grad is None for p in model.parameters())


# ---------------------------------------------------------------- k-center

def test_greedy_k_center_on_a_line_known_sequence():
    pts = np.arange(11, dtype=np.float64)[:, None]
    # 0 -> farthest 10 -> 5 -> (2, 3, 7, 8 tie at distance 2: lowest index) 2 -> 7
    np.testing.assert_array_equal(greedy_k_center(pts, 5, 0), [0, 10, 5, 2, 7])


def test_greedy_k_center_never_repeats_a_centre_among_duplicates():
    pts = np.array([[5.0], [0.0], [0.0]])
    # after 1 and 0, index 0 sits at distance 0 of itself, as does the duplicate 2: 2 must win
    np.testing.assert_array_equal(greedy_k_center(pts, 3, 1), [1, 0, 2])


def test_k_center_covers_four_clusters_with_one_point_each():
    rng = np.random.default_rng(0)
    corners = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], dtype=np.float64)
    cluster = np.repeat(np.arange(4), 5)
    pts = (corners[cluster] + rng.uniform(-0.5, 0.5, size=(20, 2))).astype(np.float32)
    model = Tiny(nn.Identity(), nn.Linear(2, 4))
    firsts = set()
    for seed in range(6):
        idx = KCenter().select(ctx_for(model, pts, cluster, seed=seed), 4)
        assert sorted(cluster[idx].tolist()) == [0, 1, 2, 3]
        np.testing.assert_array_equal(idx, KCenter().select(ctx_for(model, pts, cluster, seed), 4))
        firsts.add(int(idx[0]))
    assert len(firsts) > 1  # the first centre comes from the seeded generator


# ---------------------------------------------------------------- herding

def brute_force_herding(emb: np.ndarray, k: int) -> list[int]:
    mu = emb.mean(axis=0)
    chosen: list[int] = []
    for _ in range(k):
        best, best_d = -1, np.inf
        for i in range(len(emb)):
            if i in chosen:
                continue
            d = np.linalg.norm(mu - emb[chosen + [i]].mean(axis=0))
            if d < best_d - 1e-12:
                best, best_d = i, d
        chosen.append(best)
    return chosen


def test_herding_matches_brute_force_greedy():
    torch.manual_seed(0)
    feats = nn.Sequential(nn.Linear(4, 5), nn.ReLU())
    model = Tiny(feats, nn.Linear(5, 3))
    x, y = toy_data(2, n=30, in_dim=4)
    with torch.no_grad():
        emb = feats(torch.as_tensor(x)).double().numpy()
    for k in (1, 7, 30):
        np.testing.assert_array_equal(Herding().select(ctx_for(model, x, y), k),
                                      brute_force_herding(emb, k))


def test_herding_hand_case():
    pts = np.array([[-1.0], [0.0], [1.0], [10.0]], dtype=np.float32)  # mean 2.5
    model = Tiny(nn.Identity(), nn.Linear(1, 2))
    # t=1: 1.0 (off 1.5); t=2: (1+0)/2 = 0.5 (off 2.0) beats 5.5 (off 3.0) and 0 (off 2.5) -> 0;
    # t=3: (1+0+10)/3 = 3.67 (off 1.17) beats (1+0-1)/3 = 0 (off 2.5) -> 10; then -1.
    np.testing.assert_array_equal(Herding().select(ctx_for(model, pts, np.array([0, 1, 0, 1])), 4),
                                  [2, 1, 3, 0])
