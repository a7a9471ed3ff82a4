"""Run a grid: skip cells already done, prepare base/gold models per seed as their own jobs,
then run the rest, all through one engine (harness.executors), with a progress bar."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)

from erasus_bench.errors import UserError
from erasus_bench.harness.cache_dir import default_cache_dir
from erasus_bench.harness.executors import make_engine
from erasus_bench.harness.executors.spec import ExecutorSpec
from erasus_bench.harness.grid_status import remember_grid
from erasus_bench.harness.prepared import is_prepared
from erasus_bench.harness.runner import (CellOutcome, RunContext, cells_of, prepare,
                                         run_batch)
from erasus_bench.harness.spec import CellSpec
from erasus_bench.harness.store import is_done, read_record, record_path
from erasus_bench.protocols.base import ROLES
from erasus_bench.registry import PROTOCOLS

Job = CellSpec | list[CellSpec]


def plan_jobs(cells: list[CellSpec], todo: list[CellSpec]) -> list[Job]:
    """The units of work of ``todo``: single cells, and each method's whole sequence of
    deletion requests (each request starts from the model the previous one left)."""
    chains: dict[str, list[CellSpec]] = {}
    for c in cells:
        if c.request is not None and not c.is_reference:
            chains.setdefault(replace(c, request=None).config_hash, []).append(c)
    pending = {c.config_hash for c in todo}
    jobs: list[Job] = [c for c in todo if c.request is None or c.is_reference]
    jobs += [sorted(chain, key=lambda c: c.request or 0) for chain in chains.values()
             if pending.intersection(c.config_hash for c in chain)]
    return jobs


def batches(jobs: list[Job], size: int) -> list[list[Job]]:
    """Units of work in engine jobs of about ``size`` cells, one seed's cells together (they
    share the seed's base and gold models, loaded once per job)."""
    out: list[list[Job]] = []
    for job in sorted(jobs, key=lambda j: cells_of(j)[0].seed):
        last = out[-1] if out else None
        if (last is None or cells_of(last[0])[0].seed != cells_of(job)[0].seed
                or sum(len(cells_of(j)) for j in last) + len(cells_of(job)) > size):
            out.append([job])
        else:
            last.append(job)
    return out


def lost(batch: list[Job], results: Path, error: str) -> list[CellOutcome]:
    """Outcomes of an engine job that broke: cells it finished keep their record; the others
    have none (no partial record is ever written) and are reported with the job's error."""
    out = []
    for c in (c for job in batch for c in cells_of(job)):
        path = record_path(results, c)
        if is_done(results, c):
            out.append(CellOutcome(c.readable_key, "ok", None, str(path)))
        else:
            rec = read_record(path)
            reason = rec["error"] if rec and rec.get("config_hash") == c.config_hash and \
                rec.get("status") == "failed" else f"job lost: {error}"
            out.append(CellOutcome(c.readable_key, "failed", reason, str(path)))
    return out


def run_grid(cells: list[CellSpec], config: dict[str, Any], *, results_dir: str | Path,
             cache_dir: str | Path | None = None, command: str = "",
             engine: ExecutorSpec | None = None, force: bool = False) -> list[CellOutcome]:
    """Run every cell without an ok record (all of them with ``force``) through ``engine``
    (default: the local pool on every core); outcomes of those run. A base or gold model
    trained with under a core (harness.clock) is reported on stderr."""
    spec = engine or ExecutorSpec()
    results = Path(results_dir)
    todo = [c for c in cells if force or not is_done(results, c)]
    if not todo:
        return []
    remember_grid(results, cells, command, spec.name)
    ctx = RunContext(str(results), str(cache_dir or default_cache_dir()), command)
    protocol = todo[0].protocol
    jobs = batches(plan_jobs(cells, todo), spec.group_size())
    seeds = sorted({c.seed for c in todo})
    golds = sorted({(c.seed, c.requests, c.request) for c in todo if c.request is not None})
    outcomes, starved = [], []
    console = Console(stderr=True)
    with make_engine(spec, results) as executor, Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), console=console) as bar:
        roles = ROLES if any(c.request is None for c in todo) else ROLES[:1]
        roles += PROTOCOLS.get(protocol)().attack_roles(
            tuple(sorted({a for c in todo for a in c.attacks})))
        setup = bar.add_task("base/gold models", total=len(seeds) * len(roles) + len(golds))
        # base and gold models first, each its own job: every cell of their seed needs them;
        # then the gold model of each deletion request, once its seed's base model exists
        # (a job whose models a finished job of this code already stored is not queued again)
        for stage in ([(protocol, config, s, role, ctx.cache_dir, None, None)
                       for s in seeds for role in roles],
                      [(protocol, config, s, "gold", ctx.cache_dir, k, j) for s, k, j in golds]):
            queued = [job for job in stage if not is_prepared(ctx.cache_dir, job)]
            bar.advance(setup, len(stage) - len(queued))
            for res in executor.run(prepare, queued):
                if res.error:
                    seed, role = queued[res.index][2], queued[res.index][3]
                    raise UserError(f"training the {role} model of seed {seed} failed: "
                                    f"{res.error}")
                starved += res.value
                bar.advance(setup)
        task = bar.add_task(f"{protocol} cells", total=sum(len(cells_of(j)) for b in jobs
                                                           for j in b))
        for res in executor.run(run_batch, [(b, ctx, force) for b in jobs]):
            done = res.value if res.error is None else lost(jobs[res.index], results, res.error)
            outcomes.extend(done)
            bar.advance(task, sum(len(cells_of(j)) for j in jobs[res.index]))
    for warning in starved:
        console.print(f"warning: {warning}", markup=False, highlight=False)
    return outcomes
