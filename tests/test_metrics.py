"""Each classification metric against an independent computation on a hand-made case."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from erasus_bench.metrics import classification as M


def brute_force_threshold(member: np.ndarray, nonmember: np.ndarray) -> float:
    """Best 'member iff loss <= t' threshold by trying every observed loss (balanced accuracy)."""
    best, best_t = -1.0, None
    for t in sorted(np.concatenate([member, nonmember])):
        score = np.mean(member <= t) + np.mean(nonmember > t)
        if score > best + 1e-12:
            best, best_t = score, t
    return float(best_t)


def test_accuracy_by_hand() -> None:
    assert M.accuracy(np.array([1, 0, 1, 1])) == 0.75


def test_loss_threshold_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    member = rng.exponential(0.2, 40)
    nonmember = rng.exponential(1.0, 30)
    t = M.loss_threshold(member, nonmember)
    bt = brute_force_threshold(member, nonmember)
    score = lambda th: np.mean(member <= th) + np.mean(nonmember > th)  # noqa: E731
    assert score(t) == pytest.approx(score(bt))


def test_mia_loss_threshold_hand_case() -> None:
    # members have loss <= 0.1, non-members >= 1: the attack threshold is 0.1.
    retain = np.array([0.01, 0.05, 0.1])
    test = np.array([1.0, 2.0, 3.0])
    forget = np.array([0.02, 0.5, 5.0, 0.1])  # 0.5 and 5.0 look like non-members
    assert M.mia_loss_threshold(retain, test, forget) == 0.5


def test_svc_mia_efficacy_hand_case() -> None:
    # members are confident (>= 0.95), non-members are not (<= 0.3): the SVC separates them, so
    # the two unconfident forget samples are called non-members; retain beyond |test| (here
    # unconfident) is not part of the shadow set, as in SalUn's retain[:len(test)]
    retain = np.array([0.99, 0.97, 0.95, 0.98, 0.999, 0.96, 0.1, 0.2, 0.15])
    test = np.array([0.1, 0.3, 0.2, 0.05, 0.25, 0.15])
    forget = np.array([0.995, 0.12, 0.97, 0.22])
    assert M.mia_efficacy(retain, test, forget) == 0.5
    assert M.mia_efficacy(retain, test, np.array([0.99, 0.98])) == 0.0


def test_avg_gap_by_hand() -> None:
    m = {"forget_acc": 0.9, "retain_acc": 1.0, "test_acc": 0.95, "mia_efficacy": 0.2}
    g = {"forget_acc": 0.8, "retain_acc": 0.98, "test_acc": 0.97, "mia_efficacy": 0.3}
    assert M.avg_gap(m, g) == pytest.approx((0.1 + 0.02 + 0.02 + 0.1) / 4)
    assert M.avg_gap(g, g) == 0.0


def test_forget_quality_exact_small_case() -> None:
    # Fully separated samples of 3 and 3: D = 1; the exact two-sided p-value is the share of the
    # C(6,3) = 20 equally likely label arrangements with D = 1, i.e. 2/20.
    assert M.forget_quality(np.array([1.0, 2, 3]), np.array([4.0, 5, 6])) == pytest.approx(0.1)
    arrangements = [set(c) for c in itertools.combinations(range(6), 3)]
    extreme = sum(c in ({0, 1, 2}, {3, 4, 5}) for c in arrangements)
    assert extreme / math.comb(6, 3) == pytest.approx(0.1)
    assert M.forget_quality(np.array([1.0, 2, 3]), np.array([1.0, 2, 3])) == 1.0
