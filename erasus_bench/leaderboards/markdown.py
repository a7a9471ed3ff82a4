"""A summary as a GitHub-flavoured Markdown page: provenance first, then one table per variant."""
from __future__ import annotations

from typing import Any

from erasus_bench.leaderboards import text as tx

LEGEND = ("Cells: mean [lo, hi] over seeds, 95% bootstrap CI; (n=1): one seed, no interval."
          " ↑ higher is better, ↓ lower is better, ≈gold closest to the retrained (gold) model. "
          "Reference rows (original, retrain) first, then by the primary metric.")


def render_markdown(summary: dict[str, Any], *, record_base: str,
                    plot: str | None = None) -> str:
    """The page text; ``record_base`` prefixes record paths in links, ``plot`` is the tradeoff
    image's file name beside the page (omitted when None)."""
    lines = [f"# `{summary['protocol']}` leaderboard", ""]
    if warning := tx.default_data_warning(summary):
        lines += [f"> **Warning:** {_esc(warning)}", ""]
    lines += ["## Provenance", ""]
    lines += [f"- **{label}:** {_esc(text)}" for label, text in tx.provenance_items(summary)]
    lines += ["", LEGEND, ""]
    for variant in summary["variants"]:
        lines += [f"## {_esc(variant['label'])}", "", *_table(summary, variant, record_base), ""]
    if plot:
        lines += ["## Tradeoff", "", f"![tradeoff plot]({plot})", ""]
    return "\n".join(lines)


def _table(summary: dict[str, Any], variant: dict[str, Any], record_base: str) -> list[str]:
    metrics = summary["metrics"]
    head = ["Strategy", "Selector", "Fraction", "Seeds", *map(tx.header, metrics), "Failed",
            "Records"]
    out = ["| " + " | ".join(head) + " |",
           "|" + "---|" * 3 + "---:|" + "---:|" * len(metrics) + "---|---|"]
    for row in variant["rows"]:
        strategy, selector, fraction = tx.row_label(row)
        name = f"**{strategy}** (ref.)" if row["reference"] else strategy
        failed = tx.failures_text(row)
        if failed:
            failed += f": {tx.errors_text(row)}"
        links = " ".join(f"[{t}]({h})" for t, h in tx.record_links(row, record_base))
        cells = [name, selector, fraction, str(len(row["seeds"])),
                 *(tx.fmt_cell(row["cells"][m["name"]], row) for m in metrics), failed, links]
        out.append("| " + " | ".join(_esc(c) for c in cells) + " |")
    return out


def _esc(text: str) -> str:
    """Keep a cell on one line and its pipes literal."""
    return " ".join(text.split()).replace("|", "\\|")
