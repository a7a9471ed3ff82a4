"""Records -> one protocol's summary: the JSON every renderer (Markdown, HTML, plots, CSV) reads.

Pure and deterministic: the same records give the same summary, byte for byte once serialised.
"""
from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from erasus_bench.harness.spec import REFERENCE_ROWS, stable_hash
from erasus_bench.harness.stats import mean_ci
from erasus_bench.metrics.spec import MetricSpec
from erasus_bench.registry import METRICS

SCHEMA = "erasus-bench/summary/1"
CONFIDENCE = 0.95
N_RESAMPLES = 10_000
BOOTSTRAP_SEED = 0
PROVENANCE_ORDER = ("data", "model", "benchmark", "note")


def metric_specs(protocol: str, records: Iterable[dict[str, Any]] = ()) -> list[MetricSpec]:
    """Registered metrics that apply to ``protocol`` or occur in ``records``, registry order."""
    seen = {name for r in records for name in (r.get("metrics") or {})}
    return [e.obj for e in METRICS.entries() if protocol in e.applies_to or e.name in seen]


def summarise(records: Sequence[dict[str, Any]], protocol: str, *,
              specs: Sequence[MetricSpec] | None = None) -> dict[str, Any]:
    """The summary of ``protocol``'s records: one table per variant (protocol_config), one row
    per (strategy, selector, fraction, hparams), each metric as mean and 95% bootstrap CI over
    the seeds of its ``ok`` records; reference rows first, then by the primary metric."""
    recs = [r for r in records if r.get("protocol") == protocol]
    specs = list(specs) if specs is not None else metric_specs(protocol, recs)
    primary = next((s.name for s in specs if s.primary), specs[0].name if specs else None)
    by_variant: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in recs:
        by_variant[_canonical(r["config"].get("protocol_config", {}))].append(r)
    names = {s.name for s in specs}
    return {
        "schema": SCHEMA,
        "protocol": protocol,
        "statistics": {"estimate": "mean over seeds", "interval": "bootstrap CI over seeds",
                       "confidence": CONFIDENCE, "n_resamples": N_RESAMPLES,
                       "seed": BOOTSTRAP_SEED, "source": "scipy.stats.bootstrap (BCa)"},
        "primary": primary,
        "metrics": [_column(s) for s in specs],
        "ignored_metrics": sorted({m for r in recs for m in (r.get("metrics") or {})} - names),
        "variants": [_variant(by_variant[k], specs, primary) for k in sorted(by_variant)],
        "provenance": _provenance(recs),
    }


def summary_to_json(summary: dict[str, Any]) -> str:
    """Stable JSON text of a summary (no NaN; trailing newline)."""
    return json.dumps(summary, indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def summary_to_csv(summary: dict[str, Any]) -> str:
    """Long-format CSV: one line per (variant, row, metric) with mean, lo, hi, n, method."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["protocol", "variant", "strategy", "selector", "fraction", "metric", "mean",
                "lo", "hi", "n", "method", "scale", "n_failed"])
    for v in summary["variants"]:
        for row in v["rows"]:
            for m in summary["metrics"]:
                c = row["cells"][m["name"]] or {}
                w.writerow([summary["protocol"], v["label"], row["strategy"], row["selector"],
                            row["fraction"], m["name"], c.get("mean"), c.get("lo"), c.get("hi"),
                            c.get("n", 0), c.get("method"), c.get("scale"),
                            row["n_failed"]])
    return buf.getvalue()


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def _column(s: MetricSpec) -> dict[str, Any]:
    return {"name": s.name, "display": s.display, "direction": s.direction, "arrow": s.arrow,
            "unit": s.unit, "primary": s.primary, "log_scale": s.log_scale,
            "range": list(s.range), "description": s.description}


def _variant(recs: list[dict[str, Any]], specs: Sequence[MetricSpec], primary: str | None
             ) -> dict[str, Any]:
    config = recs[0]["config"].get("protocol_config", {})
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in recs:
        c = r["config"]
        groups[_canonical([c["strategy"], c.get("selector"), c.get("fraction"),
                           c.get("hparams", {})])].append(r)
    rows = [_row(g, specs) for g in groups.values()]
    return {"id": stable_hash(config, 8), "label": ", ".join(f"{k}={v}" for k, v in
                                                            sorted(config.items())),
            "protocol_config": config, "rows": _sorted_rows(rows, specs, primary)}


def _row(recs: list[dict[str, Any]], specs: Sequence[MetricSpec]) -> dict[str, Any]:
    recs = sorted(recs, key=lambda r: (r["config"].get("seed", 0), r["path"]))
    c = recs[0]["config"]
    ok = [r for r in recs if r.get("status") == "ok"]
    cells: dict[str, Any] = {}
    for s in specs:
        vals = [v for r in ok if _finite(v := (r.get("metrics") or {}).get(s.name))]
        cells[s.name] = (mean_ci(vals, confidence=CONFIDENCE, n_resamples=N_RESAMPLES,
                                 seed=BOOTSTRAP_SEED, log_scale=s.log_scale) if vals else None)
    return {"strategy": c["strategy"], "selector": c.get("selector"),
            "fraction": c.get("fraction"), "hparams": c.get("hparams", {}),
            "reference": c["strategy"] in REFERENCE_ROWS,
            "seeds": [r["config"].get("seed") for r in ok],
            "n_failed": len(recs) - len(ok),
            "records": [{"path": r["path"], "seed": r["config"].get("seed"),
                         "status": r.get("status"), "error": r.get("error")} for r in recs],
            "cells": cells}


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _sorted_rows(rows: list[dict[str, Any]], specs: Sequence[MetricSpec], primary: str | None
                 ) -> list[dict[str, Any]]:
    """Reference rows first (original, retrain); the rest best-first on the primary metric
    (``match_gold``: distance to the retrain row's mean), rows without a value last."""
    spec = next((s for s in specs if s.name == primary), None)
    gold = gold_means(rows)

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        ident = (row["strategy"], row["selector"] or "", row["fraction"] or 0.0,
                 _canonical(row["hparams"]))
        if row["reference"]:
            return (0, REFERENCE_ROWS.index(row["strategy"]), 0.0, *ident)
        cell = row["cells"].get(primary) if spec else None
        score = quality_key(cell["mean"], spec.direction, gold.get(spec.name)) if cell else None
        return (1, 0 if score is not None else 1, score or 0.0, *ident)

    return sorted(rows, key=key)


def gold_means(rows: Iterable[dict[str, Any]]) -> dict[str, float]:
    """Metric -> mean of the retrain (gold) row, the target of ``match_gold`` metrics."""
    gold = next((r for r in rows if r["strategy"] == "retrain"), None)
    return {k: c["mean"] for k, c in (gold["cells"] if gold else {}).items() if c}


def quality_key(mean: float, direction: str, gold: float | None) -> float | None:
    """Ascending-is-better sort key: ``mean`` (lower), ``-mean`` (higher), ``|mean - gold|``
    (match_gold; None without a gold value)."""
    if direction == "lower":
        return mean
    if direction == "higher":
        return -mean
    return abs(mean - gold) if gold is not None else None


def _provenance(recs: list[dict[str, Any]]) -> dict[str, Any]:
    prov: dict[str, set[str]] = defaultdict(set)
    env: dict[str, set[str]] = defaultdict(set)
    for r in recs:
        for k, v in (r.get("provenance") or {}).items():
            if k != "data_is_default" and v is not None:
                prov[k].add(str(v))
        for k, v in (r.get("env") or {}).items():
            if v is not None and not isinstance(v, (dict, list)):
                env[k].add(str(v))
    order = [k for k in PROVENANCE_ORDER if k in prov] + sorted(set(prov) - set(PROVENANCE_ORDER))
    return {
        "sources": {k: sorted(prov[k]) for k in order},
        "data_is_default": any((r.get("provenance") or {}).get("data_is_default") for r in recs),
        "seeds": sorted({r["config"]["seed"] for r in recs if "seed" in r["config"]}),
        "commands": sorted({r["command"] for r in recs if r.get("command")}),
        "git_commits": sorted(env.pop("git_commit", set())),
        "env": {k: sorted(env[k]) for k in sorted(env)},
        "date": max((r["created"] for r in recs if r.get("created")), default=None),
        "n_records": len(recs),
        "n_failed": sum(r.get("status") != "ok" for r in recs),
    }
