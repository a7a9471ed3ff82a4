"""The tradeoff plot of a summary: utility (x) against the primary metric (y), one point per
strategy x selector x fraction with 95% CI whiskers, Pareto front marked. Deterministic PNG."""
from __future__ import annotations

import io
from typing import Any

from matplotlib import colormaps, rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from erasus_bench.leaderboards import text as tx
from erasus_bench.leaderboards.summarise import gold_means, quality_key

MARKERS = "osD^vP<>hp*X"
REFERENCE_STYLE = {"original": ("X", "original (no unlearning)"),
                   "retrain": ("*", "retrain (gold)")}


def tradeoff_png(summary: dict[str, Any], *, x: str = "test_acc", y: str | None = None
                 ) -> bytes | None:
    """PNG bytes of ``y`` (default: the primary metric) against ``x``, one panel per variant;
    None when either metric is absent or no row has both. Byte-identical for the same summary
    (no timestamps or software tag in the PNG metadata)."""
    metrics = {m["name"]: m for m in summary["metrics"]}
    y = y or summary["primary"]
    if x not in metrics or y not in metrics:
        return None
    panels = [(v, [r for r in v["rows"] if r["cells"].get(x) and r["cells"].get(y)])
              for v in summary["variants"]]
    panels = [(v, rows) for v, rows in panels if rows]
    if not panels:
        return None
    methods = [r for _, rows in panels for r in rows if not r["reference"]]
    strategies = sorted({r["strategy"] for r in methods})
    cmap = colormaps["tab10" if len(strategies) <= 10 else "tab20"]
    colours = {s: cmap(i % cmap.N) for i, s in enumerate(strategies)}
    markers = {s: MARKERS[i % len(MARKERS)]
               for i, s in enumerate(sorted({str(r["selector"]) for r in methods}))}
    with rc_context({"font.size": 8}):  # a bare Figure: no pyplot state, Agg canvas
        fig = Figure(figsize=(6.0 * len(panels) + 2.4, 4.8), layout="constrained")
        for ax, (variant, rows) in zip(fig.subplots(1, len(panels), squeeze=False)[0], panels):
            _panel(ax, rows, metrics[x], metrics[y], colours, markers)
            ax.set_title(variant["label"], fontsize=8)
        fig.legend(handles=_legend(colours, markers), loc="outside right upper", fontsize=7)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    return buf.getvalue()


def _panel(ax: Axes, rows: list[dict[str, Any]], mx: dict[str, Any], my: dict[str, Any],
           colours: dict[str, Any], markers: dict[str, str]) -> None:
    """Points with CI whiskers, reference rows as large black markers, Pareto front ringed."""
    gold = gold_means(rows)
    for r in rows:
        cx, cy = r["cells"][mx["name"]], r["cells"][my["name"]]
        if r["reference"]:
            marker, label = REFERENCE_STYLE.get(r["strategy"], ("s", r["strategy"]))
            ax.errorbar(cx["mean"], cy["mean"], xerr=_err(cx), yerr=_err(cy), fmt=marker,
                        ms=11, color="black", ecolor="black", elinewidth=0.8, zorder=4)
            ax.annotate(label, (cx["mean"], cy["mean"]), xytext=(6, 6),
                        textcoords="offset points", fontsize=7)
        else:
            ax.errorbar(cx["mean"], cy["mean"], xerr=_err(cx), yerr=_err(cy),
                        fmt=markers[str(r["selector"])], ms=5, color=colours[r["strategy"]],
                        ecolor=colours[r["strategy"]], elinewidth=0.6, alpha=0.85, zorder=3)
    front = pareto_front([r for r in rows if not r["reference"]], mx, my, gold)
    if front:
        pts = sorted((r["cells"][mx["name"]]["mean"], r["cells"][my["name"]]["mean"],
                      " / ".join(tx.row_label(r))) for r in front)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "--", color="crimson", lw=1,
                zorder=2)
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=110, facecolors="none",
                   edgecolors="crimson", linewidths=1.2, zorder=5)
        for i, (px, py, label) in enumerate(pts):  # staggered: neighbours' labels don't overlap
            ax.annotate(label, (px, py), xytext=(-7, 7 + 9 * (i % 3)), textcoords="offset points",
                        fontsize=6, color="crimson", ha="right")
    if my["log_scale"]:
        ax.set_yscale("log")
    ax.set_xlabel(tx.header(mx))
    ax.set_ylabel(tx.header(my))
    ax.grid(True, lw=0.3, alpha=0.6)


def pareto_front(rows: list[dict[str, Any]], mx: dict[str, Any], my: dict[str, Any],
                 gold: dict[str, float]) -> list[dict[str, Any]]:
    """Rows no other row beats on both metrics' means (direction-aware; ``gold``: metric ->
    retrain mean for match_gold metrics), in input order."""
    def keys(r: dict[str, Any]) -> tuple[float, float] | None:
        k = tuple(quality_key(r["cells"][m["name"]]["mean"], m["direction"], gold.get(m["name"]))
                  for m in (mx, my))
        return None if None in k else k  # type: ignore[return-value]

    scored = [(r, k) for r in rows if (k := keys(r)) is not None]
    return [r for r, (a, b) in scored
            if not any(c <= a and d <= b and (c, d) != (a, b) for _, (c, d) in scored)]


def _err(cell: dict[str, Any]) -> list[list[float]] | None:
    """Asymmetric whisker lengths from [lo, hi]; None for n=1."""
    if cell["lo"] is None:
        return None
    return [[max(cell["mean"] - cell["lo"], 0.0)], [max(cell["hi"] - cell["mean"], 0.0)]]


def _legend(colours: dict[str, Any], markers: dict[str, str]) -> list[Line2D]:
    def handle(label: str, **kw: Any) -> Line2D:
        return Line2D([], [], linestyle="none", label=label, **kw)

    return ([Line2D([], [], lw=5, color=c, label=s) for s, c in colours.items()]
            + [handle(f"selector: {s}", marker=m, color="grey") for s, m in markers.items()]
            + [handle(label, marker=mk, color="black", ms=9)
               for mk, label in REFERENCE_STYLE.values()]
            + [Line2D([], [], ls="--", color="crimson", marker="o", mfc="none",
                      label="Pareto front")])
