"""What the plots show, decided without drawing (no matplotlib): the tradeoff plot's panels, the
coreset ablation's strategy and its one-sentence answer, and the plot files of a protocol."""
from __future__ import annotations

from typing import Any

from erasus_bench.leaderboards import text as tx
from erasus_bench.leaderboards.ordering import gold_means, quality_key

TRADEOFF_X = "test_acc"  # x axis when the protocol names no utility metric
TIME_METRIC = "unlearn_time"
CLAIM_FRACTION = 0.1  # the seed's claim: 5-10% coresets match the full forget set


def tradeoff_axes(summary: dict[str, Any]) -> tuple[str, str]:
    """(x, y) of the tradeoff plot: the protocol's utility metric and its primary metric."""
    return summary["utility"] or TRADEOFF_X, summary["primary"]


def tradeoff_panels(summary: dict[str, Any], x: str, y: str
                    ) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """(variant, rows with both metrics) per variant that has any; [] when either metric is
    not in the summary."""
    names = {m["name"] for m in summary["metrics"]}
    if x not in names or y not in names:
        return []
    panels = [(v, [r for r in v["rows"] if r["cells"].get(x) and r["cells"].get(y)])
              for v in summary["variants"]]
    return [(v, rows) for v, rows in panels if rows]


def plot_files(summary: dict[str, Any]) -> dict[str, str]:
    """Plot key -> SVG file name beside the pages: ``"tradeoff"`` when the tradeoff plot has a
    panel, ``"ablation-<variant id>-<strategy>"`` per variant and strategy with a coreset
    sweep of 2+ fractions, ``"requests-<variant id>"`` per variant with sequences of deletion
    requests, ``"relearn-<variant id>"`` per variant with relearning curves, ``"series-<id>"``
    per group of variants along the protocol's series option."""
    p = summary["protocol"]
    out = {}
    if tradeoff_panels(summary, *tradeoff_axes(summary)):
        out["tradeoff"] = f"{p}_tradeoff.svg"
    for v in summary["variants"]:
        for strategy, budget in swept_strategies(v):
            key = ablation_key(v, strategy, budget)
            out[f"ablation-{key}"] = f"{p}_ablation_{key.replace('-', '_')}.svg"
        if v.get("sequences"):
            out[f"requests-{v['id']}"] = f"{p}_requests_{v['id']}.svg"
        if v.get("relearn"):
            out[f"relearn-{v['id']}"] = f"{p}_relearn_{v['id']}.svg"
    for curves in tx.series_curves(summary):
        out[f"series-{curves['id']}"] = f"{p}_{summary['series_option']}_{curves['id']}.svg"
    return out


def ablation_key(variant: dict[str, Any], strategy: str, budget: str | None) -> str:
    """The id of one (table, strategy, budget regime) ablation plot."""
    return f"{variant['id']}-{strategy}" + (f"-{budget}" if budget else "")


def sweep_rows(variant: dict[str, Any], strategy: str, budget: str | None
               ) -> list[dict[str, Any]]:
    """``strategy``'s method rows of the table in regime ``budget``."""
    return [r for r in variant["rows"] if r["strategy"] == strategy and not r["reference"]
            and r.get("budget") == budget]


def swept_strategies(variant: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The variant's (strategy, budget regime) pairs with a coreset sweep (2+ fractions below
    1), by name."""
    rows = [r for r in variant["rows"] if not r["reference"]]
    pairs = sorted({(r["strategy"], r.get("budget") or "") for r in rows})
    return [(s, b or None) for s, b in pairs
            if len(sweep_fractions([r for r in rows if (r.get("budget") or "") == b], s)) >= 2]


def sweep_fractions(rows: list[dict[str, Any]], strategy: str) -> list[float]:
    """Distinct coreset fractions below 1 that ``strategy`` ran with (any selector but full)."""
    return sorted({r["fraction"] for r in rows if r["strategy"] == strategy and not r["reference"]
                   and r["selector"] != "full" and r["fraction"] is not None
                   and r["fraction"] < 1.0})


def ablation_strategy(variant: dict[str, Any], primary: str) -> tuple[str | None, bool]:
    """(strategy, swept): the strategy with the most fractions (ties: the leader's strategy,
    then by name) and whether it has at least two; (leader's strategy, False) otherwise. The
    leader is the best row's strategy among those run with a coreset (coreset-invariant ones
    have only ``full`` rows and cannot be swept)."""
    rows = [r for r in variant["rows"] if not r["reference"]]
    if not rows:
        return None, False
    sweepable = [r for r in rows if r["strategy"] in {q["strategy"] for q in rows
                                                       if q["selector"] != "full"}] or rows
    leader = next((r["strategy"] for r in sweepable if r["cells"].get(primary)),
                  sweepable[0]["strategy"])
    best = max(sorted({r["strategy"] for r in rows}),
               key=lambda s: (len(sweep_fractions(rows, s)), s == leader))
    if len(sweep_fractions(rows, best)) >= 2:
        return best, True
    return leader, False


def _ci_text(c: dict[str, Any]) -> str:
    return " ".join(tx.cell_parts(c))


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool | None:
    if a["lo"] is None or b["lo"] is None:
        return None
    return a["lo"] <= b["hi"] and b["lo"] <= a["hi"]


def ablation_sentence(summary: dict[str, Any], variant: dict[str, Any], strategy: str,
                      budget: str | None = None) -> str | None:
    """One sentence: the best selector at the swept fraction nearest the 10% claim (the largest
    at or below 10%, else the smallest) against ``full`` in the same budget regime, on the
    primary metric, with CI overlap and the unlearning-time ratio; None without both a coreset
    row and a full row."""
    primary = summary["primary"]
    metric = next(m for m in summary["metrics"] if m["name"] == primary)
    rows = sweep_rows(variant, strategy, budget)
    full = next((r for r in rows if r["selector"] == "full" and r["cells"].get(primary)), None)
    fracs = sweep_fractions(rows, strategy)
    if full is None or not fracs:
        return None
    below = [f for f in fracs if f <= CLAIM_FRACTION + 1e-12]
    frac = max(below) if below else min(fracs)
    cands = [r for r in rows if r["fraction"] == frac and r["selector"] != "full"
             and r["cells"].get(primary)]
    if not cands:
        return None
    gold = gold_means(variant["rows"])
    best = min(cands, key=lambda r: (quality_key(r["cells"][primary]["mean"], metric["direction"],
                                                 gold.get(primary)) or 0.0, r["selector"]))
    cb, cf = best["cells"][primary], full["cells"][primary]
    overlap = _overlap(cb, cf)
    ov = ("the 95% CIs overlap" if overlap else "the 95% CIs do not overlap"
          if overlap is not None else "no CI with one seed")
    pick = (f"the best of {len(cands)} selectors on these seeds ({best['selector']})"
            if len(cands) > 1 else f"selector {best['selector']}")
    name = f"{strategy} ({budget} budget)" if budget else strategy
    text = (f"{name}, {frac:.0%} of the forget set: {pick} reaches {primary} "
            f"{_ci_text(cb)} vs {_ci_text(cf)} with the full forget set ({ov})")
    tb, tf = best["cells"].get(TIME_METRIC), full["cells"].get(TIME_METRIC)
    if tb and tf and tf["mean"] > 0:
        text += f", at {tb['mean'] / tf['mean']:.2f}x the full set's unlearning time"
    ctrl = next((r for r in cands if r["selector"] == "random"), None)
    if ctrl is not None and ctrl is not best:
        text += f"; the random control reaches {_ci_text(ctrl['cells'][primary])}"
    return text + "."
