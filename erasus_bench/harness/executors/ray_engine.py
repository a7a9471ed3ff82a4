"""The Ray engine: each job a Ray task with ``num_cpus``/``num_gpus`` of its own, on a running
cluster (``--address auto|ray://...``) or a Ray started for this run on this machine."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any

from erasus_bench.harness.executors.job import JobResult, call_with_threads, describe
from erasus_bench.harness.executors.spec import ExecutorSpec

OBJECT_STORE_BYTES = 256 * 1024**2


class RayEngine:
    """Submits every job as a task (at most ``slots()`` in flight when bounded) and yields
    results as tasks finish; tasks left when the run is interrupted are cancelled, and a Ray
    started here is shut down."""

    name = "ray"

    def __init__(self, spec: ExecutorSpec) -> None:
        self.spec = spec
        self._started = False
        self._remote: Any = None
        self._live: list[Any] = []

    def __enter__(self) -> RayEngine:
        import ray

        if not ray.is_initialized():
            if self.spec.address:
                ray.init(address=self.spec.address, log_to_driver=False)
            else:
                # jobs pass only specs and outcomes: a small object store, not 30% of memory
                ray.init(num_cpus=self.spec.cpus_per_task * (self.spec.slots() or 1),
                         num_gpus=self.spec.gpus_per_task or None, include_dashboard=False,
                         log_to_driver=False, object_store_memory=OBJECT_STORE_BYTES)
            self._started = True
        self._remote = ray.remote(num_cpus=self.spec.cpus_per_task,
                                  num_gpus=self.spec.gpus_per_task,
                                  max_retries=0)(call_with_threads)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        import ray

        for ref in self._live:
            ray.cancel(ref, force=True)
        self._live = []
        if self._started:
            ray.shutdown()
            self._started = False

    def run(self, fn: Callable[..., Any], jobs: Iterable[tuple[Any, ...]]
            ) -> Iterator[JobResult]:
        """Yield each job's result as soon as it finishes (order not preserved)."""
        import ray

        queue = list(enumerate(jobs))
        slots = self.spec.max_concurrent or len(queue)
        pending: dict[Any, int] = {}
        while pending or queue:
            while queue and len(pending) < slots:
                i, args = queue.pop(0)
                ref = self._remote.remote(self.spec.cpus_per_task, self.name, fn, args)
                pending[ref] = i
            self._live = list(pending)
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                i = pending.pop(ref)
                try:
                    yield JobResult(i, ray.get(ref))
                except Exception as e:  # noqa: BLE001 - the task raised, or Ray lost it
                    yield JobResult(i, None, describe(getattr(e, "cause", None) or e))
        self._live = []
