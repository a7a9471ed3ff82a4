"""How rows compare on a metric: its best-first sort key and the gold (retrain) row's means."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from erasus_bench.harness.precision import round_sig


def gold_means(rows: Iterable[dict[str, Any]]) -> dict[str, float]:
    """Metric -> mean of the retrain (gold) row, the target of ``match_gold`` metrics."""
    gold = next((r for r in rows if r["strategy"] == "retrain"), None)
    return {k: c["mean"] for k, c in (gold["cells"] if gold else {}).items() if c}


def quality_key(mean: float, direction: str, gold: float | None) -> float | None:
    """Ascending-is-better sort key: ``mean`` (lower), ``-mean`` (higher), ``|mean - gold|``
    (match_gold; None without a gold value); rounded to ``SIG_DIGITS`` so that equal distances
    compare equal whatever the binary rounding of the subtraction."""
    if direction == "lower":
        return mean
    if direction == "higher":
        return -mean
    return round_sig(abs(mean - gold)) if gold is not None else None
