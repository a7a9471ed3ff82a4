"""What ``erasus-bench status`` reports: every grid submitted to a results folder (remembered
in ``<results>/.jobs/grids/``) with its cells done, running, failed (and why) and pending,
read from the records and the running markers alone, so it works for any engine."""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from erasus_bench.harness.inflight import markers
from erasus_bench.harness.spec import CellSpec, stable_hash
from erasus_bench.harness.store import (created_now, read_record, record_path, satisfies,
                                        write_atomic)

DONE, RUNNING, FAILED, STOPPED, PENDING = "done", "running", "failed", "stopped", "pending"


def grids_dir(results_dir: str | Path) -> Path:
    return Path(results_dir) / ".jobs" / "grids"


def remember_grid(results_dir: str | Path, cells: Sequence[CellSpec], command: str,
                  executor: str) -> Path:
    """Remember a submitted grid (its command, engine and cells) for ``status``; the same
    command and cells keep one file, stamped with the latest submission."""
    entries = [[record_path(Path(), c).as_posix(), c.config_hash, list(c.attacks)]
               for c in cells]
    path = grids_dir(results_dir) / f"{stable_hash([command, entries], 16)}.grid"
    write_atomic(path, {"command": command, "executor": executor, "submitted": created_now(),
                        "cells": entries})
    return path


@dataclass
class GridStatus:
    """One grid's cells by state; ``failed`` and ``stopped`` with their reasons; ``starved``:
    done cells whose timed stages got under a core (harness.clock)."""

    command: str
    executor: str
    submitted: str
    counts: dict[str, int] = field(default_factory=dict)
    failed: list[tuple[str, str]] = field(default_factory=list)
    running: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    stopped: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    starved: list[tuple[str, list[str]]] = field(default_factory=list)


def cell_state(rec: dict[str, Any] | None, config_hash: str, attacks: Sequence[str],
               marker: dict[str, Any] | None) -> str:
    """A cell's state from its record (if it is this cell's) and its running marker."""
    if marker is not None:
        return STOPPED if marker.get("alive") is False else RUNNING
    if satisfies(rec, config_hash, attacks):
        return DONE
    if rec is not None and rec.get("config_hash") == config_hash and rec.get("status") != "ok":
        return FAILED
    return PENDING


def grid_status(results_dir: str | Path) -> list[GridStatus]:
    """Every remembered grid of ``results_dir``, latest submission last."""
    marks = markers(results_dir)
    out = []
    for path in sorted(grids_dir(results_dir).glob("*.grid")):
        try:
            grid = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        st = GridStatus(grid["command"], grid["executor"], grid["submitted"],
                        dict.fromkeys((DONE, RUNNING, FAILED, STOPPED, PENDING), 0))
        for rel, config_hash, attacks in grid["cells"]:
            rec = read_record(Path(results_dir) / rel)
            state = cell_state(rec, config_hash, attacks, marks.get(config_hash))
            st.counts[state] += 1
            name = Path(rel).stem.rsplit("__", 1)[0]
            if state == DONE and (rec or {}).get("starved"):
                st.starved.append((name, rec["starved"]))
            if state == FAILED:
                st.failed.append((name, str((rec or {}).get("error"))))
            elif state in (RUNNING, STOPPED):
                getattr(st, state).append((name, marks[config_hash]))
        out.append(st)
    return sorted(out, key=lambda s: s.submitted)
