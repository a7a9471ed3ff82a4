"""Rows of a dataset from local files in the hub's schema: ``<name>.json`` / ``.jsonl`` (JSON
lines or one JSON array), ``<name>.parquet``, or a ``<name>/`` folder (a ``save_to_disk``
dataset, or such files below it, e.g. the hub's parquet export ``<name>/train/0000.parquet``)."""
from __future__ import annotations

import json
import re
from pathlib import Path

from erasus_bench.errors import UserError

LOCAL_SUFFIXES = (".json", ".jsonl", ".parquet")
SPLIT_NAMES = ("train", "test", "validation", "dev", "auxiliary_train")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def is_hub_name(source: str) -> bool:
    """True when ``source`` (not an existing path) reads as a hub name (``owner/name``)."""
    return bool(_HUB_ID.match(source)) and not source.startswith((".", "~"))


def find_rows(folder: Path, name: str) -> Path | None:
    """The file or folder holding ``name``'s rows in ``folder``; None when there is none."""
    for suffix in LOCAL_SUFFIXES:
        if (folder / f"{name}{suffix}").is_file():
            return folder / f"{name}{suffix}"
    return folder / name if (folder / name).is_dir() else None


def read_rows(p: Path, name: str, split: str = "train") -> list[dict]:
    """The rows stored at ``p`` (found by ``find_rows`` for ``name``), or a UserError. A folder
    holding several splits (a ``DatasetDict``, or files under ``<split>/`` or named
    ``<split>-*``, as the hub's exports) gives ``split``'s rows."""
    if p.is_file():
        return _read_file(p)
    if (p / "dataset_info.json").exists() or (p / "state.json").exists() \
            or (p / "dataset_dict.json").exists():
        return _read_saved(p, name, split)
    files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix in LOCAL_SUFFIXES
                   and not f.name.startswith("."))
    if not files:
        raise UserError(f"folder {str(p)!r} holds neither a save_to_disk dataset nor "
                        f".json/.jsonl/.parquet files")
    splits = {f: _split_of(f.relative_to(p)) for f in files}
    named = {s for s in splits.values() if s}
    if len(named) > 1:
        if split not in named:
            raise UserError(f"folder {str(p)!r} for {name!r} holds splits "
                            f"{', '.join(sorted(named))} but not {split!r}")
        files = [f for f in files if splits[f] == split]
    return [row for f in files for row in _read_file(f)]


def _split_of(relative: Path) -> str | None:
    """The split a file under a dataset folder belongs to: a ``train``/``test``/... folder on
    its path or its name's first word (``test-00000-of-00001.parquet``), else None."""
    for part in (*relative.parts[:-1], relative.name.split("-")[0].split(".")[0]):
        if part in SPLIT_NAMES:
            return part
    return None


def _read_file(f: Path) -> list[dict]:
    if f.suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            rows = pq.read_table(f).to_pylist()
        except Exception as e:  # corrupt / not parquet
            raise UserError(f"cannot read parquet file {str(f)!r}: {short(e)}") from None
    else:
        rows = _read_json(f)
    bad = next((i for i, r in enumerate(rows) if not isinstance(r, dict)), None)
    if bad is not None:
        raise UserError(f"{str(f)!r}: row {bad + 1} is not a JSON object")
    return rows


def _read_json(f: Path) -> list:
    try:
        text = f.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"cannot read {str(f)!r}: {short(e)}") from None
    if text.lstrip().startswith("["):  # a JSON array instead of JSON-lines
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise UserError(f"{str(f)!r} is not valid JSON: {e}") from None
    rows = []
    for i, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise UserError(f"{str(f)!r} line {i} is not valid JSON ({e}); expected "
                                f"JSON-lines, one row object per line") from None
    return rows


def _read_saved(p: Path, name: str, split: str) -> list[dict]:
    import datasets

    try:
        ds = datasets.load_from_disk(str(p))
    except Exception as e:
        raise UserError(f"cannot load saved dataset {str(p)!r}: {short(e)}") from None
    if isinstance(ds, datasets.DatasetDict):
        if split in ds:
            ds = ds[split]
        elif len(ds) == 1:
            ds = next(iter(ds.values()))
        else:
            raise UserError(f"saved dataset {str(p)!r} for {name!r} has splits "
                            f"{', '.join(ds)}; it needs split {split!r}")
    return ds.to_list()


def short(e: Exception, limit: int = 300) -> str:
    """``e``'s message on one line, at most ``limit`` characters."""
    s = " ".join(str(e).split())
    return s if len(s) <= limit else s[: limit - 3] + "..."
