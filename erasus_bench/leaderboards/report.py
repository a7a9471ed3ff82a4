"""``erasus-bench report``: one protocol's leaderboard on stdout, as a rich table (rank groups,
verdicts) or as CSV, JSON or Markdown, summarised from the records like the pages."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

from erasus_bench.errors import UserError
from erasus_bench.leaderboards import text as tx

FORMATS = ("table", "csv", "json", "md")
VERDICT_STYLE = {"PASS": "bold green", "PARTIAL": "bold yellow", "FAIL": "bold red"}


def load_summary(protocol: str, results_dir: str | Path) -> dict[str, Any]:
    """The summary of ``protocol``'s records under ``results_dir``; UserError (exit 2) for an
    unknown protocol, a missing folder or no records; BadRecords (exit 1) naming any record
    of the protocol that cannot be read."""
    from erasus_bench.harness.store import BadRecords, scan_records
    from erasus_bench.leaderboards.summarise import summarise
    from erasus_bench.registry import PROTOCOLS

    PROTOCOLS.entry(protocol)  # unknown -> UserError with the valid choices
    root = Path(results_dir)
    if not root.is_dir():
        raise UserError(f"results folder {str(results_dir)!r} does not exist or is not a folder")
    records, bad = scan_records(root, protocol) if (root / protocol).is_dir() else ([], [])
    if bad:
        raise BadRecords(bad, root)
    if not records:
        present = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name[0] != ".")
        raise UserError(f"no records for protocol {protocol!r} under {str(results_dir)!r}; "
                        f"present: {', '.join(present) or 'none'}")
    return summarise(records, protocol)


def report_json(summary: dict[str, Any]) -> dict[str, Any]:
    """The table as JSON: per variant its rules and rows; per row rank, verdict and one
    ``{"mean", "lo", "hi", "n", "method", "scale"}`` dict per metric (lo/hi null for n=1)."""
    primary = summary["primary"]
    variants = []
    for v in summary["variants"]:
        rows = []
        for r in v["rows"]:
            verdict = tx.verdict_of(r)
            rows.append({
                "strategy": r["strategy"], "selector": r["selector"], "fraction": r["fraction"],
                "hparams": r["hparams"], "reference": r["reference"], "seeds": r["seeds"],
                "n_failed": r["n_failed"], "rank": tx.rank_label(r, primary),
                "verdict": ({"label": verdict["label"], "reason": verdict["reason"]}
                            if verdict else None),
                "cells": {m["name"]: _cell(r["cells"].get(m["name"]))
                          for m in summary["metrics"]},
                "records": [x["path"] for x in r["records"]]})
        variants.append({"id": v["id"], "label": v["label"],
                         "protocol_config": v["protocol_config"],
                         "rules": dict(tx.rules(summary, v)), "rows": rows})
    return {"protocol": summary["protocol"], "primary": primary,
            "metrics": [{k: m[k] for k in ("name", "display", "direction", "unit", "log_scale")}
                        for m in summary["metrics"]],
            "statistics": summary["statistics"], "provenance": summary["provenance"],
            "variants": variants}


def _cell(c: dict[str, Any] | None) -> dict[str, Any] | None:
    if c is None:
        return None
    out = {k: c.get(k) for k in ("mean", "lo", "hi", "n", "method", "scale")}
    if flag := tx.small_n(c):
        out["flag"] = flag
    return out


def _two_lines(c: dict[str, Any] | None, row: dict[str, Any]) -> str:
    if c is None:
        return tx.fmt_cell(c, row)
    mean, interval = tx.cell_parts(c)
    flag = tx.small_n(c)
    return f"{mean}\n{interval}" + (f" {flag}" if flag else "")


def report_text(protocol: str, results_dir: str | Path, fmt: str) -> str:
    """The report in ``fmt`` (csv, json or md) as text; ``table`` is printed by
    :func:`print_table` instead."""
    from erasus_bench.leaderboards.markdown import render_markdown
    from erasus_bench.leaderboards.summarise import summary_to_csv

    summary = load_summary(protocol, results_dir)
    if fmt == "json":
        return json.dumps(report_json(summary), indent=1, ensure_ascii=False,
                          allow_nan=False) + "\n"
    if fmt == "csv":
        return summary_to_csv(summary)
    if fmt == "md":
        return render_markdown(summary, record_base=Path(results_dir).as_posix())
    raise UserError(f"unknown format {fmt!r}; valid choices: {', '.join(FORMATS)}")


def print_table(protocol: str, results_dir: str | Path) -> None:
    """One rich table per variant: rank group, strategy, selector, fraction, seeds, every
    metric as mean [lo, hi], verdict; reference rows first; rules and provenance below."""
    from rich.console import Console
    from rich.table import Table

    summary = load_summary(protocol, results_dir)
    # piped: wide enough that no column is squeezed (each metric cell holds "mean [lo, hi]")
    wide = 60 + 24 * len(summary["metrics"])
    width = None if sys.stdout.isatty() else max(shutil.get_terminal_size((wide, 40)).columns,
                                                 wide)
    console = Console(width=width, highlight=False)
    if warning := tx.default_data_warning(summary):
        console.print(f"[yellow]Warning:[/] {warning}")
    primary = summary["primary"]
    for v in summary["variants"]:
        has_rank = any(tx.rank_label(r, primary) for r in v["rows"])
        has_verdict = any(tx.verdict_of(r) for r in v["rows"])
        metrics = tx.table_metrics(summary, v)
        table = Table(title=f"{summary['protocol']}: {v['label']}", title_justify="left")
        if has_rank:
            table.add_column("Rank", justify="right")
        for name in ("Strategy", "Selector"):
            table.add_column(name)
        table.add_column("Frac.", justify="right")
        table.add_column("Seeds", justify="right")
        for m in metrics:
            table.add_column(tx.header(m), justify="right",
                             style="bold" if m["name"] == primary else None)
        if has_verdict:
            table.add_column("Verdict")
        for r in v["rows"]:
            strategy, selector, fraction = tx.row_label(r)
            cells = [_two_lines(r["cells"].get(m["name"]), r) for m in metrics]
            row = ([tx.rank_label(r, primary) or "—"] if has_rank else [])
            row += [f"{strategy} (ref.)" if r["reference"] else strategy, selector, fraction,
                    str(len(r["seeds"])), *cells]
            if has_verdict:
                verdict = tx.verdict_of(r)
                row.append(f"[{VERDICT_STYLE.get(verdict['label'], '')}]{verdict['label']}[/]"
                           if verdict else "—")
            table.add_row(*row, end_section=r["reference"] and r is [
                x for x in v["rows"] if x["reference"]][-1])
        console.print(table)
        for title, text in tx.rules(summary, v):
            console.print(f"[bold]{title}:[/] {text}")
    st = summary["statistics"]
    console.print(f"Cells: mean [lo, hi], {st['confidence']:.0%} {st['interval']}; "
                  f"n=1: one seed, no interval; n<3: fewer than 3 seeds. "
                  f"Latest record {summary['provenance']['date'] or '—'}.")
