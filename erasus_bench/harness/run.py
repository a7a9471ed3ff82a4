"""Run a grid: skip cells already done, train base/gold models per seed, run the rest in the
executor with a progress bar."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)

from erasus_bench.harness.cache_dir import default_cache_dir
from erasus_bench.harness.executor import LocalExecutor
from erasus_bench.harness.runner import CellOutcome, RunContext, prepare, run_cell
from erasus_bench.harness.spec import CellSpec
from erasus_bench.harness.store import is_done
from erasus_bench.protocols.base import ROLES


def run_grid(cells: list[CellSpec], config: dict[str, Any], *, results_dir: str | Path,
             cache_dir: str | Path | None = None, command: str = "", workers: int | None = None,
             force: bool = False) -> list[CellOutcome]:
    """Run every cell without an ok record (all of them with ``force``); outcomes of those run."""
    results = Path(results_dir)
    todo = [c for c in cells if force or not is_done(results, c)]
    if not todo:
        return []
    ctx = RunContext(str(results), str(cache_dir or default_cache_dir()), command)
    protocol = todo[0].protocol
    seeds = sorted({c.seed for c in todo})
    outcomes = []
    console = Console(stderr=True)
    with LocalExecutor(workers) as executor, Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), console=console) as bar:
        jobs = [(protocol, config, s, role, ctx.cache_dir) for s in seeds for role in ROLES]
        setup = bar.add_task("base/gold models", total=len(jobs))
        for _ in executor.run(prepare, jobs):
            bar.advance(setup)
        task = bar.add_task(f"{protocol} cells", total=len(todo))
        for outcome in executor.run(run_cell, [(c, ctx) for c in todo]):
            outcomes.append(outcome)
            bar.advance(task)
    return outcomes
