"""What runs a grid's jobs: the engine and the resources each task is given (``--executor``)."""
from __future__ import annotations

import os
from dataclasses import dataclass

from erasus_bench.errors import UserError, unknown_choice

# local: this machine's process pool; slurm: submitit job arrays; submitit-local: submitit's
# LocalExecutor (the slurm code path, one process per job on this machine); ray: Ray tasks
EXECUTORS = ("local", "slurm", "submitit-local", "ray")
SUBMITIT = ("slurm", "submitit-local")
# cells per job when a job is a fresh process (submitit); the local pool and Ray reuse workers
DEFAULT_SUBMITIT_CELLS = 10


@dataclass(frozen=True)
class ExecutorSpec:
    """The engine (one of EXECUTORS) and what each task gets. ``workers`` is the local pool's
    size; the other engines run ``max_concurrent`` tasks at a time (default: as many as fit in
    this machine's cores for the local engines, the scheduler's choice otherwise), each with
    ``cpus_per_task`` cores (= its torch threads) and ``gpus_per_task`` GPUs."""

    name: str = "local"
    workers: int | None = None
    cpus_per_task: int = 1
    gpus_per_task: int = 0
    partition: str | None = None
    mem: str | None = None
    time_min: int = 240
    max_concurrent: int | None = None
    slurm_args: tuple[tuple[str, str], ...] = ()
    address: str | None = None
    cells_per_job: int | None = None
    job_dir: str | None = None

    def __post_init__(self) -> None:
        if self.name not in EXECUTORS:
            raise unknown_choice("executor", self.name, EXECUTORS)
        for opt, value in (("--workers", self.workers), ("--cpus-per-task", self.cpus_per_task),
                           ("--time", self.time_min), ("--max-concurrent", self.max_concurrent),
                           ("--cells-per-job", self.cells_per_job)):
            if value is not None and value < 1:
                raise UserError(f"{opt} {value} is invalid: must be >= 1")
        if self.gpus_per_task < 0:
            raise UserError(f"--gpus-per-task {self.gpus_per_task} is invalid: must be >= 0")
        slurm_only = {"--partition": self.partition, "--mem": self.mem,
                      "--slurm-arg": self.slurm_args}
        given = [k for k, v in slurm_only.items() if v]
        if given and self.name != "slurm":
            raise UserError(f"{', '.join(given)} only apply to --executor slurm "
                            f"(not {self.name!r})")
        if self.address and self.name != "ray":
            raise UserError(f"--address only applies to --executor ray (not {self.name!r})")
        if self.name == "local" and (self.cpus_per_task != 1 or self.gpus_per_task
                                     or self.max_concurrent is not None):
            raise UserError("--cpus-per-task, --gpus-per-task and --max-concurrent are for the "
                            "slurm, submitit-local and ray executors; the local pool takes "
                            "--workers (each worker gets cores/workers torch threads)")
        if self.workers is not None and self.name != "local":
            raise UserError(f"--workers is the local pool's size; --executor {self.name} "
                            "takes --max-concurrent and --cpus-per-task instead")

    @property
    def is_local_machine(self) -> bool:
        """True when every task runs on this machine (so this machine's cores bound them)."""
        return self.name in ("local", "submitit-local") or (
            self.name == "ray" and self.address is None)

    def slots(self) -> int | None:
        """How many tasks run at once: ``max_concurrent``, else what this machine's cores hold
        for a local engine, else None (the scheduler decides)."""
        if self.max_concurrent is not None:
            return self.max_concurrent
        if self.is_local_machine:
            return max(1, (os.cpu_count() or 1) // self.cpus_per_task)
        return None

    def group_size(self) -> int:
        """Cells per job: ``cells_per_job``, else 1 for engines with warm workers (local pool,
        Ray) and DEFAULT_SUBMITIT_CELLS for submitit (each job is a fresh process)."""
        if self.cells_per_job is not None:
            return self.cells_per_job
        return DEFAULT_SUBMITIT_CELLS if self.name in SUBMITIT else 1


def parse_slurm_args(pairs: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """``--slurm-arg key=value`` (repeatable) as (key, value) pairs for sbatch."""
    out = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--slurm-arg {pair!r} is invalid: expected KEY=VALUE "
                            "(e.g. account=myproject, qos=high)")
        out.append((key.strip().lstrip("-").replace("-", "_"), value.strip()))
    return tuple(out)
