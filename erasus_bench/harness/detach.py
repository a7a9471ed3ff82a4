"""``--detach``: the grid's driver (``run_grid`` waiting on its jobs) submitted as a job of its
own through submitit, so the command returns at once; ``erasus-bench status`` follows it."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from erasus_bench.errors import UserError
from erasus_bench.harness.executors.spec import SUBMITIT, ExecutorSpec
from erasus_bench.harness.spec import CellSpec


def check_detachable(engine: ExecutorSpec) -> None:
    """Only submitit engines can hold a driver job; say what to do otherwise."""
    if engine.name in SUBMITIT:
        return
    how = ("submit the command itself as a Ray job: `ray job submit --address ... -- "
           "erasus-bench run ... --executor ray --address auto`" if engine.name == "ray" else
           "run it under nohup/tmux, or use --executor submitit-local")
    raise UserError(f"--detach needs --executor slurm or submitit-local (not "
                    f"{engine.name!r}); to detach a {engine.name} run, {how}")


def drive(cells: list[CellSpec], config: dict[str, Any], results_dir: str,
          cache_dir: str | None, command: str, engine: ExecutorSpec, force: bool) -> int:
    """The driver job: run the grid through ``engine``; the number of cells that failed."""
    from erasus_bench.harness.run import run_grid

    outcomes = run_grid(cells, config, results_dir=results_dir, cache_dir=cache_dir,
                        command=command, engine=engine, force=force)
    return sum(o.status == "failed" for o in outcomes)


def submit_driver(cells: list[CellSpec], config: dict[str, Any], results_dir: str,
                  cache_dir: str | None, command: str, engine: ExecutorSpec,
                  force: bool) -> str:
    """Submit the driver (one CPU) and return its job id."""
    from dataclasses import replace

    from erasus_bench.harness.executors import make_engine
    from erasus_bench.harness.grid_status import remember_grid

    remember_grid(results_dir, cells, command, engine.name)
    driver = make_engine(replace(engine, cpus_per_task=1, gpus_per_task=0), results_dir)
    with driver:
        job = driver.submit(drive, (cells, config, str(Path(results_dir).resolve()),
                                    cache_dir, command, engine, force))
    return str(job.job_id)
