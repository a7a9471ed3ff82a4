"""The results store: one JSON record per cell, written atomically, read back as records or a
tidy DataFrame."""
from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from erasus_bench.errors import UserError
from erasus_bench.harness.spec import CellSpec

SCHEMA = "erasus-bench/record/1"
# a record's ``cost`` block (harness.cost counts them; contracts/record.md names them)
COST_FIELDS = ("examples", "optimizer_steps", "forward_passes", "backward_passes")


def record_path(results_dir: Path, spec: CellSpec) -> Path:
    """``results/<protocol>/<variant>/<readable key>__<hash>.json`` (metric-trust cells in
    ``<variant>/trust/``)."""
    folder = Path(results_dir) / spec.protocol / spec.variant
    return ((folder / "trust" if spec.trust else folder)
            / f"{spec.readable_key}__{spec.config_hash[:8]}.json")


def new_record(spec: CellSpec, provenance: dict[str, Any], command: str | None
               ) -> dict[str, Any]:
    """The fields every record of ``spec`` starts with (status ok, nothing measured yet, the
    environment); the writer adds metrics, timings, ``source`` and ``created``."""
    from erasus_bench.harness.env import environment

    return {"schema": SCHEMA, "protocol": spec.protocol, "config": spec.config(),
            "config_hash": spec.config_hash, "status": "ok", "error": None, "metrics": {},
            "per_example": {}, "timings": {}, "env": environment(), "provenance": provenance,
            "command": command}


def created_now() -> str:
    """A record's ``created`` stamp (UTC, seconds)."""
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write JSON to a temp file in the same folder, fsync, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.chmod(tmp, 0o644)  # mkstemp's 0600 would make shared records/tuned files unreadable
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


def satisfies(rec: dict[str, Any] | None, config_hash: str, attacks: Sequence[str]) -> bool:
    """True when ``rec`` is an ``ok`` record of ``config_hash`` that ran every stage of
    ``attacks``."""
    return (bool(rec) and rec.get("status") == "ok" and rec.get("config_hash") == config_hash
            and set(attacks) <= set(rec.get("config", {}).get("attacks", ())))


def is_done(results_dir: Path, spec: CellSpec) -> bool:
    """True when an ``ok`` record with this exact config hash that ran every attack stage the
    spec asks for exists."""
    return satisfies(read_record(record_path(results_dir, spec)), spec.config_hash,
                     spec.attacks)


REQUIRED_FIELDS = ("schema", "protocol", "config", "config_hash", "status", "metrics")
REQUIRED_CONFIG = ("strategy", "selector", "fraction", "seed", "hparams", "protocol_config")
STATUSES = ("ok", "failed")


@dataclass(frozen=True)
class BadRecord:
    """A file under the results folder that is not a readable record, and why."""

    path: str  # relative to the results folder
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class BadRecords(UserError):
    """Files under the results folder that are not readable records; nothing is rendered."""

    def __init__(self, bad: Sequence[BadRecord], results_dir: str | Path) -> None:
        self.bad = list(bad)
        lines = "\n".join(f"  {Path(results_dir) / b.path}: {b.reason}" for b in self.bad)
        super().__init__(f"{len(self.bad)} record(s) under {str(results_dir)!r} cannot be read:"
                         f"\n{lines}\nfix or delete them (`erasus-bench run` recomputes a "
                         "deleted cell), then render again")


def record_problem(rec: Any, rel_path: str) -> str | None:
    """Why ``rec`` (parsed from ``rel_path`` under the results folder) breaks the record
    contract (shared/contracts/record.md); None when it keeps it."""
    if not isinstance(rec, dict):
        return f"not a JSON object but {type(rec).__name__}"
    missing = [k for k in REQUIRED_FIELDS if k not in rec]
    config = rec.get("config")
    if isinstance(config, dict):
        missing += [f"config.{k}" for k in REQUIRED_CONFIG if k not in config]
    if missing:
        return f"missing contract field(s) {', '.join(missing)}"
    if rec["schema"] != SCHEMA:
        return f"schema {rec['schema']!r} is not {SCHEMA!r}"
    if not isinstance(config, dict):
        return "config is not a JSON object"
    if rec["status"] not in STATUSES:
        return f"status {rec['status']!r} is not one of {', '.join(STATUSES)}"
    if not isinstance(rec["metrics"], dict) or not all(
            v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
            for v in rec["metrics"].values()):
        return "metrics is not an object of plain numbers (or null)"
    folder = rel_path.split("/", 1)[0]
    if rec["protocol"] != folder:
        return f"protocol {rec['protocol']!r} but filed under {folder}/"
    return None


def scan_records(results_dir: str | Path, protocol: str | None = None
                 ) -> tuple[list[dict[str, Any]], list[BadRecord]]:
    """Every record under ``results_dir`` (optionally one protocol's folder), each with its
    ``path`` relative to ``results_dir``, sorted by path; and every ``*.json`` there that is
    not a valid record (unreadable, not JSON, breaking the contract), with the reason."""
    root = Path(results_dir)
    if not root.is_dir():
        raise UserError(f"results folder {str(root)!r} does not exist or is not a folder")
    base = root / protocol if protocol else root
    records, bad = [], []
    for p in sorted(base.glob("**/*.json")):
        rel = p.relative_to(root).as_posix()
        try:
            rec = json.loads(p.read_bytes())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            bad.append(BadRecord(rel, f"not readable as JSON ({e})"))
            continue
        if (problem := record_problem(rec, rel)) is not None:
            bad.append(BadRecord(rel, problem))
            continue
        rec["path"] = rel
        records.append(rec)
    return records, bad


def load_records(results_dir: str | Path, protocol: str | None = None) -> list[dict[str, Any]]:
    """The valid records of :func:`scan_records` (files that are not records are skipped)."""
    return scan_records(results_dir, protocol)[0]
