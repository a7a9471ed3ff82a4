"""erasus-bench: benchmark harness and leaderboard generator for machine unlearning."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

try:
    __version__ = version("erasus-bench")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"


def load_results(path: str | Path = "results") -> pd.DataFrame:
    """All run records under ``path`` as a tidy DataFrame: one row per (record, metric).
    Files that are not readable records are left out, each named in a warning."""
    import warnings

    from erasus_bench.harness.store import scan_records
    from erasus_bench.harness.tidy import records_to_frame

    records, bad = scan_records(path)
    for b in bad:
        warnings.warn(f"skipped {Path(path) / b.path}: {b.reason}", stacklevel=2)
    return records_to_frame(records)


__all__ = ["__version__", "load_results"]
