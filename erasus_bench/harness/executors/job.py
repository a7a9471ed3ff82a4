"""What every engine runs: a job with its torch threads set, and what comes back of it."""
from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

EXECUTOR_ENV = "ERASUS_BENCH_EXECUTOR"  # the engine a record was produced by (``env.executor``)


def current_executor() -> str:
    """The engine running this process's job (``local`` outside any engine's job)."""
    return os.environ.get(EXECUTOR_ENV, "local")


@dataclass(frozen=True)
class JobResult:
    """A finished job: its position in the submitted list, and its value or why it broke (an
    exception in the job, or the engine losing it: killed, preempted, out of time)."""

    index: int
    value: Any = None
    error: str | None = None


def call_with_threads(threads: int, executor: str, fn: Callable[..., Any],
                      args: tuple[Any, ...]) -> Any:
    """Run ``fn(*args)`` with ``threads`` torch threads (what the task was given)."""
    import torch

    os.environ[EXECUTOR_ENV] = executor
    torch.set_num_threads(threads)
    return fn(*args)


CAUSE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Killed)\b")


def describe(exc: BaseException) -> str:
    """One line for a job that broke. An engine's error carries the remote traceback: its last
    ``SomeError: ...`` line names the cause; otherwise the exception and its message."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    causes = [ln for ln in lines if CAUSE.match(ln)]
    if causes:
        return causes[-1]
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")
