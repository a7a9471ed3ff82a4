"""Rank groups: Nemenyi's critical difference, checked by hand and by simulation."""
from __future__ import annotations

import numpy as np
import pytest

from erasus_bench.harness.compare import critical_difference, pairwise_rule, q_alpha, rank_groups


def test_q_alpha_matches_demsar_table() -> None:
    # Demsar (2006), Table 5(a): q_0.05 for k = 2..10
    table = {2: 1.960, 3: 2.343, 4: 2.569, 5: 2.728, 6: 2.850, 7: 2.949, 8: 3.031, 9: 3.102,
             10: 3.164}
    for k, q in table.items():
        assert q_alpha(k) == pytest.approx(q, abs=1e-3)


def test_critical_difference_by_hand() -> None:
    # k = 4 rows, N = 8 seeds: 2.569 * sqrt(4 * 5 / 48) = 1.658
    assert critical_difference(4, 8) == pytest.approx(2.569 * (20 / 48) ** 0.5, abs=1e-3)
    assert critical_difference(1, 8) == float("inf")
    assert "CD" in pairwise_rule()


def test_rank_groups_by_hand() -> None:
    seeds = range(8)
    # mean ranks over 8 seeds: a 1.5, b 1.5, c 3, d 4; CD(4, 8) = 1.658
    scores = {"a": {s: 0.10 + 0.001 * s for s in seeds},
              "b": {s: 0.10 + 0.001 * s + (0.0005 if s % 2 else -0.0004) for s in seeds},
              "c": {s: 0.50 + 0.001 * s for s in seeds},
              "d": {s: 0.90 for s in seeds},
              "one": {0: 0.0}}
    r = rank_groups(scores)
    assert [r[k]["mean_rank"] for k in "abcd"] == [1.5, 1.5, 3.0, 4.0]
    # c is 1.5 < CD from the leaders: group 1; d is 2.5 > CD: group 2
    assert (r["a"]["label"], r["b"]["label"], r["c"]["label"], r["d"]["label"]) == \
        ("1-3", "1-3", "1-3", "4")
    assert r["one"]["label"] is None and r["one"]["lo"] is None
    # 3 seeds, 3 rows: CD = 2.343 * sqrt(12 / 18) = 1.913; only first-in-every-seed vs
    # last-in-every-seed (gap 2) separates
    three = {k: {s: v + s for s in range(3)} for k, v in (("x", 0.0), ("y", 5.0), ("z", 9.0))}
    assert [rank_groups(three)[k]["label"] for k in "xyz"] == ["1-2", "1-2", "3"]
    three["z"][0] = -1.0  # z is no longer last everywhere: mean rank 7/3, gap 4/3 < CD
    assert {v["label"] for v in rank_groups(three).values()} == {"1-3"}


def test_rows_missing_a_shared_seed_are_not_ranked() -> None:
    scores = {k: {s: float(i) for s in range(5)} for i, k in enumerate("abc")}
    scores["failed"] = {s: 9.0 for s in range(4)}  # seed 4 failed
    r = rank_groups(scores)
    assert r["failed"]["label"] is None and r["a"]["label"] is not None


def _boards(shift: float, n_boards: int, rows: int = 80, seeds: int = 10) -> list[dict]:
    """Boards of ``rows`` rows x ``seeds`` seeds: unit normal noise per (row, seed) plus a common
    seed effect; the last row is worse by ``shift`` (per-seed differences have SD sqrt 2)."""
    rng = np.random.default_rng(0)
    out = []
    for _ in range(n_boards):
        x = rng.normal(size=(rows, seeds)) + rng.normal(size=seeds)
        x[-1] += shift
        out.append({i: dict(enumerate(x[i])) for i in range(rows)})
    return out


def test_simulated_identical_rows_separate_nothing() -> None:
    """Family-wise error: a board of 80 identical rows x 10 seeds separates nothing in >= 90%."""
    clean = [len({v["group"] for v in rank_groups(b).values()}) == 1
             for b in _boards(0.0, 200)]
    assert np.mean(clean) >= 0.9


def test_simulated_real_difference_separates() -> None:
    """Power: a row worse by 2 SD of the per-seed differences leaves the top group in >= 80%."""
    shift = 2 * np.sqrt(2)
    separated = [rank_groups(b)[79]["group"] != 1 for b in _boards(shift, 200)]
    assert np.mean(separated) >= 0.8
    # and a row that is not worse is not separated as often
    same = [rank_groups(b)[79]["group"] != 1 for b in _boards(0.0, 200)]
    assert np.mean(same) < 0.1


def test_separation_note_says_what_the_seed_count_can_separate() -> None:
    from erasus_bench.harness.compare import separation_note

    three = separation_note(80, 3)
    assert "CD = 79.8" in three and "no two methods can separate" in three
    assert "at 10 seeds CD would be 43.7" in three
    ten = separation_note(80, 10)
    assert "CD = 43.7" in ten and "can separate" not in ten and "would be" not in ten
    # the quoted CD is the one rank_groups applies
    board = {i: {s: float(i == 0) for s in range(3)} for i in range(80)}
    assert rank_groups(board)[1]["cd"] == pytest.approx(79.8, abs=0.05)
    assert rank_groups(board)[1]["seeds"] == 3
