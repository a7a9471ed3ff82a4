"""Records -> one protocol's summary: the JSON every renderer (Markdown, HTML, plots, CSV) reads.

Pure and deterministic: the same records give the same summary, byte for byte once serialised,
on any machine: values are read at ``READ_BITS`` (wall-clock ones at ``CLOCK_BITS``) and every
float of the summary is rounded to ``SIG_DIGITS`` significant digits before anything sorts on it
(``harness.precision``).
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
from erasus_bench.harness.compare import ALPHA, pairwise_rule, rank_groups, separation_note
from erasus_bench.harness.precision import (CLOCK_BITS, LOG_FLOOR, RANK_BITS, READ_BITS,
                                            SIG_DIGITS, read_clock, read_value, round_floats)
from erasus_bench.harness.stats import mean_cis
from erasus_bench.harness.store import COST_FIELDS
from erasus_bench.leaderboards.attacks import (add_flags, relearn_samples, row_stages,
                                               stage_settings)
from erasus_bench.leaderboards.coreset import coreset_rule, coreset_verdicts
from erasus_bench.leaderboards.trust import trust_table
from erasus_bench.leaderboards.ordering import gold_means, quality_key
from erasus_bench.harness.verdict import verdict_rule, verdicts
from erasus_bench.metrics.catalogue import ATTACK_STAGE
from erasus_bench.metrics.spec import MetricSpec
from erasus_bench.protocols.card import protocol_card
from erasus_bench.registry import METRICS

SCHEMA = "erasus-bench/summary/1"
CONFIDENCE = 0.95
N_RESAMPLES = 10_000
BOOTSTRAP_SEED = 0
PROVENANCE_ORDER = ("data", "model", "benchmark", "note")


def metric_specs(protocol: str, records: Iterable[dict[str, Any]] = ()) -> list[MetricSpec]:
    """Registered metrics that apply to ``protocol`` or occur in ``records``, registry order;
    an attack stage's metrics only where a record ran the stage."""
    records = list(records)
    seen = {name for r in records for name in (r.get("metrics") or {})}
    stages = {s for r in records for s in (r.get("config") or {}).get("attacks") or ()}
    return [e.obj for e in METRICS.entries()
            if (protocol in e.applies_to or e.name in seen)
            and ATTACK_STAGE.get(e.name, "") in stages | {""}]


def summarise(records: Sequence[dict[str, Any]], protocol: str, *,
              specs: Sequence[MetricSpec] | None = None) -> dict[str, Any]:
    """The summary of ``protocol``'s records: one table per variant (protocol_config), one row
    per (strategy, selector, fraction, hparams), each metric as mean and 95% bootstrap CI over
    the seeds of its ``ok`` records; reference rows first, then by the primary metric. Every
    float is rounded to ``SIG_DIGITS`` significant digits."""
    recs = [r for r in records if r.get("protocol") == protocol]
    board = [r for r in recs if not r["config"].get("trust")]  # not the metric-trust cells
    specs = list(specs) if specs is not None else metric_specs(protocol, board)
    primary = next((s.name for s in specs if protocol in s.primary),
                   specs[0].name if specs else None)
    by_variant: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in recs:
        by_variant[_canonical(r["config"].get("protocol_config", {}))].append(r)
    names = {s.name for s in specs}
    margins = {k: v for k, v in equivalence_margins(protocol).items()
               if any(s.name == k and protocol in s.primary for s in specs)}
    utility, labels = protocol_display(protocol)
    variants = [_variant(by_variant[k], specs, primary, margins, labels)
                for k in sorted(by_variant)]
    return round_floats({
        "schema": SCHEMA,
        "protocol": protocol,
        "statistics": {"estimate": "mean over seeds", "interval": "bootstrap CI over seeds",
                       "confidence": CONFIDENCE, "n_resamples": N_RESAMPLES,
                       "seed": BOOTSTRAP_SEED,
                       "source": "scipy.stats.bootstrap (BCa) joined with the Student-t "
                                 "interval from 3 seeds; percentile at 2 seeds (n<3); exact "
                                 "bootstrap distribution (all n^n resamples) up to 5 seeds, "
                                 f"seeded Monte Carlo above; per-seed values read to "
                                 f"{READ_BITS} mantissa bits (wall-clock times to "
                                 f"multiples of 2^-{CLOCK_BITS} s), every number rounded to "
                                 f"{SIG_DIGITS} significant digits",
                       "alpha": ALPHA,
                       "pairwise_test": "Friedman / Nemenyi critical difference on per-seed "
                                        "ranks",
                       "multiple_testing": "Nemenyi (family-wise over all pairs)",
                       "equivalence_test": "TOST (t-tests)",
                       "equivalence_margins": margins},
        "pairwise_rule": pairwise_rule(ALPHA),
        "verdict_rule": verdict_rule(margins, ALPHA) if margins else None,
        "primary": primary,
        "utility": utility,
        "series_option": series_option(protocol),
        "published": published_reference(protocol),
        "metrics": [_column(s, protocol) for s in specs],
        "ignored_metrics": sorted({m for r in board for m in (r.get("metrics") or {})} - names),
        "variants": variants,
        "coreset_rule": coreset_rule(margins, ALPHA) if margins else None,
        "coreset_verdicts": [{"variant": v["id"], "label": v["label"],
                              "protocol_config": v["protocol_config"], **c}
                             for v in variants for c in v["coreset_verdicts"]],
        "attacks": stage_settings(recs),
        "provenance": _provenance(recs),
    })


def summary_to_json(summary: dict[str, Any]) -> str:
    """Stable JSON text of a summary (no NaN; trailing newline)."""
    return json.dumps(summary, indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def summary_to_csv(summary: dict[str, Any]) -> str:
    """Long-format CSV: one line per (variant, row, metric) with mean, lo, hi, n, method."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["protocol", "variant", "strategy", "selector", "fraction", "metric", "mean",
                "lo", "hi", "n", "method", "scale", "n_failed", "budget", "request"])
    for v in summary["variants"]:
        rows = [(row, None) for row in v["rows"]]
        rows += [({**q, **p}, f"{p['request']}/{q['requests']}")
                 for q in v.get("sequences", []) for p in q["points"]]
        for row, request in rows:
            for m in summary["metrics"]:
                c = row["cells"][m["name"]] or {}
                w.writerow([summary["protocol"], v["label"], row["strategy"], row["selector"],
                            row["fraction"], m["name"], c.get("mean"), c.get("lo"), c.get("hi"),
                            c.get("n", 0), c.get("method"), c.get("scale"),
                            row["n_failed"], row.get("budget"), request])
    return buf.getvalue()


def _row_key(config: dict[str, Any], *extra: Any) -> str:
    """What makes a row: strategy, selector, fraction, hyperparameters, budget regime (and
    ``extra``, e.g. a sequence's number of requests)."""
    return _canonical([config["strategy"], config.get("selector"), config.get("fraction"),
                       config.get("hparams", {}), config.get("budget"), *extra])


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def _column(s: MetricSpec, protocol: str) -> dict[str, Any]:
    return {"name": s.name, "display": s.display, "direction": s.direction, "arrow": s.arrow,
            "unit": s.unit, "primary": protocol in s.primary, "log_scale": s.log_scale,
            "range": list(s.range), "description": s.description}


def protocol_display(protocol: str) -> tuple[str | None, dict[str, str]]:
    """The protocol's utility metric (x of the tradeoff plot) and its reference-row labels
    (e.g. TOFU's "finetuned"/"retain"); (None, {}) for an unknown protocol."""
    card = protocol_card(protocol)
    return (card.utility_metric, dict(card.reference_labels)) if card else (None, {})


def series_option(protocol: str) -> str | None:
    """The protocol option whose tables pages draw as curves (None for most protocols)."""
    card = protocol_card(protocol)
    return card.series_option if card else None


def published_reference(protocol: str) -> str | None:
    """The published numbers the protocol's pages print (None when its card has none)."""
    card = protocol_card(protocol)
    return card.published if card else None


def equivalence_margins(protocol: str) -> dict[str, float]:
    """The protocol's TOST margins per primary metric ({} for an unknown protocol)."""
    card = protocol_card(protocol)
    return dict(card.equivalence_margins) if card else {}


def _variant(recs: list[dict[str, Any]], specs: Sequence[MetricSpec], primary: str | None,
             margins: dict[str, float] | None = None, labels: dict[str, str] | None = None
             ) -> dict[str, Any]:
    """One table: a protocol configuration, every budget regime's rows in it (a row is one
    strategy, selector, fraction, hyperparameters and budget regime), and its sequences of
    deletion requests (``sequences``, kept out of the table)."""
    config = recs[0]["config"].get("protocol_config", {})
    trust = trust_table([r for r in recs if r["config"].get("trust")], _display)
    recs = [r for r in recs if not r["config"].get("trust")]
    sequences = _sequences([r for r in recs if r["config"].get("request")], specs,
                           labels or {})
    recs_all, recs = recs, [r for r in recs if not r["config"].get("request")]
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in recs:
        c = r["config"]
        groups[_row_key(c)].append(r)
    rows = [_row(g, labels or {}) for g in groups.values()]
    _add_no_op(rows, list(groups.values()))
    _add_cells(rows, list(groups.values()), specs)
    per_seed = [_per_seed(g, specs) for g in groups.values()]
    _add_ranks(rows, per_seed, specs)
    _add_verdicts(rows, per_seed, specs, margins or {})
    add_flags(rows)
    relearn = _relearn_curves(list(groups.values()), rows)
    gi = _gold_index(rows)
    coreset = coreset_verdicts(rows, per_seed, specs, margins or {},
                               per_seed[gi] if gi is not None else None)
    prov = _provenance(recs_all)
    return {"id": stable_hash(config, 8),
            "label": ", ".join(f"{k}={v}" for k, v in sorted(config.items())),
            "protocol_config": config,
            "rows": _sorted_rows(rows, specs, primary),
            "source": "; ".join(v for k in ("data", "model", "benchmark")
                                for v in prov["sources"].get(k, [])),
            "data_is_default": prov["data_is_default"],
            "hparams_sources": _sources(recs_all),
            "pairwise_rule": pairwise_rule(ALPHA),
            "rank_separation": _separation(rows, primary),
            "verdict_rule": verdict_rule(margins, ALPHA) if margins else None,
            "coreset_verdicts": coreset,
            "relearn": relearn,
            "trust": trust,
            "sequences": sequences}


def _display(metric: str) -> str:
    """A metric's display name (the attack metric of the trust table by its role)."""
    if metric == "forget_likelihood":
        return "Forget likelihood (attack metric)"
    return METRICS.entry(metric).obj.display if metric in METRICS else metric


def _relearn_curves(groups: list[list[dict[str, Any]]], rows: list[dict[str, Any]]
                    ) -> dict[str, Any] | None:
    """The variant's relearning curves (``leaderboards.attacks.relearn_samples``) with every
    point's mean and 95% CI over seeds: ``{"metric", "steps", "lines": [{row identity,
    "points": {step: cell}}], "original": {step: cell}}``; None without them."""
    curve, samples = relearn_samples(groups, rows)
    if curve is None:
        return None
    cis = mean_cis([v for _, _, v in samples], confidence=CONFIDENCE, n_resamples=N_RESAMPLES,
                   seed=BOOTSTRAP_SEED, bounds=[(0.0, 1.0)] * len(samples))
    for (line, step, _), ci in zip(samples, cis):
        target = curve["original"] if line == "original" else curve["lines"][line].setdefault(
            "points", {})
        target[str(step)] = round_floats(ci)
    return curve


def _sequences(recs: list[dict[str, Any]], specs: Sequence[MetricSpec],
               labels: dict[str, str]) -> list[dict[str, Any]]:
    """Sequences of deletion requests: one per (strategy, selector, fraction, hyperparameters,
    budget, number of requests), reference rows first; each with one point per request:
    every metric's mean and 95% CI over the seeds of its ``ok`` records, and the records."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in recs:
        c = r["config"]
        groups[_row_key(c, c.get("requests"))].append(r)
    out = []
    for g in groups.values():
        by_request: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for r in g:
            by_request[int(r["config"]["request"])].append(r)
        order = sorted(by_request)
        points = [_row(by_request[j], labels) for j in order]
        _add_cells(points, [by_request[j] for j in order], specs)
        first = points[0]
        out.append({**{k: first[k] for k in ("strategy", "display", "selector", "budget",
                                              "fraction", "hparams", "reference")},
                    "requests": g[0]["config"].get("requests"),
                    "points": [{"request": j, **{k: p[k] for k in ("seeds", "n_failed",
                                                                   "records", "cells")}}
                               for j, p in zip(order, points)]})

    def key(q: dict[str, Any]) -> tuple[Any, ...]:
        ref = REFERENCE_ROWS.index(q["strategy"]) if q["reference"] else len(REFERENCE_ROWS)
        return (ref, q["strategy"], q["selector"] or "", q["fraction"] or 0.0,
                q["budget"] or "", _canonical(q["hparams"]), q["requests"] or 0)

    return sorted(out, key=key)


def _separation(rows: list[dict[str, Any]], primary: str | None) -> str | None:
    """What this table's seeds can separate on the primary metric (None without ranks)."""
    ranked = [r["ranks"][primary] for r in rows
              if r["ranks"].get(primary, {}).get("seeds") is not None]
    return separation_note(len(ranked), ranked[0]["seeds"], ALPHA) if ranked else None


# measured on a clock, not computed: read on a fixed grid (``precision.read_clock``)
WALL_CLOCK = ("unlearn_time", "speedup")


def _read(metric: str, value: float) -> float:
    """A per-seed value as the statistics read it (``WALL_CLOCK`` metrics on the clock grid)."""
    return read_clock(value) if metric in WALL_CLOCK else read_value(value)


def _per_seed(recs: list[dict[str, Any]], specs: Sequence[MetricSpec]
              ) -> dict[str, dict[Any, float]]:
    """Metric -> {seed: value} over the ``ok`` records (log10 for p-value metrics)."""
    out: dict[str, dict[Any, float]] = {}
    for s in specs:
        vals: dict[Any, float] = {}
        for r in recs:
            v = (r.get("metrics") or {}).get(s.name)
            if r.get("status") == "ok" and _finite(v):
                v = _read(s.name, v)
                vals[r["config"].get("seed")] = (math.log10(max(v, LOG_FLOOR)) if s.log_scale
                                                 else v)
        out[s.name] = vals
    return out


def _gold_index(rows: list[dict[str, Any]]) -> int | None:
    return next((i for i, r in enumerate(rows) if r["strategy"] == "retrain"), None)


def _add_ranks(rows: list[dict[str, Any]], per_seed: list[dict[str, dict[Any, float]]],
               specs: Sequence[MetricSpec]) -> None:
    """``row["ranks"][metric]``: rank group of every non-reference row (see harness.compare)."""
    gi = _gold_index(rows)
    for row in rows:
        row["ranks"] = {}
    for s in specs:
        gold = per_seed[gi][s.name] if gi is not None else {}
        scores: dict[int, dict[Any, float]] = {}
        for i, row in enumerate(rows):
            if row["reference"]:
                continue
            vals = per_seed[i][s.name]
            if s.direction == "lower":
                score = dict(vals)
            elif s.direction == "higher":
                score = {k: -v for k, v in vals.items()}
            else:
                score = {k: abs(v - gold[k]) for k, v in vals.items() if k in gold}
            scores[i] = {k: read_value(v, RANK_BITS) for k, v in score.items()}
        for i, rank in rank_groups(scores, alpha=ALPHA).items():
            rows[i]["ranks"][s.name] = rank


def _add_verdicts(rows: list[dict[str, Any]], per_seed: list[dict[str, dict[Any, float]]],
                  specs: Sequence[MetricSpec], margins: dict[str, float]) -> None:
    """``row["verdict"]``: PASS / PARTIAL / FAIL against the retrain row (harness.verdict);
    None without margins, without a retrain row, or for a row with no value at all."""
    gi = _gold_index(rows)
    directions = {s.name: s.direction for s in specs}
    judged, diffs = [], []
    for i, row in enumerate(rows):
        row["verdict"] = None
        if not margins or gi is None or not any(per_seed[i][m] for m in margins):
            continue
        gold = per_seed[gi]
        judged.append(row)
        diffs.append({m: [per_seed[i][m][k] - gold[m][k]
                          for k in sorted(per_seed[i][m], key=str) if k in gold[m]]
                      for m in margins})
    for row, v in zip(judged, verdicts(diffs, margins, directions, ALPHA) if judged else []):
        row["verdict"] = v


def _row(recs: list[dict[str, Any]], labels: dict[str, str]) -> dict[str, Any]:
    recs = _by_seed(recs)
    c = recs[0]["config"]
    ok = [r for r in recs if r.get("status") == "ok"]
    return {"strategy": c["strategy"], "display": labels.get(c["strategy"], c["strategy"]),
            "selector": c.get("selector"), "budget": c.get("budget"),
            "fraction": c.get("fraction"), "hparams": c.get("hparams", {}),
            "hparams_source": c.get("hparams_source"), "cost": _cost(ok),
            "reference": c["strategy"] in REFERENCE_ROWS,
            "attacks": row_stages(recs),
            "seeds": [r["config"].get("seed") for r in ok],
            "n_failed": len(recs) - len(ok),
            "records": [{"path": r["path"], "seed": r["config"].get("seed"),
                         "status": r.get("status"), "error": r.get("error")} for r in recs],
            "cells": {}}


def _cost(ok: list[dict[str, Any]]) -> dict[str, float] | None:
    """Mean compute over the ok records that counted it (``harness.cost``), or None."""
    counted = [r["cost"] for r in ok if isinstance(r.get("cost"), dict) and r["cost"]]
    if not counted:
        return None
    return {k: sum(c.get(k, 0) for c in counted) / len(counted) for k in COST_FIELDS}


def _sources(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The distinct ``hparams_source`` blocks of a variant's method records, with the
    strategies each covers; records without one are listed as ``{"source": "untuned"}``."""
    found: dict[str, dict[str, Any]] = {}
    for r in recs:
        c = r["config"]
        if c["strategy"] in REFERENCE_ROWS:
            continue
        src = c.get("hparams_source") or {"source": "untuned"}
        entry = found.setdefault(_canonical(src), {**src, "strategies": set()})
        entry["strategies"].add(c["strategy"])
    return [{**v, "strategies": sorted(v["strategies"])} for _, v in sorted(found.items())]


NO_OP_IGNORED = WALL_CLOCK  # differ between runs of the same model


def _add_no_op(rows: list[dict[str, Any]], groups: list[list[dict[str, Any]]]) -> None:
    """``row["no_op"]``: every ok record of the row left the model as the original (recorded
    ``model_changed: false``) or has the original's metrics on its seed."""
    original = next((g for row, g in zip(rows, groups) if row["strategy"] == "original"), [])
    ref = {r["config"].get("seed"): r.get("metrics") or {} for r in original
           if r.get("status") == "ok"}

    def same_as_original(r: dict[str, Any]) -> bool:
        if r.get("model_changed") is False:
            return True
        m, o = r.get("metrics") or {}, ref.get(r["config"].get("seed"))
        keys = [k for k in m if k not in NO_OP_IGNORED]
        return o is not None and bool(keys) and all(
            _finite(m[k]) and _finite(o.get(k)) and read_value(m[k]) == read_value(o[k])
            or m[k] == o.get(k) for k in keys)

    for row, g in zip(rows, groups):
        ok = [r for r in g if r.get("status") == "ok"]
        row["no_op"] = bool(ok) and not row["reference"] and all(map(same_as_original, ok))


def _by_seed(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(recs, key=lambda r: (r["config"].get("seed", 0), r["path"]))


def _add_cells(rows: list[dict[str, Any]], groups: list[list[dict[str, Any]]],
               specs: Sequence[MetricSpec]) -> None:
    """``row["cells"][metric]``: mean and 95% CI over the row's ``ok`` records (None without
    a value), every interval of the variant from one batched bootstrap, rounded for pages."""
    wanted: list[tuple[dict[str, Any], MetricSpec, list[float]]] = []
    for row, recs in zip(rows, groups):
        ok = [r for r in _by_seed(recs) if r.get("status") == "ok"]
        for s in specs:
            vals = [_read(s.name, v) for r in ok
                    if _finite(v := (r.get("metrics") or {}).get(s.name))]
            row["cells"][s.name] = None
            if vals:
                wanted.append((row, s, vals))
    cis = mean_cis([vals for _, _, vals in wanted], confidence=CONFIDENCE,
                   n_resamples=N_RESAMPLES, seed=BOOTSTRAP_SEED,
                   log_scale=[s.log_scale for _, s, _ in wanted],
                   bounds=[tuple(s.range) for _, s, _ in wanted])
    for (row, s, _), ci in zip(wanted, cis):
        row["cells"][s.name] = round_floats(ci)


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
