"""Run a grid: skip cells already done, train base/gold models per seed, run the rest in the
executor with a progress bar."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)

from erasus_bench.harness.cache_dir import default_cache_dir
from erasus_bench.harness.executor import LocalExecutor
from erasus_bench.harness.runner import CellOutcome, RunContext, prepare, run_job
from erasus_bench.harness.spec import CellSpec
from erasus_bench.harness.store import is_done
from erasus_bench.protocols.base import ROLES
from erasus_bench.registry import PROTOCOLS


def run_grid(cells: list[CellSpec], config: dict[str, Any], *, results_dir: str | Path,
             cache_dir: str | Path | None = None, command: str = "", workers: int | None = None,
             force: bool = False) -> list[CellOutcome]:
    """Run every cell without an ok record (all of them with ``force``); outcomes of those run.
    A method's sequence of deletion requests is one job (each request starts from the model
    the previous one left), run whole unless it can resume."""
    results = Path(results_dir)
    todo = [c for c in cells if force or not is_done(results, c)]
    if not todo:
        return []
    ctx = RunContext(str(results), str(cache_dir or default_cache_dir()), command)
    protocol = todo[0].protocol
    chains: dict[str, list[CellSpec]] = {}
    for c in cells:
        if c.request is not None and not c.is_reference:
            chains.setdefault(replace(c, request=None).config_hash, []).append(c)
    pending = {c.config_hash for c in todo}
    jobs: list[CellSpec | list[CellSpec]] = [
        c for c in todo if c.request is None or c.is_reference]
    jobs += [sorted(chain, key=lambda c: c.request or 0) for chain in chains.values()
             if pending.intersection(c.config_hash for c in chain)]
    seeds = sorted({c.seed for c in todo})
    golds = sorted({(c.seed, c.requests, c.request) for c in todo if c.request is not None})
    outcomes = []
    console = Console(stderr=True)
    with LocalExecutor(workers) as executor, Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), console=console) as bar:
        roles = ROLES if any(c.request is None for c in todo) else ROLES[:1]
        roles += PROTOCOLS.get(protocol)().attack_roles(
            tuple(sorted({a for c in todo for a in c.attacks})))
        setup = bar.add_task("base/gold models", total=len(seeds) * len(roles) + len(golds))
        for _ in executor.run(prepare, [(protocol, config, s, role, ctx.cache_dir)
                                        for s in seeds for role in roles]):
            bar.advance(setup)
        # the gold model of each deletion request, once its seed's base model exists
        for _ in executor.run(prepare, [(protocol, config, s, "gold", ctx.cache_dir, k, j)
                                        for s, k, j in golds]):
            bar.advance(setup)
        task = bar.add_task(f"{protocol} cells",
                            total=sum(len(j) if isinstance(j, list) else 1 for j in jobs))
        for done in executor.run(run_job, [(j, ctx, force) for j in jobs]):
            outcomes.extend(done)
            bar.advance(task, len(done))
    return outcomes
