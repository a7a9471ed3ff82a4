"""Engines that run a grid's jobs (issue [10]): the local process pool, submitit (SLURM, or
its local executor) and Ray; each is a context manager whose ``run(fn, jobs)`` yields a
JobResult per job as it finishes."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from erasus_bench.harness.executors.spec import SUBMITIT, ExecutorSpec


def make_engine(spec: ExecutorSpec, results_dir: str | Path) -> Any:
    """The engine ``spec`` names; submitit's job files go to ``spec.job_dir`` (default:
    ``<results_dir>/.jobs/submitit``, which every job must see on a cluster)."""
    if spec.name in SUBMITIT:
        from erasus_bench.harness.executors.submitit_engine import SubmititEngine

        return SubmititEngine(spec, spec.job_dir or Path(results_dir) / ".jobs" / "submitit")
    if spec.name == "ray":
        from erasus_bench.harness.executors.ray_engine import RayEngine

        return RayEngine(spec)
    from erasus_bench.harness.executors.local_pool import LocalPool

    return LocalPool(spec.workers)
