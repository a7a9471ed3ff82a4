"""The results store: one JSON record per cell, written atomically, read back as records or a
tidy DataFrame."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from erasus_bench.errors import UserError
from erasus_bench.harness.spec import CellSpec

SCHEMA = "erasus-bench/record/1"


def record_path(results_dir: Path, spec: CellSpec) -> Path:
    """``results/<protocol>/<variant>/<readable key>__<hash>.json``."""
    return (Path(results_dir) / spec.protocol / spec.variant
            / f"{spec.readable_key}__{spec.config_hash[:8]}.json")


def write_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write JSON to a temp file in the same folder, fsync, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_record(path: Path) -> dict[str, Any] | None:
    """The record at ``path``, or None when missing or unreadable (e.g. from an older crash)."""
    try:
        with open(path) as f:
            rec = json.load(f)
    except (OSError, json.JSONDecodeError):
        return None
    return rec if isinstance(rec, dict) else None


def is_done(results_dir: Path, spec: CellSpec) -> bool:
    """True when an ``ok`` record with this exact config hash exists."""
    rec = read_record(record_path(results_dir, spec))
    return bool(rec) and rec.get("status") == "ok" and rec.get("config_hash") == spec.config_hash


def load_records(results_dir: str | Path, protocol: str | None = None) -> list[dict[str, Any]]:
    """Every record under ``results_dir`` (optionally one protocol's), each with its ``path``
    relative to ``results_dir``, sorted by path."""
    root = Path(results_dir)
    if not root.is_dir():
        raise UserError(f"results folder {str(root)!r} does not exist or is not a folder")
    base = root / protocol if protocol else root
    out = []
    for p in sorted(base.glob("**/*.json")):
        rec = read_record(p)
        if rec is None or rec.get("schema") != SCHEMA:
            continue
        rec["path"] = p.relative_to(root).as_posix()
        out.append(rec)
    return out
