"""The [11] selectors against independent computations on hand cases: k-means++'s D² law,
facility location's greedy bound, KNN-Shapley's closed form against brute-force Shapley values,
predictive entropy."""
from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest
import torch

from erasus_bench.methods.selectors.active_learning import predictive_entropy
from erasus_bench.methods.selectors.data_shapley import knn_shapley
from erasus_bench.methods.selectors.facility_location import (facility_value,
                                                              greedy_facility_location,
                                                              similarities)
from erasus_bench.methods.selectors.kmeans_pp import kmeans_pp_indices


def test_kmeans_pp_draws_the_second_seed_in_proportion_to_squared_distance() -> None:
    x = np.array([[0.0], [1.0], [3.0]])
    # first seed uniform, second with P(j | i) = d(i, j)^2 / sum_l d(i, l)^2:
    # {0,1}: (1/10 + 1/5) / 3; {0,3}: (9/10 + 9/13) / 3; {1,3}: (4/5 + 4/13) / 3
    want = {(0, 1): (0.1 + 0.2) / 3, (0, 2): (0.9 + 9 / 13) / 3, (1, 2): (0.8 + 4 / 13) / 3}
    draws = 3000
    got = Counter(tuple(sorted(kmeans_pp_indices(x, 2, seed).tolist())) for seed in range(draws))
    for pair, p in want.items():
        assert got[pair] / draws == pytest.approx(p, abs=0.03), (pair, got)


def test_kmeans_pp_returns_distinct_points_even_among_duplicates() -> None:
    x = np.array([[0.0], [0.0], [0.0], [5.0]])
    for seed in range(20):
        idx = kmeans_pp_indices(x, 3, seed)
        assert len(set(idx.tolist())) == 3 and 3 in idx.tolist()


def test_facility_location_is_monotone_and_greedy_reaches_the_bound() -> None:
    rng = np.random.default_rng(0)
    for trial in range(5):
        emb = rng.normal(size=(8, 2))
        sim = similarities(emb)
        assert (sim >= 0).all() and np.allclose(sim, sim.T)
        for size in range(8):  # monotone: adding a point never lowers F
            s = list(rng.choice(8, size, replace=False))
            extra = next(i for i in range(8) if i not in s)
            assert facility_value(sim, s + [extra]) >= facility_value(sim, s) - 1e-12
        for k in (1, 2, 3):
            best = max(facility_value(sim, c) for c in itertools.combinations(range(8), k))
            chosen = greedy_facility_location(sim, k)
            assert len(set(chosen.tolist())) == k
            assert facility_value(sim, chosen) >= (1 - 1 / math.e) * best - 1e-12
            if k == 1:  # one step of greedy is the exact optimum
                assert facility_value(sim, chosen) == pytest.approx(best)


def _knn_utility(subset: list[int], d: np.ndarray, match: np.ndarray, k: int) -> float:
    """u(S): the share of the K nearest members of S carrying the test label (0 for S empty)."""
    nearest = sorted(subset, key=lambda i: (d[i], i))[:k]
    return sum(match[i] for i in nearest) / k


@pytest.mark.parametrize("k", [1, 2, 3])
def test_knn_shapley_equals_brute_force_shapley_values(k: int) -> None:
    rng = np.random.default_rng(k)
    train, labels = rng.normal(size=(5, 2)), np.array([0, 1, 0, 0, 1])
    test, test_y = rng.normal(size=(1, 2)), np.array([0])
    d, match = ((train - test[0]) ** 2).sum(1), (labels == test_y[0]).astype(float)
    brute = np.zeros(5)
    perms = list(itertools.permutations(range(5)))
    for perm in perms:
        for pos, i in enumerate(perm):
            before = list(perm[:pos])
            brute[i] += _knn_utility(before + [i], d, match, k) - _knn_utility(before, d, match, k)
    brute /= len(perms)
    got = knn_shapley(train, labels, test, test_y, k)
    np.testing.assert_allclose(got, brute, atol=1e-12)
    assert got.sum() == pytest.approx(_knn_utility(list(range(5)), d, match, k))  # efficiency


def test_predictive_entropy_by_hand() -> None:
    h = predictive_entropy(torch.tensor([[0.0, 0.0, 0.0, 0.0], [50.0, 0.0, 0.0, 0.0]]))
    assert h[0].item() == pytest.approx(math.log(4)) and h[1].item() == pytest.approx(0, abs=1e-18)


def test_tracin_self_influence_by_hand() -> None:
    """For a linear softmax classifier, grad of CE w.r.t. (W, b) is ((p - y) x^T, p - y), so
    ||grad||^2 = ||p - y||^2 (||x||^2 + 1); TracInCP sums it over the two checkpoints."""
    from torch import nn

    from erasus_bench.methods.classifier import ClassifierAdapter
    from erasus_bench.methods.examples import Examples
    from erasus_bench.methods.selectors.tracin import TracIn
    from erasus_bench.methods.task import SelectionContext

    class Linear(nn.Module):
        def __init__(self, seed: int) -> None:
            super().__init__()
            torch.manual_seed(seed)
            self.head = nn.Linear(3, 4)

        def features(self, x: torch.Tensor) -> torch.Tensor:
            return x

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(x)

    torch.manual_seed(5)
    x, y = torch.randn(9, 3), torch.randint(4, (9,))
    early, final = Linear(1), Linear(2)

    def hand(m: Linear) -> torch.Tensor:
        with torch.no_grad():
            p = torch.softmax(m(x).double(), -1)
        err = ((p - torch.nn.functional.one_hot(y, 4).double()) ** 2).sum(1)
        return err * ((x.double() ** 2).sum(1) + 1)

    want = hand(early) + hand(final)
    ctx = SelectionContext(final, Examples({"x": x, "y": y}), ClassifierAdapter(), seed=0,
                           num_classes=4, early_models=(early, Linear(3)))
    got = TracIn().select(ctx, 4)
    assert got.tolist() == torch.argsort(-want, stable=True)[:4].tolist()
    with pytest.raises(ValueError, match="early training checkpoint"):
        TracIn().select(SelectionContext(final, Examples({"x": x, "y": y}),
                                         ClassifierAdapter(), seed=0), 4)


def test_borda_by_hand() -> None:
    from erasus_bench.methods.selectors.voting import borda

    # mean positions: 0 -> (0+1+2)/3, 1 -> (1+0+1)/3, 2 -> (2+3+0)/3, 3 -> (3+2+3)/3
    rankings = [np.array([0, 1, 2, 3]), np.array([1, 0, 3, 2]), np.array([2, 1, 0, 3])]
    assert borda(rankings, 4).tolist() == [1, 0, 2, 3]
    assert borda([np.array([1, 0]), np.array([0, 1])], 2).tolist() == [0, 1]  # tie: lower index


def test_compositions_by_hand() -> None:
    from erasus_bench.methods.selectors.compose import combine

    a, b = np.array([0, 1, 2, 3, 4]), np.array([1, 3, 0, 4, 2])
    # top-3 sets {0,1,2} and {1,3,0}; mean positions 0:1, 1:0.5, 2:3, 3:2, 4:3.5
    assert combine([a, b], 3, "intersect").tolist() == [1, 0, 3]  # {0, 1} topped up by 3
    assert combine([a, b], 3, "union").tolist() == [1, 0, 3]  # {0,1,2,3} trimmed to 3
    assert combine([a, b], 2, "intersect").tolist() == [1, 0]
    assert combine([a, b], 4, "union").tolist() == [1, 0, 3, 2]


def test_composed_selector_runs_through_the_grid_and_names_a_safe_file(tmp_path, cache_dir,
                                                                        general_setting) -> None:
    from erasus_bench.errors import UserError
    from erasus_bench.harness.grid import build_grid
    from erasus_bench.harness.runner import select_coreset
    from erasus_bench.harness.store import record_path

    _, _, cells = build_grid("general", {}, ["gradient_ascent"], ["loss&k_center"], [0.1], 1)
    cell = next(c for c in cells if c.selector == "loss&k_center")
    assert "loss+and+k_center" in record_path(tmp_path, cell).name
    k = 13
    got = select_coreset(cell, general_setting, k).idx
    assert len(set(got.tolist())) == k
    with pytest.raises(UserError, match="mixes"):
        build_grid("general", {}, ["gradient_ascent"], ["loss&k_center|random"], [0.1], 1)
    with pytest.raises(UserError, match="kcenter"):
        build_grid("general", {}, ["gradient_ascent"], ["loss&kcenter"], [0.1], 1)
