"""A summary as a GitHub-flavoured Markdown page: provenance first, then one table per variant."""
from __future__ import annotations

from typing import Any

from erasus_bench.leaderboards import text as tx

LEGEND = ("Cells: mean [lo, hi] over seeds, 95% bootstrap CI; (n=1): one seed, no interval."
          " ↑ higher is better, ↓ lower is better, ≈gold closest to the retrained (gold) model. "
          "Reference rows (original, retrain) first, then by the primary metric; a metric no "
          "row of a table has a value for is left out of that table. Compute: "
          + tx.COMPUTE_TITLE + ". [no-op]: the method left the model as the original. "
          + tx.RELEARNS + ": " + tx.RELEARNS_TITLE + ".")


REQUESTS_TEXT = ("The forget set split into disjoint requests (MUSE's sustainability, C6), each "
                 "unlearned from the model the previous one left; every metric is measured "
                 "after each request on the requests deleted so far, against the gold model "
                 "retrained without them (retrain row). Cells: mean [95% CI] over seeds.")


def render_markdown(summary: dict[str, Any], *, record_base: str, plot: str | None = None,
                    ablations: list[dict[str, Any]] | None = None,
                    requests: list[dict[str, Any]] | None = None,
                    series: list[dict[str, Any]] | None = None,
                    series_option: str | None = None,
                    relearn: list[dict[str, Any]] | None = None) -> str:
    """The page text; ``record_base`` prefixes record paths in links, ``plot`` is the tradeoff
    image's file name beside the page (omitted when None), ``ablations`` the coreset-ablation
    answers per variant (``label``, ``sentence``, ``swept``, ``command``, ``file``: its plot
    beside the page, or None), ``requests`` the sequences of deletion requests per variant and
    ``series`` the curves along the protocol's ``series_option`` (each ``label``, ``tables``
    from ``text.curve_tables``, ``file``: their plot or None); ``relearn`` the relearning
    curves per variant, likewise."""
    lines = [f"# `{summary['protocol']}` leaderboard", ""]
    if warning := tx.default_data_warning(summary):
        lines += [f"> **Warning:** {_esc(warning)}", ""]
    lines += ["## Provenance", ""]
    lines += [f"- **{label}:** {_esc(text)}" for label, text in tx.provenance_items(summary)]
    lines += ["", LEGEND, ""]
    lines += [f"**{title}:** {_esc(text)}" + "\n" for title, text in tx.rules(summary)]
    for variant in summary["variants"]:
        lines += [f"## {_esc(variant['label'])}", ""]
        lines += [f"**{t}:** {_esc(x)}" + "\n" for t, x in tx.rules(summary, variant)
                  if (t, x) not in tx.rules(summary)]
        lines += [*_table(summary, variant, record_base), ""]
    coreset = [{"table": v["label"], **r} for v in summary["variants"]
               for r in tx.coreset_rows(v)]
    if coreset:
        lines += ["## Coreset verdicts", "", _esc(summary.get("coreset_rule") or ""), "",
                  "| Table | Strategy | Selector | Fraction | Metric | Seeds | Coreset − full "
                  "[95% CI] | Cost ratio [95% CI] | Verdict | vs random |",
                  "|---|---|---|---:|---|---:|---:|---:|---|---|"]
        lines += ["| " + " | ".join(_esc(r[k]) for k in ("table", "strategy", "selector",
                                                          "fraction", "metric", "n", "diff",
                                                          "cost", "verdict", "vs_random"))
                  + " |" for r in coreset]
        lines += [""]
    if plot:
        lines += ["## Tradeoff", "", f"![tradeoff plot]({plot})", ""]
    if ablations:
        lines += ["## Coreset ablation", ""]
        for a in ablations:
            lines += [f"- **{_esc(a['label'])}**: " + (_esc(a["sentence"]) if a["sentence"]
                                                       else "no coreset row to compare.")
                      + ("" if a["swept"] else f" No sweep has been run; run it with "
                         f"`{a['command']}`.")]
        lines += [""]
        lines += [f"![coreset ablation, {_esc(a['label'])}]({a['file']})\n"
                  for a in ablations if a.get("file")]
    if requests:
        lines += ["## Sequential deletion requests", "", _esc(REQUESTS_TEXT), ""]
        lines += _curves(requests, "deletion requests")
    if series:
        lines += ["## Scalability", "", _esc(series_text(series_option or "")), ""]
        lines += _curves(series, "scalability")
    trusted = [(v, tx.trust_rows(v)) for v in summary["variants"] if v.get("trust")]
    if trusted:
        lines += ["## Which metrics to trust", "", _esc(trusted[0][0]["trust"]["text"]), ""]
        for v, rows in trusted:
            lines += [f"### {_esc(v['label'])}", "",
                      "| Metric | Faithfulness (AUC) ↑ | Relearning R ↑ | Quantization Q ↑ | "
                      "Robustness ↑ | Models |", "|---|---:|---:|---:|---:|---|"]
            lines += ["| " + " | ".join(_esc(r[k]) for k in (
                "metric", "faithfulness", "relearn", "quantize", "robustness", "models"))
                + " |" for r in rows]
            lines += ["", f"Pool models: {_esc(v['trust'].get('pool') or '')}.", ""]
    if relearn:
        lines += ["## Relearning attack", "", _esc(RELEARN_TEXT), ""]
        lines += _curves(relearn, "relearning attack")
    return "\n".join(lines)


def _curves(curves: list[dict[str, Any]], what: str) -> list[str]:
    lines = []
    for r in curves:
        lines += [f"### {_esc(r['label'])}", ""]
        for t in r["tables"]:
            lines += [f"**{_esc(t['metric'])}**", "",
                      "| Row | " + " | ".join(_esc(c) for c in t["columns"]) + " |",
                      "|---|" + "---:|" * len(t["columns"])]
            lines += ["| " + " | ".join(_esc(c) for c in [
                f"**{row['label']}** (ref.)" if row["reference"] else row["label"],
                *row["cells"]]) + " |" for row in t["rows"]]
            lines += [""]
        if r.get("file"):
            lines += [f"![{what}, {_esc(r['label'])}]({r['file']})", ""]
    return lines


RELEARN_TEXT = ("The attack metric on half B of the forget set while a copy of the model is "
                "fine-tuned on half A, for the retrain row and every row that unlearned the "
                "whole forget set, against the original model's value: mean [95% CI] over "
                "seeds. A curve that climbs back to the original model's was obfuscated, not "
                "unlearned; the retrain row shows how much the attack teaches a model that "
                "never saw the forget set.")


def series_text(option: str) -> str:
    """What the scalability section shows (MUSE's C5 along ``option``)."""
    return (f"The same rows after unlearning forget sets of growing size (MUSE's scalability, "
            f"C5): one table per value of {option}, each against its own gold model retrained "
            "without that forget set. Cells: mean [95% CI] over seeds.")


def _table(summary: dict[str, Any], variant: dict[str, Any], record_base: str) -> list[str]:
    metrics = tx.table_metrics(summary, variant)
    primary = summary["primary"]
    has_rank = any(tx.rank_label(r, primary) for r in variant["rows"])
    has_verdict = any(tx.verdict_of(r) for r in variant["rows"])
    head = ["Strategy", "Selector", "Fraction", "Seeds", *map(tx.header, metrics), "Compute",
            "Failed", "Records"]
    align = "|" + "---|" * 3 + "---:|" + "---:|" * len(metrics) + "---:|---|---|"
    if has_verdict:
        head.insert(4, "Verdict")
        align = "|" + "---|" * 3 + "---:|---|" + "---:|" * len(metrics) + "---:|---|---|"
    if has_rank:
        head.insert(0, "Rank")
        align = "|---:" + align
    out = ["| " + " | ".join(head) + " |", align]
    for row in variant["rows"]:
        _, selector, fraction = tx.row_label(row)
        strategy = tx.strategy_text(row)
        name = f"**{strategy}** (ref.)" if row["reference"] else strategy
        failed = tx.failures_text(row)
        if failed:
            failed += f": {tx.errors_text(row)}"
        links = " ".join(f"[{t}]({h})" for t, h in tx.record_links(row, record_base))
        cells = [name, selector, fraction, str(len(row["seeds"])),
                 *(tx.fmt_cell(row["cells"][m["name"]], row, m["name"]) for m in metrics),
                 tx.cost_text(row), failed, links]
        if has_verdict:
            verdict = tx.verdict_text(row)
            cells.insert(4, f"**{verdict}**" if verdict else tx.MISSING)
        if has_rank:
            cells.insert(0, tx.rank_label(row, primary) or tx.MISSING)
        out.append("| " + " | ".join(_esc(c) for c in cells) + " |")
    return out


def _esc(text: str) -> str:
    """Keep a cell on one line and its pipes literal."""
    return " ".join(text.split()).replace("|", "\\|")
