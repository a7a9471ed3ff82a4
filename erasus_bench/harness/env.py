"""The environment a record was produced in: package versions, git commit, device, engine."""
from __future__ import annotations

import functools
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from erasus_bench.harness.executors.job import current_executor

PACKAGES = ("erasus_bench", "torch", "numpy", "scipy", "scikit-learn", "transformers")


def _version(pkg: str) -> str | None:
    try:
        return version(pkg)
    except PackageNotFoundError:
        return None


def git_commit(cwd: Path | None = None) -> str | None:
    """HEAD of the git checkout at ``cwd``, with ``-dirty`` when tracked source files (outside
    the generated ``results/`` and ``leaderboards/`` folders) have uncommitted changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                              text=True, timeout=5)
        if head.returncode:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                ":/", ":!/results", ":!/leaderboards"],
                               cwd=cwd, capture_output=True, text=True, timeout=5).stdout.strip()
        return head.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.TimeoutExpired):
        return None


@functools.cache
def environment() -> dict[str, Any]:
    """Versions, git commit of the installed package's checkout, Python and device."""
    import torch

    env: dict[str, Any] = {p.replace("-", "_"): _version(p) for p in PACKAGES}
    env["python"] = platform.python_version()
    env["git_commit"] = git_commit(Path(__file__).resolve().parent)
    env["device"] = (torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu")
    env["torch_threads"] = torch.get_num_threads()
    env["executor"] = current_executor()
    return env
