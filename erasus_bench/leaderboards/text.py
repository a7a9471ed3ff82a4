"""Text shared by the Markdown and HTML renderers: numbers, cells, row labels, record links."""
from __future__ import annotations

import posixpath
from typing import Any

MISSING = "—"
FAILED = "failed"
NOTHING_REMOVED = "nothing removed"


def fmt_num(v: float, like: float | None = None) -> str:
    """Three decimals for 0 and in [0.001, 10), one decimal up to 10^4, scientific otherwise;
    the style follows ``like`` when given (a cell's bounds are written like its mean)."""
    a = abs(v if like is None else like)
    if 0 < a < 1e-3 or a >= 1e4:
        return f"{v:.2e}"
    return f"{v:.3f}" if a < 10 else f"{v:.1f}"


def cell_parts(cell: dict[str, Any]) -> tuple[str, str]:
    """(mean, interval) texts: ``("0.012", "[0.008, 0.016]")`` or ``("0.970", "(n=1)")``."""
    m = cell["mean"]
    if cell["lo"] is None:
        return fmt_num(m), "(n=1)"
    return fmt_num(m), f"[{fmt_num(cell['lo'], m)}, {fmt_num(cell['hi'], m)}]"


def small_n(cell: dict[str, Any]) -> str | None:
    """``"n<3"`` for a cell from 2 seeds (or flagged so by the statistics), else None (n=1 is
    already written as ``(n=1)``)."""
    label = cell.get("label")
    if isinstance(label, str) and label and label != "n=1":
        return label
    n = cell.get("n") or 0
    if cell.get("n<3") or 1 < n < 3:
        return "n<3"
    return None


def fmt_cell(cell: dict[str, Any] | None, row: dict[str, Any], metric: str | None = None
             ) -> str:
    """``"0.012 [0.008, 0.016]"``, ``"0.970 (n=1)"``, ``"0.5 [0.4, 0.6] n<3"``, ``"failed"``
    (no ok record), ``"nothing removed"`` (an attack stage ``metric`` comes from ran on every
    record, and none had anything to recover) or ``"—"``."""
    from erasus_bench.metrics.catalogue import ATTACK_STAGE

    if cell is None:
        if not row["seeds"] and row["n_failed"]:
            return FAILED
        if metric in ATTACK_STAGE and ATTACK_STAGE[metric] in row.get("attacks", ()):
            return NOTHING_REMOVED
        return MISSING
    flag = small_n(cell)
    return " ".join(cell_parts(cell)) + (f" {flag}" if flag else "")


def table_metrics(summary: dict[str, Any], variant: dict[str, Any]) -> list[dict[str, Any]]:
    """The summary's metrics that say something in ``variant``'s table: a column that would
    read "—" in every row (e.g. the attack stages of imported logs, which have no model to
    attack) is left out of that table."""
    return [m for m in summary["metrics"]
            if any(fmt_cell(r["cells"].get(m["name"]), r, m["name"]) != MISSING
                   for r in variant["rows"])]


def rank_label(row: dict[str, Any], primary: str | None) -> str | None:
    """The row's rank group on ``primary`` (``"1-3"``), when the statistics provide one."""
    rank = (row.get("ranks") or {}).get(primary) if primary else None
    if not isinstance(rank, dict):
        return None
    if rank.get("label") is not None:
        return str(rank["label"])
    lo, hi = rank.get("lo"), rank.get("hi")
    return None if lo is None else (str(lo) if hi in (None, lo) else f"{lo}-{hi}")


def rank_key(row: dict[str, Any], primary: str | None) -> float | None:
    rank = (row.get("ranks") or {}).get(primary) if primary else None
    if not isinstance(rank, dict) or not isinstance(rank.get("lo"), (int, float)):
        return None
    return float(rank["lo"])


def verdict_of(row: dict[str, Any]) -> dict[str, Any] | None:
    """``{"label", "reason", "details"}`` from ``row["verdict"]``, or None."""
    v = row.get("verdict")
    if not isinstance(v, dict) or not v.get("label"):
        return None
    details = [f"{name}: {_fmt_any(info)}" for name, info in (v.get("metrics") or {}).items()]
    return {"label": str(v["label"]), "reason": str(v.get("reason") or ""), "details": details}


def _fmt_any(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, float):
        return fmt_num(v)
    if isinstance(v, dict):
        return ", ".join(f"{k}={_fmt_any(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt_any(x) for x in v) + "]"
    return str(v)


def rules(summary: dict[str, Any], variant: dict[str, Any] | None = None
          ) -> list[tuple[str, str]]:
    """(title, text) of the variant's data and model (when the page has several variants) and
    of the verdict and pairwise rules (the variant's, else the summary's)."""
    out = []
    if variant is not None and len(summary["variants"]) > 1 and variant.get("source"):
        out.append(("Data and model", variant["source"]))
    if variant is not None and variant.get("hparams_sources"):
        out.append(("Hyperparameters", "; ".join(map(source_text, variant["hparams_sources"]))))
    if variant is not None and variant.get("rank_separation"):
        out.append(("What these seeds can separate", variant["rank_separation"]))
    for key, title in (("verdict_rule", "Verdict rule"), ("pairwise_rule", "Rank groups")):
        text = (variant or {}).get(key) or summary.get(key)
        if text:
            out.append((title, text if isinstance(text, str) else _fmt_any(text)))
    if variant is None:
        out += attack_rules(summary)
    return out


ATTACK_TEXT = {
    "relearn": "Relearning attack (relearn_recovery): a copy of the model is fine-tuned on half "
               "A of the forget set (halves fixed per seed) and the attack metric is measured "
               "on half B; recovery = (attacked - unlearned) / (original - unlearned), clipped "
               "to [0, 1], at the last step, the same attack on the retrain row beside it; "
               f"\"{NOTHING_REMOVED}\" where the model's metric did not drop below the "
               "original's. The attack metric replaces the headline forget metric (a likelihood "
               "moves where accuracy or generated text saturate) and is measured on half B",
    "quantize": "Quantization attack (quant_recovery: 4 bits, quant8_recovery: 8 bits): the "
                "weights reloaded in int4 and int8, the attack metric re-measured on the whole "
                "forget set, recovery as above",
    "epsilon": "Per-example privacy (epsilon_score, the NeurIPS 2023 unlearning challenge): "
               "per forget example, thresholds on the logit-scaled confidence under N unlearned "
               "runs (the cell and N-1 reruns with other unlearning seeds, same coreset) against "
               "N retrains give an (epsilon, 1e-5) estimate, bucketed into the forget score F, "
               "times the retain and test accuracy ratios. Deviation: N is 16 a side (the "
               "challenge used 512), so no epsilon above ceil(ln 15) = 3 scores and the retrain "
               "row's own score, about 0.15, is the practical ceiling",
}


def attack_rules(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """One (title, text) per attack stage the records ran: what it does and its settings."""
    out = []
    for stage, runs in (summary.get("attacks") or {}).items():
        settings = "; ".join(_fmt_any(r["settings"]) for r in runs)
        metric = "; ".join(sorted({r["metric"] for r in runs if r.get("metric")}))
        text = ATTACK_TEXT.get(stage, stage) + (f". Attack metric: {metric}" if metric else "")
        out.append((f"Attack: {stage}", f"{text}. Settings: {settings}."))
    return out


def source_text(src: dict[str, Any]) -> str:
    """Where a group of strategies' hyperparameters came from, in one clause."""
    who = ", ".join(src.get("strategies", []))
    if "tuned_on_seeds" in src:
        seeds = src["tuned_on_seeds"]
        span = f"{seeds[0]}-{seeds[-1]}" if len(seeds) > 1 else str(seeds[0])
        where = (f" on variant {src['tuned_on_variant']}" if src.get("tuned_on_variant")
                 else "")
        return (f"{who}: tuned on seeds {span}{where} (never reported), {src['trials']} trials "
                f"each, objective: {src['objective']}")
    if src.get("source") == "paper":
        return f"{who}: published settings ({src.get('ref', 'paper')})"
    return f"{who}: untuned (the protocol's hand-set values)"


def cost_text(row: dict[str, Any]) -> str:
    """``"150 steps; 1.9k fwd / 1.9k bwd"`` (mean per seed; passes in examples) or ``—``."""
    c = row.get("cost")
    if not c:
        return MISSING
    return (f"{c['optimizer_steps']:.0f} steps; {_count(c['forward_passes'])} fwd / "
            f"{_count(c['backward_passes'])} bwd")


def _count(v: float) -> str:
    for div, unit in ((1e6, "M"), (1e3, "k")):
        if v >= div:
            return f"{v / div:.1f}{unit}"
    return f"{v:.0f}"


def strategy_text(row: dict[str, Any]) -> str:
    """The row's strategy label, flagged when it left the model as the original."""
    return row_label(row)[0] + (" [no-op]" if row.get("no_op") else "")


RELEARNS = "⚑ relearns"
RELEARNS_TITLE = ("passes on the plain metrics, but relearning on half of the forget set brings "
                  "back more than half of what it removed, more than it teaches the retrained "
                  "model (relearn recovery > 0.5, CI above the retrain row's)")


def verdict_text(row: dict[str, Any]) -> str | None:
    """The verdict label with the row's attack flag (``"PASS ⚑ relearns"``), or None."""
    verdict = verdict_of(row)
    if verdict is None:
        return None
    return verdict["label"] + (f" {RELEARNS}" if "relearns" in row.get("flags", ()) else "")


COMPUTE_TITLE = ("optimizer steps; forward and backward passes in examples (teachers "
                 "included), mean per seed, selection included")


def header(metric: dict[str, Any]) -> str:
    """``"Avg. gap ↓"``, with the unit: ``"Unlearn time (s) ↓"``."""
    unit = f" ({metric['unit']})" if metric["unit"] else ""
    return f"{metric['display']}{unit} {metric['arrow']}".rstrip()


def row_label(row: dict[str, Any]) -> tuple[str, str, str]:
    """(strategy, selector, fraction) as shown (reference rows under the protocol's label, e.g.
    TOFU's "finetuned"); reference rows have ``—`` for the last two."""
    frac = MISSING if row["fraction"] is None else f"{row['fraction']:g}"
    name = row.get("display") or row["strategy"]
    if row.get("budget"):  # the budget regime it ran in (harness.budget)
        name += f" · {row['budget']}"
    return name, row["selector"] or MISSING, frac


def failures_text(row: dict[str, Any]) -> str:
    """``""`` or ``"2 of 5"`` runs failed."""
    return f"{row['n_failed']} of {len(row['records'])}" if row["n_failed"] else ""


def errors_text(row: dict[str, Any]) -> str:
    """The distinct errors of a row's failed records, ``"; "``-joined."""
    return "; ".join(dict.fromkeys(r["error"] or "unknown error" for r in row["records"]
                                   if r["status"] != "ok"))


def record_links(row: dict[str, Any], record_base: str) -> list[tuple[str, str]]:
    """(text, href) per record of ``row``: ``("s0", "../results/general/.../x.json")``, with
    ``" ✗"`` after a failed one."""
    return [(f"s{r['seed']}" + ("" if r["status"] == "ok" else " ✗"),
             posixpath.join(record_base, r["path"])) for r in row["records"]]


def provenance_items(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, text) lines of a page's provenance block."""
    p = summary["provenance"]
    st = summary["statistics"]
    items = [(k.capitalize(), "; ".join(v)) for k, v in p["sources"].items()]
    items += [
        ("Seeds", f"{', '.join(map(str, p['seeds']))} ({len(p['seeds'])})"),
        ("Command", " | ".join(p["commands"]) or MISSING),
        ("Commit", ", ".join(p["git_commits"]) or MISSING),
        ("Environment", "; ".join(f"{k} {', '.join(v)}" for k, v in p["env"].items())
         or MISSING),
        ("Date", p["date"] or MISSING),
        ("Records", f"{p['n_records']} ({p['n_failed']} failed)"),
        ("Statistics", f"{st['estimate']}, {st['confidence']:.0%} {st['interval']} "
                       f"[lo, hi] ({st['source']}; Monte Carlo: {st['n_resamples']} "
                       f"resamples, seed {st['seed']}); n=1: no interval"),
    ]
    if published := summary.get("published"):
        caveat = (" (real data and models; the embedded default's tiny model and invented data "
                  "are not comparable)" if p["data_is_default"] else "")
        items.append(("Published reference", published + caveat))
    return items


def default_data_warning(summary: dict[str, Any]) -> str | None:
    """The banner text when any record ran on the embedded default data (naming those tables
    when the page also has tables on other data), else None."""
    p = summary["provenance"]
    if not p["data_is_default"]:
        return None
    default = [v for v in summary["variants"] if v.get("data_is_default")]
    if 0 < len(default) < len(summary["variants"]):
        names = "; ".join(f"\"{v['label']}\"" for v in default)
        return (f"The table(s) {names} use the embedded default data, not a published "
                "benchmark; their data and model are stated above each table.")
    data = "; ".join(p["sources"].get("data", [])) or "unknown"
    model = "; ".join(p["sources"].get("model", [])) or "unknown"
    return (f"These results use the embedded default data, not a published benchmark. "
            f"Data: {data}. Model: {model}.")


def ratio_text(ci: dict[str, Any] | None) -> str:
    """``"0.13x [0.11, 0.16]"`` (a cost ratio with its CI) or ``—``."""
    if not ci:
        return MISSING
    if ci["lo"] is None:
        return f"{ci['mean']:.2f}x (n=1)"
    return f"{ci['mean']:.2f}x [{ci['lo']:.2f}, {ci['hi']:.2f}]"


def diff_text(ci: dict[str, Any] | None) -> str:
    """``"+0.012 [-0.003, +0.027]"`` (a paired difference with its CI) or ``—``."""
    if not ci:
        return MISSING
    m = ci["mean"]

    def f(v: float) -> str:
        return ("+" if v > 0 else "") + fmt_num(v, m)

    return f(m) if ci["lo"] is None else f"{f(m)} [{f(ci['lo'])}, {f(ci['hi'])}]"


def coreset_rows(variant: dict[str, Any]) -> list[dict[str, str]]:
    """The variant's coreset verdicts as table rows of text."""
    out = []
    for v in variant.get("coreset_verdicts") or []:
        vs = v.get("vs_random")
        out.append({"strategy": v["strategy"], "selector": v["selector"],
                    "fraction": f"{v['fraction']:g}", "budget": v["budget"] or MISSING,
                    "metric": v["metric"], "n": str(v["n"]), "diff": diff_text(v["diff"]),
                    "cost": ratio_text(v["cost_ratio"]), "verdict": v["verdict"],
                    "vs_random": (f"{vs['verdict']} ({diff_text(vs['diff'])})" if vs
                                  else MISSING)})
    return out


ANSWER_FRACTION = 0.1  # the claim's coreset size, shown on the index


def combined_verdict(labels: list[str]) -> str:
    """One verdict over a row's primary metrics: not supported if any is, supported or
    no saving only if all metrics agree, else inconclusive."""
    if "not supported" in labels:
        return "not supported"
    if labels and all(v == labels[0] for v in labels) and labels[0] != "inconclusive":
        return labels[0]
    if labels and set(labels) <= {"supported", "quality holds, no saving"}:
        return "quality holds, no saving"
    return "inconclusive"


def coreset_answer(summary: dict[str, Any]) -> list[dict[str, str]]:
    """Per table and strategy, at the coreset fraction nearest ``ANSWER_FRACTION``: the random
    selector's verdict (over every primary metric) and cost ratio, and the selectors that are
    supported / not supported there. A table is named by the configuration keys and budget
    regime that differ between tables (all of them when there is one table)."""
    entries = [(e, _answer_table(e)) for e in summary.get("coreset_verdicts") or []]
    tables = {t for _, t in entries}
    shown = {k for k in {k for t in tables for k, _ in t}
             if len(tables) == 1 or len({dict(t).get(k) for t in tables}) > 1}
    by: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}
    for e, table in entries:
        name = ", ".join(v if k == "budget" else f"{k}={v}" for k, v in table if k in shown)
        by.setdefault((name, e["strategy"]), {}).setdefault(e["selector"], []).append(e)
    out = []
    for (name, strategy), sels in by.items():
        fractions = sorted({e["fraction"] for es in sels.values() for e in es})
        frac = min(fractions, key=lambda f: (abs(f - ANSWER_FRACTION), f))
        at = {s: [e for e in es if e["fraction"] == frac] for s, es in sels.items()}
        verdicts = {s: combined_verdict([e["verdict"] for e in es]) for s, es in at.items() if es}
        rnd = at.get("random") or []
        out.append({
            "table": name, "strategy": strategy, "fraction": f"{frac:g}",
            "random": verdicts.get("random", MISSING),
            "cost": ratio_text(rnd[0]["cost_ratio"]) if rnd else MISSING,
            "supported": ", ".join(sorted(s for s, v in verdicts.items() if v == "supported"))
            or MISSING,
            "not_supported": ", ".join(sorted(s for s, v in verdicts.items()
                                              if v == "not supported")) or MISSING,
        })
    return out


def _answer_table(entry: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """A coreset verdict's table as sorted (key, value) texts, the budget regime last."""
    config = sorted((k, str(v)) for k, v in (entry.get("protocol_config") or {}).items())
    return (*config, ("budget", str(entry.get("budget") or MISSING)))



def relearn_curves(variant: dict[str, Any]) -> dict[str, Any] | None:
    """A variant's relearning curves (summary ``relearn``) as curves over the attack steps for
    ``curve_tables`` / ``plots.curves_svg``, the original model's value as a reference line;
    their one metric is ``RELEARN_METRIC`` with the attack metric's name."""
    curve = variant.get("relearn")
    if not curve:
        return None
    xs = [str(s) for s in curve["steps"]]
    lines = [{"label": "original model (not attacked)", "reference": True,
              "strategy": "original",
              "points": {x: {"cells": {"relearn": c}, "seeds": [None], "n_failed": 0}
                         for x, c in curve["original"].items()}}]
    lines += [{"label": line_label(line), "reference": line["reference"],
               "strategy": line["strategy"],
               "points": {x: {"cells": {"relearn": c}, "seeds": [None], "n_failed": 0}
                          for x, c in line.get("points", {}).items()}}
              for line in curve["lines"]]
    return {"xs": xs, "columns": [f"step {x}" for x in xs], "xlabel": "attack step",
            "lines": lines, "metrics": [relearn_metric(curve["metric"])]}


def relearn_metric(name: str) -> dict[str, Any]:
    """The column a relearning curve shows: the attack metric on half B."""
    return {"name": "relearn", "display": f"half B: {name}", "unit": "", "arrow": "",
            "log_scale": False}


def curve_metrics(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The metrics a curve shows: the primary ones and the utility metric, board order."""
    return [m for m in summary["metrics"] if m["primary"] or m["name"] == summary["utility"]]


def line_label(row: dict[str, Any]) -> str:
    """``"npo · steps / random / 0.1"`` (reference rows: their label alone)."""
    name, selector, fraction = row_label(row)
    return name if row["reference"] else f"{name} / {selector} / {fraction}"


def sequence_curves(variant: dict[str, Any]) -> dict[str, Any]:
    """A variant's sequences of deletion requests as curves over the request (x: 1..K):
    ``{"xs", "columns", "lines": [{"label", "reference", "points": {x: point}}]}``."""
    seqs = variant.get("sequences") or []
    several = len({q["requests"] for q in seqs}) > 1
    xs = sorted({p["request"] for q in seqs for p in q["points"]})
    return {"xs": xs, "columns": [f"after request {j}" for j in xs], "xlabel": "deletion request",
            "lines": [{"label": line_label(q) + (f" ({q['requests']} requests)" if several
                                                 else ""),
                       "reference": q["reference"], "strategy": q["strategy"],
                       "points": {p["request"]: p for p in q["points"]}} for q in seqs]}


def series_curves(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of variants that differ only in the protocol's series option (e.g. MUSE's
    ``forget_split``, C5) as curves over its values: one entry per group of such variants with
    2+ values, each line a row (strategy, selector, fraction, budget) present in 2+ of them."""
    option = summary.get("series_option")
    if not option:
        return []
    groups: dict[str, list[dict[str, Any]]] = {}
    for v in summary["variants"]:
        config = v.get("protocol_config") or {}
        if option in config:
            rest = {k: val for k, val in config.items() if k != option}
            groups.setdefault(repr(sorted(rest.items())), []).append(v)
    out = []
    for variants in groups.values():
        xs = sorted({v["protocol_config"][option] for v in variants}, key=str)
        if len(xs) < 2:
            continue
        lines: dict[tuple, dict[str, Any]] = {}
        for v in variants:
            for row in v["rows"]:
                key = (row["strategy"], row["selector"], row["fraction"], row.get("budget"))
                line = lines.setdefault(key, {"label": line_label(row), "strategy":
                                              row["strategy"], "reference": row["reference"],
                                              "points": {}})
                line["points"][v["protocol_config"][option]] = row
        kept = [line for line in lines.values() if len(line["points"]) >= 2]
        kept.sort(key=lambda q: (not q["reference"], q["label"]))
        rest = ", ".join(f"{k}={val}" for k, val in sorted(variants[0]["protocol_config"].items())
                         if k != option)
        if kept:
            out.append({"label": rest, "id": variants[0]["id"], "xs": xs,
                        "columns": [f"{option}={x}" for x in xs], "xlabel": option,
                        "lines": kept})
    return out


def curve_tables(summary: dict[str, Any], curves: dict[str, Any]) -> list[dict[str, Any]]:
    """One table per curve metric: a row per line, a column per x (mean [95% CI])."""
    tables = []
    for m in curves.get("metrics") or curve_metrics(summary):
        rows = [{"label": line["label"], "reference": line["reference"],
                 "cells": [fmt_cell(line["points"][x]["cells"][m["name"]], line["points"][x])
                           if x in line["points"] else MISSING for x in curves["xs"]]}
                for line in curves["lines"]]
        tables.append({"metric": header(m), "columns": curves["columns"], "rows": rows})
    return tables


def trust_rows(variant: dict[str, Any]) -> list[dict[str, str]]:
    """The variant's "which metrics to trust" table as texts, most faithful first."""
    table = variant.get("trust")
    if not table:
        return []

    def num(v: float | None) -> str:
        return MISSING if v is None else f"{v:.2f}"

    rows = sorted(table["rows"], key=lambda r: (-(r["faithfulness"] or 0), r["metric"]))
    return [{"metric": r["display"], "faithfulness": num(r["faithfulness"]),
             "relearn": num(r["relearn"]), "quantize": num(r["quantize"]),
             "robustness": num(r["robustness"]),
             "models": f"{r['n_saw']}+{r['n_unseen']} pool, {r['n_models']} unlearned"}
            for r in rows]
