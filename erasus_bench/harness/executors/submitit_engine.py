"""The submitit engines: SLURM job arrays (``slurm``) and submitit's LocalExecutor
(``submitit-local``: the same code path, each job a process on this machine)."""
from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import submitit

from erasus_bench.errors import UserError
from erasus_bench.harness.executors.job import JobResult, call_with_threads, describe
from erasus_bench.harness.executors.spec import ExecutorSpec

POLL_S = 0.5


class Resumable(submitit.helpers.Checkpointable):
    """The job function: pre-empted or timed out, the job is requeued with the same arguments
    (submitit's default checkpoint); every cell finished before has its record, so the requeued
    job runs only the cells still missing."""

    def __call__(self, threads: int, executor: str, fn: Callable[..., Any],
                 args: tuple[Any, ...]) -> Any:
        return call_with_threads(threads, executor, fn, args)


class SubmititEngine:
    """Submits each job through submitit and yields results as jobs finish. On SLURM a batch
    is one job array (``--max-concurrent`` is its ``%`` throttle); submitit's LocalExecutor
    starts every job it is given at once, so locally at most ``slots()`` are in flight. Jobs
    still queued or running when the run is interrupted are cancelled."""

    def __init__(self, spec: ExecutorSpec, folder: str | Path) -> None:
        self.spec = spec
        self.name = spec.name
        self.folder = Path(folder)
        self._executor: Any = None
        self._live: list[Any] = []

    def __enter__(self) -> SubmititEngine:
        s = self.spec
        cluster = "slurm" if s.name == "slurm" else "local"
        if cluster == "slurm" and shutil.which("sbatch") is None:
            raise UserError("--executor slurm needs SLURM's sbatch on PATH (run it from a "
                            "login node of the cluster); on one machine use --executor "
                            "submitit-local, the same code path")
        ex = submitit.AutoExecutor(folder=self.folder / "%j", cluster=cluster)
        params: dict[str, Any] = {"name": "erasus-bench", "timeout_min": s.time_min,
                                  "cpus_per_task": s.cpus_per_task, "tasks_per_node": 1,
                                  "nodes": 1, "gpus_per_node": s.gpus_per_task}
        if cluster == "slurm":
            params.update(slurm_partition=s.partition, slurm_mem=s.mem,
                          slurm_array_parallelism=s.max_concurrent or 256,
                          slurm_additional_parameters=dict(s.slurm_args))
            params = {k: v for k, v in params.items() if v is not None}
        ex.update_parameters(**params)
        self._executor = ex
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for job in self._live:  # interrupted: nothing may keep running on our behalf
            try:
                job.cancel(check=False)
            except Exception:  # noqa: BLE001 - best effort; the store makes a rerun safe
                pass
        self._live = []

    def submit(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        """Submit one job (no waiting); its submitit Job."""
        return self._executor.submit(Resumable(), self.spec.cpus_per_task, self.name, fn, args)

    def run(self, fn: Callable[..., Any], jobs: Iterable[tuple[Any, ...]]
            ) -> Iterator[JobResult]:
        """Yield each job's result as soon as it finishes (order not preserved)."""
        todo = list(enumerate(jobs))
        if not todo:
            return
        if self.name == "slurm":
            arr = self._executor.map_array(
                Resumable(), *zip(*[(self.spec.cpus_per_task, self.name, fn, a)
                                    for _, a in todo]))
            pending = dict(zip(arr, (i for i, _ in todo)))
        else:
            pending = {}
        queue = todo if self.name != "slurm" else []
        slots = self.spec.slots() or len(todo)
        self._live = list(pending)
        while pending or queue:
            while queue and len(pending) < slots:
                i, args = queue.pop(0)
                pending[self.submit(fn, args)] = i
            self._live = list(pending)
            finished = [job for job in pending if job.done()]
            if not finished:
                time.sleep(POLL_S)
                continue
            for job in finished:
                i = pending.pop(job)
                try:
                    yield JobResult(i, job.result())
                except Exception as e:  # noqa: BLE001 - failed, killed, preempted, timed out
                    yield JobResult(i, None, f"{describe(e)} (job {job.job_id})")
        self._live = []
