"""Summaries as self-contained HTML (inline CSS and JS, no network): one page per protocol and
an index with one card per protocol. Sorting and filtering are a few lines of vanilla JS over
plain tables, so the pages work from file:// and read fine with JS off."""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from erasus_bench.harness.precision import LOG_FLOOR, fmt_sig
from erasus_bench.leaderboards import text as tx
from erasus_bench.leaderboards.markdown import LEGEND, RELEARN_TEXT, REQUESTS_TEXT, series_text
from erasus_bench.leaderboards.ordering import gold_means, quality_key

TEMPLATES = Path(__file__).parent / "templates"


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                              undefined=jinja2.StrictUndefined)


def render_html(summary: dict[str, Any], *, record_base: str, files: dict[str, str],
                plots: dict[str, Any] | None = None) -> str:
    """The protocol page. ``record_base`` prefixes record paths in links; ``files`` names the
    siblings it links to: ``json``, ``csv``, ``md`` and (optional) ``plot`` (the tradeoff SVG);
    ``plots``: ``{"tradeoff": svg text or None, "ablations": [{"label", "strategy", "swept",
    "svg", "sentence", "command"}], "requests" / "series": [{"label", "svg", "tables"}]}``,
    embedded inline."""
    rows = [r for v in summary["variants"] for r in v["rows"] if not r["reference"]]
    filters = {key: sorted({tx.row_label(r)[i] for r in rows})
               for i, key in enumerate(("strategy", "selector", "fraction"))}
    return _env().get_template("page.html.j2").render(
        protocol=summary["protocol"], warning=tx.default_data_warning(summary),
        provenance=tx.provenance_items(summary), legend=LEGEND, files=files, filters=filters,
        tables=[_table(summary, v, record_base) for v in summary["variants"]],
        rules=tx.rules(summary),
        plots={"tradeoff": None, "ablations": [], "requests": [], "series": [], "relearn": [],
               **(plots or {})},
        requests_text=REQUESTS_TEXT, relearn_text=RELEARN_TEXT,
        relearns=(tx.RELEARNS, tx.RELEARNS_TITLE),
        series_text=series_text(summary.get("series_option") or ""),
        compute_title=tx.COMPUTE_TITLE,
        trust=[{"label": v["label"], "text": v["trust"]["text"], "rows": tx.trust_rows(v),
                "pool": v["trust"].get("pool") or ""}
               for v in summary["variants"] if v.get("trust")],
        coreset={"rule": summary.get("coreset_rule") or "",
                 "rows": [{"table": v["label"], **r} for v in summary["variants"]
                          for r in tx.coreset_rows(v)]})


def render_index(summaries: Sequence[dict[str, Any]], *, top: int = 3) -> str:
    """The index: one card per protocol with, per variant, its leader (the best non-reference
    row on the primary metric) and next ``top - 1`` rows, the number of methods, seeds, data and
    model provenance and the last run date."""
    cards = []
    for s in summaries:
        primary = next((m for m in s["metrics"] if m["name"] == s["primary"]), None)
        variants = []
        for v in s["variants"]:
            methods = [r for r in v["rows"] if not r["reference"]]
            ranked = [r for r in methods if r["cells"].get(s["primary"])]
            variants.append({
                "label": v["label"], "id": v["id"], "n_methods": len(methods),
                "leader": _index_row(ranked[0], s["primary"]) if ranked else None,
                "top": [_index_row(r, s["primary"]) for r in ranked[1:top]]})
        prov = s["provenance"]
        cards.append({
            "protocol": s["protocol"], "warning": tx.default_data_warning(s),
            "primary": tx.header(primary) if primary else None, "provenance": prov,
            "sources": [(k.capitalize(), "; ".join(v)) for k, v in prov["sources"].items()
                        if k in ("data", "model")],
            "default_data": prov.get("data_is_default"), "variants": variants,
            "answer": tx.coreset_answer(s),
        })
    return _env().get_template("index.html.j2").render(cards=cards)


def _index_row(row: dict[str, Any], primary: str) -> dict[str, Any]:
    return {"label": " / ".join(tx.row_label(row)),
            "cell": tx.fmt_cell(row["cells"].get(primary), row),
            "rank": tx.rank_label(row, primary), "verdict": tx.verdict_of(row)}


def _table(summary: dict[str, Any], variant: dict[str, Any], record_base: str
           ) -> dict[str, Any]:
    metrics = tx.table_metrics(summary, variant)
    rows = variant["rows"]
    gold = gold_means(rows)
    columns = [(m, _position(m, [r["cells"][m["name"]] for r in rows]), gold.get(m["name"]))
               for m in metrics]
    primary = summary["primary"]
    out_rows = []
    for r in rows:
        strategy, selector, fraction = tx.row_label(r)
        out_rows.append({
            "reference": r["reference"], "strategy": strategy, "selector": selector,
            "fraction": fraction, "fraction_key": _num(r["fraction"]), "seeds": len(r["seeds"]),
            "hparams": ", ".join(f"{k}={v}" for k, v in sorted(r["hparams"].items())),
            "cells": [_cell(r, m, pos, g) for m, pos, g in columns],
            "no_op": bool(r.get("no_op")), "compute": tx.cost_text(r),
            "compute_key": _num((r.get("cost") or {}).get("forward_passes")),
            "n_failed": r["n_failed"], "failed": tx.failures_text(r),
            "errors": tx.errors_text(r),
            "links": tx.record_links(r, record_base),
            "rank": tx.rank_label(r, primary), "rank_key": _num(tx.rank_key(r, primary)),
            "verdict": tx.verdict_of(r), "relearns": "relearns" in r.get("flags", ()),
        })
    return {
        "id": variant["id"], "label": variant["label"],
        "headers": [{"text": tx.header(m), "primary": m["name"] == summary["primary"],
                     "title": f"{m['description']}; {_direction_text(m)}; sorts best first"}
                    for m in metrics],
        "has_rank": any(r["rank"] for r in out_rows),
        "has_verdict": any(r["verdict"] for r in out_rows),
        "rules": [r for r in tx.rules(summary, variant) if r not in tx.rules(summary)],
        "reference": [r for r in out_rows if r["reference"]],
        "rows": [r for r in out_rows if not r["reference"]],
    }


def _cell(row: dict[str, Any], metric: dict[str, Any], pos: Callable[[float], float] | None,
          gold: float | None) -> dict[str, Any]:
    """A metric cell: text, direction-aware sort key, and the CI bar's geometry (percent)."""
    c = row["cells"][metric["name"]]
    if c is None:
        return {"missing": tx.fmt_cell(c, row, metric["name"]), "key": ""}
    bar = None
    if pos is not None:
        lo, hi = (c["mean"], c["mean"]) if c["lo"] is None else (c["lo"], c["hi"])
        bar = {"left": f"{pos(lo):.1f}", "width": f"{pos(hi) - pos(lo):.1f}",
               "mean": f"{pos(c['mean']):.1f}"}
    mean, interval = tx.cell_parts(c)
    flag = tx.small_n(c)
    scale = ", geometric mean (log10 scale)" if c["scale"] == "log10" else ""
    return {"missing": None, "mean": mean, "interval": interval, "bar": bar, "flag": flag,
            "key": _num(quality_key(c["mean"], metric["direction"], gold)),
            "title": f"n={c['n']}, {c.get('method', '')}{scale}"}


def _position(metric: dict[str, Any], cells: list[dict[str, Any] | None]
              ) -> Callable[[float], float] | None:
    """Map values onto 0..100 across the column's span (log10 for log-scale metrics)."""
    f: Callable[[float], float] = ((lambda v: math.log10(max(v, LOG_FLOOR)))
                                   if metric["log_scale"] else float)
    vals = [f(v) for c in cells if c for v in (c["mean"], c["lo"], c["hi"]) if v is not None]
    if not vals or max(vals) <= min(vals):
        return None
    a, b = min(vals), max(vals)
    return lambda v: 100 * (f(v) - a) / (b - a)


def _num(v: float | None) -> str:
    return "" if v is None else fmt_sig(v)


def _direction_text(m: dict[str, Any]) -> str:
    return {"higher": "higher is better", "lower": "lower is better",
            "match_gold": "closer to the retrained (gold) model is better"}[m["direction"]]
