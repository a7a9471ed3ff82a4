"""The local engine: a pool of spawned worker processes; workers x torch threads <= cores."""
from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from types import TracebackType
from typing import Any

from erasus_bench.harness.executors.job import JobResult, call_with_threads, describe


class LocalPool:
    """Runs ``fn(*args)`` jobs in ``workers`` spawned processes (in-process when workers == 1,
    with every core's threads). Use as a context manager so that several batches of jobs share
    one pool of warm workers."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        cores = os.cpu_count() or 1
        self.workers = max(1, workers or cores)
        self.threads = max(1, cores // self.workers)
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> LocalPool:
        if self.workers > 1:
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn"))
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=exc is None, cancel_futures=True)
            self._pool = None

    def run(self, fn: Callable[..., Any], jobs: Iterable[tuple[Any, ...]]
            ) -> Iterator[JobResult]:
        """Yield each job's result as soon as it finishes (order not preserved)."""
        if self._pool is None:
            for i, args in enumerate(jobs):
                try:
                    yield JobResult(i, fn(*args))
                except Exception as e:  # noqa: BLE001 - reported like a worker's failure
                    yield JobResult(i, None, describe(e))
            return
        pending: dict[Future[Any], int] = {
            self._pool.submit(call_with_threads, self.threads, self.name, fn, args): i
            for i, args in enumerate(jobs)}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    i = pending.pop(fut)
                    exc = fut.exception()
                    yield JobResult(i, None if exc else fut.result(),
                                    describe(exc) if exc else None)
        finally:
            for fut in pending:
                fut.cancel()
