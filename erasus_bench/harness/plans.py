"""Expanded grids remembered by request and code (under the model cache folder), so that a fully
cached rerun finds every cell done without importing torch or any plugin: the grid is built
only when no plan is remembered for the request, or when a cell of it has no ok record."""
from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from erasus_bench.harness.spec import CellSpec, stable_hash
from erasus_bench.harness.store import read_record, record_path, satisfies, write_atomic
from erasus_bench.registry import ENTRY_POINT_GROUP

PACKAGE = Path(__file__).resolve().parents[1]


@functools.cache
def code_digest() -> str:
    """SHA-256 of every file of the package (code, cards, tuned hyperparameters) and of the
    installed plugins' entry points: everything a request's grid is expanded from (read once
    per process: a run looks its plan up and, on a miss, stores it)."""
    h = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes())
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.name, e.value)):
        version = ep.dist.version if ep.dist else ""
        h.update(f"\0{ep.name}={ep.value}@{version}".encode())
    return h.hexdigest()


def plan_path(cache_dir: str | Path, request: dict[str, Any]) -> Path:
    """Where the grid of ``request`` (protocol, options, names, fractions, seeds, budgets)
    expanded by this code is remembered."""
    key = stable_hash({"request": request, "code": code_digest()}, 24)
    return Path(cache_dir) / "plans" / f"{key}.json"


def remember(cache_dir: str | Path, request: dict[str, Any], cells: Sequence[CellSpec]) -> None:
    """Store each cell's record path (relative to a results folder), config hash and attack
    stages."""
    write_atomic(plan_path(cache_dir, request), {
        "request": request,
        "cells": [[record_path(Path(), c).as_posix(), c.config_hash, list(c.attacks)]
                  for c in cells]})


def done_count(cache_dir: str | Path, request: dict[str, Any], results_dir: str | Path
               ) -> int | None:
    """The number of cells of the remembered grid of ``request`` when every one has an ok
    record with its config hash and attack stages under ``results_dir``; None when no plan is
    remembered or a cell is left to run."""
    plan = read_record(plan_path(cache_dir, request))
    if not plan or plan.get("request") != request:
        return None
    for rel, config_hash, attacks in plan["cells"]:
        if not satisfies(read_record(Path(results_dir) / rel), config_hash, attacks):
            return None
    return len(plan["cells"])
