"""Markers of prepared models (``<cache>/prepared/<hash>.json``): a base or gold model job that
finished lists the cache files it produced or found, keyed by its arguments and the package's
code, so that a resubmitted grid does not queue jobs that would only load cached models."""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from erasus_bench.harness.plans import code_digest
from erasus_bench.harness.spec import stable_hash
from erasus_bench.harness.store import write_atomic


def marker_path(cache_dir: str | Path, job: Sequence[Any]) -> Path:
    """Where the marker of prepare job ``job`` (all of runner.prepare's arguments) lives."""
    key = stable_hash({"job": list(job), "code": code_digest()}, 24)
    return Path(cache_dir) / "prepared" / f"{key}.json"


def mark_prepared(cache_dir: str | Path, job: Sequence[Any], files: Sequence[Path]) -> None:
    write_atomic(marker_path(cache_dir, job), {"files": [str(f) for f in files]})


def is_prepared(cache_dir: str | Path, job: Sequence[Any]) -> bool:
    """True when ``job`` finished with this code and every model file it listed still exists."""
    try:
        files = json.loads(marker_path(cache_dir, job).read_text())["files"]
    except (OSError, ValueError, KeyError):
        return False
    return bool(files) and all(Path(f).exists() for f in files)
