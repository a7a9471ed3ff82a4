"""Markers of the cells a job is running, where every job and ``erasus-bench status`` see them
(``<results>/.jobs/running/<config hash>.run``); a job removes its markers when it ends, so a
marker left behind belongs to a job that is still running or was killed."""
from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from erasus_bench.harness.executors.job import current_executor
from erasus_bench.harness.spec import CellSpec
from erasus_bench.harness.store import created_now


def running_dir(results_dir: str | Path) -> Path:
    return Path(results_dir) / ".jobs" / "running"


def job_id() -> str | None:
    """The scheduler's id of the job this process runs in (SLURM array ``<job>_<task>``)."""
    if os.environ.get("SLURM_ARRAY_JOB_ID"):
        return f"{os.environ['SLURM_ARRAY_JOB_ID']}_{os.environ.get('SLURM_ARRAY_TASK_ID', '')}"
    return os.environ.get("SLURM_JOB_ID") or os.environ.get("SUBMITIT_LOCAL_JOB_ID")


@contextmanager
def running(results_dir: str | Path, specs: Sequence[CellSpec]) -> Iterator[None]:
    """Mark ``specs`` as running in this process for the duration of the block."""
    folder = running_dir(results_dir)
    folder.mkdir(parents=True, exist_ok=True)
    info = {"host": socket.gethostname(), "pid": os.getpid(), "job": job_id(),
            "executor": current_executor(),
            "started": created_now()}
    paths = []
    for spec in specs:
        path = folder / f"{spec.config_hash}.run"
        path.write_text(json.dumps({**info, "cell": spec.readable_key}))
        paths.append(path)
    try:
        yield
    finally:
        for path in paths:
            path.unlink(missing_ok=True)


def markers(results_dir: str | Path) -> dict[str, dict[str, Any]]:
    """Every marker left: config hash -> what the marker says, with ``alive`` False when its
    process was on this host and is gone (killed), True when it is alive, None when unknown."""
    out = {}
    for path in sorted(running_dir(results_dir).glob("*.run")):
        try:
            info = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        info["alive"] = _alive(info) if info.get("host") == socket.gethostname() else None
        out[path.stem] = info
    return out


def _alive(info: dict[str, Any]) -> bool:
    try:
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return False
    return True
