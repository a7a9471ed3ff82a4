"""Timing honesty (harness.clock): a timed stage that got under a core, because it was paused or
shared its cores, is flagged in its record, and a model trained so is reported by ``prepare``."""
from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest
from torch import nn

from erasus_bench.harness import runner
from erasus_bench.harness.cache import ModelCache
from erasus_bench.harness.clock import Stopwatch, starved, starved_stages
from erasus_bench.harness.grid import build_grid
from erasus_bench.harness.runner import RunContext, run_cell
from erasus_bench.harness.store import read_record, record_path


def test_starved_by_hand() -> None:
    assert starved(10.0, 2.0) and not starved(10.0, 9.0)  # a pause / a busy core
    assert not starved(0.5, 0.0)  # too short to judge
    assert starved_stages({"unlearn_s": 4.0, "unlearn_cpu_s": 1.0, "evaluate_s": 2.0,
                           "evaluate_cpu_s": 2.1, "select_s": 9.0}) == ["unlearn_s"]


def test_stopwatch_sees_a_sleep_as_no_cpu_and_work_as_cpu() -> None:
    with Stopwatch() as idle:
        time.sleep(0.3)
    with Stopwatch() as busy:
        end = time.perf_counter() + 0.3
        while time.perf_counter() < end:
            pass
    assert idle.wall_s >= 0.3 and idle.cpu_s < 0.1
    assert busy.cpu_s > 0.2


def _cell():
    _, _, cells = build_grid("general", {}, ["gradient_ascent"], ["random"], [0.1], 1)
    return replace(next(c for c in cells if c.strategy == "gradient_ascent"), attacks=())


def test_a_paused_stage_is_flagged_in_the_record(tmp_path: Path, cache_dir: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    cell, ctx = _cell(), RunContext(str(tmp_path), cache_dir, "test")
    assert run_cell(cell, ctx).starved == ()
    rec = read_record(record_path(tmp_path, cell))
    assert rec["starved"] == [] and {"unlearn_cpu_s", "evaluate_cpu_s"} <= set(rec["timings"])
    protocol = runner.PROTOCOLS.get("general")
    real = protocol.evaluate

    def paused(self, *args, **kwargs):  # noqa: ANN001 - a stand-in for SIGSTOP mid-stage
        time.sleep(1.2)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(protocol, "evaluate", paused)
    out = run_cell(cell, ctx)
    rec = read_record(record_path(tmp_path, cell))
    assert out.starved == ("evaluate_s",) and rec["starved"] == ["evaluate_s"]
    assert rec["timings"]["evaluate_s"] > 1.2 > 5 * rec["timings"]["evaluate_cpu_s"]


def test_a_model_trained_while_paused_is_reported(tmp_path: Path) -> None:
    cache = ModelCache(tmp_path)

    def train() -> nn.Module:
        time.sleep(1.1)
        return nn.Linear(2, 2)

    cache.get_or_train({"k": 1}, nn.Linear(2, 2), train)
    assert len(cache.trained) == 1 and starved(cache.trained[0].wall_s, cache.trained[0].cpu_s)
    again = ModelCache(tmp_path)
    again.get_or_train({"k": 1}, nn.Linear(2, 2), train)
    assert again.trained == []  # found, not trained
