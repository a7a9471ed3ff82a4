"""erasus-bench: benchmark harness and leaderboard generator for machine unlearning."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from torch import nn

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


def evaluate(protocol: str, model: nn.Module | str, *, label: str, base: str | None = None,
             gold: nn.Module | str | None = None, seed: int = 0,
             results_dir: str | Path | None = None, cache_dir: str | None = None,
             **options: Any) -> dict[str, Any]:
    """Score ``model`` (a module in the form of the protocol's model, a state dict file, or a
    Hugging Face folder / hub name) on ``protocol`` with its metric suite, against ``seed``'s
    data and reference models: the protocol's base model ``base`` (its ``model`` option, e.g.
    the model ``model`` was unlearned from), ``gold`` replacing its gold model; ``options`` are
    the other protocol options (e.g. ``dataset=...``). Returns the record (``metrics`` named as
    in ``erasus-bench list``), also written under ``results_dir`` when one is given."""
    from erasus_bench.harness.external import evaluate_checkpoint

    if base is not None:
        options["model"] = base
    return evaluate_checkpoint(protocol, model, label=label, gold=gold, seed=seed,
                               options=options, cache_dir=cache_dir, results_dir=results_dir)


__all__ = ["__version__", "evaluate", "load_results"]
