"""Run records -> a tidy pandas DataFrame (one row per record and metric)."""
from __future__ import annotations

from typing import Any

import pandas as pd

COLUMNS = ["protocol", "strategy", "selector", "fraction", "seed", "status", "metric",
           "value", "config_hash", "path", "per_example", "error"]


def records_to_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Long format: config columns (protocol options expanded, e.g. ``scenario``),
    ``metric``/``value``, and the record's per-example values.

    Failed records appear once with metric and value missing and their ``error`` set.
    """
    rows = []
    for r in records:
        c = r["config"]
        base = {"protocol": r["protocol"], **c.get("protocol_config", {}),
                "strategy": c["strategy"], "selector": c["selector"], "fraction": c["fraction"],
                "seed": c["seed"], "status": r["status"], "config_hash": r["config_hash"],
                "path": r["path"], "per_example": r.get("per_example") or {},
                "error": r.get("error")}
        metrics = r.get("metrics") or {}
        if not metrics:
            rows.append({**base, "metric": None, "value": None})
        for name, value in metrics.items():
            rows.append({**base, "metric": name, "value": value})
    extra = sorted({k for row in rows for k in row} - set(COLUMNS))
    return pd.DataFrame(rows, columns=COLUMNS[:1] + extra + COLUMNS[1:])
