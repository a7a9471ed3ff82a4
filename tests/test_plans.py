"""Remembered grid plans: a rerun skips expanding the grid only when every cell is done."""
from __future__ import annotations

from pathlib import Path

import pytest

from erasus_bench.harness import plans
from erasus_bench.harness.spec import CellSpec
from erasus_bench.harness.store import record_path, write_atomic

REQUEST = {"protocol": "general", "options": {}, "strategies": ["finetune"], "selectors": None,
           "fractions": [0.1], "seeds": 2, "budgets": ["steps"]}


def cells() -> list[CellSpec]:
    return [CellSpec("general", {"scenario": "random"}, "finetune", "full", 1.0, seed,
                     {"lr": 0.01}) for seed in range(2)]


def write(results: Path, spec: CellSpec, status: str = "ok", config_hash: str | None = None
          ) -> None:
    write_atomic(record_path(results, spec), {"status": status,
                                              "config_hash": config_hash or spec.config_hash})


def test_plan_counts_only_when_every_cell_is_done(tmp_path: Path) -> None:
    cache, results = tmp_path / "cache", tmp_path / "results"
    assert plans.done_count(cache, REQUEST, results) is None  # nothing remembered
    plans.remember(cache, REQUEST, cells())
    assert plans.done_count(cache, REQUEST, results) is None  # no records yet
    first, second = cells()
    write(results, first)
    write(results, second, status="failed")
    assert plans.done_count(cache, REQUEST, results) is None  # a failed cell is left to run
    write(results, second, config_hash="0" * 64)
    assert plans.done_count(cache, REQUEST, results) is None  # a record of another config
    write(results, second)
    assert plans.done_count(cache, REQUEST, results) == 2
    assert plans.done_count(cache, {**REQUEST, "seeds": 3}, results) is None  # another request


def test_plan_is_forgotten_when_the_code_changes(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    cache, results = tmp_path / "cache", tmp_path / "results"
    plans.remember(cache, REQUEST, cells())
    for spec in cells():
        write(results, spec)
    assert plans.done_count(cache, REQUEST, results) == 2
    monkeypatch.setattr(plans, "code_digest", lambda: "edited")
    assert plans.done_count(cache, REQUEST, results) is None
