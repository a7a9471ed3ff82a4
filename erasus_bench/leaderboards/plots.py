"""The tradeoff plot of a summary: utility (x) against the primary metric (y), one point per
strategy x selector x fraction with 95% CI whiskers, Pareto front marked (reference rows are
drawn but never on the front); and the coreset ablation plot. Deterministic SVG (what is drawn
is decided in ``plotdata``, which needs no matplotlib)."""
from __future__ import annotations

import io
import logging
import math
from typing import Any

from matplotlib import colormaps, rc_context
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from erasus_bench.leaderboards import text as tx
from erasus_bench.leaderboards.plotdata import (TIME_METRIC, sweep_fractions, sweep_rows,
                                                tradeoff_panels)
from erasus_bench.leaderboards.ordering import gold_means, quality_key

# log-scale tick labels use mathtext, whose font lookups log a line per missing TeX font
logging.getLogger("matplotlib.mathtext").setLevel(logging.ERROR)
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)

MARKERS = "osD^vP<>hp*X"
REFERENCE_STYLE = {"original": ("X", "original (no unlearning)"),
                   "retrain": ("*", "retrain (gold)")}


def _panel(ax: Axes, rows: list[dict[str, Any]], mx: dict[str, Any], my: dict[str, Any],
           colours: dict[str, Any], markers: dict[str, str]) -> None:
    """Points with CI whiskers, reference rows as large black markers, Pareto front ringed.
    Whiskers are one line collection and points one scatter per selector, so the figure has
    a few artists whatever the number of rows (drawing time does not grow with the board)."""
    gold = gold_means(rows)
    methods = [r for r in rows if not r["reference"]]
    segments, seg_colours = [], []
    for r in rows:
        cx, cy = r["cells"][mx["name"]], r["cells"][my["name"]]
        colour = "black" if r["reference"] else colours[r["strategy"]]
        for lo_pt, hi_pt in _whiskers(cx, cy):
            segments.append((lo_pt, hi_pt))
            seg_colours.append(colour)
    if segments:
        ax.add_collection(LineCollection(segments, colors=seg_colours, linewidths=0.6,
                                         alpha=0.85, zorder=3), autolim=True)
    for selector, marker in markers.items():
        pts = [r for r in methods if str(r["selector"]) == selector]
        if pts:
            ax.scatter([r["cells"][mx["name"]]["mean"] for r in pts],
                       [r["cells"][my["name"]]["mean"] for r in pts], marker=marker, s=25,
                       c=[colours[r["strategy"]] for r in pts], alpha=0.85, zorder=3,
                       linewidths=0)
    for r in rows:
        if r["reference"]:
            cx, cy = r["cells"][mx["name"]], r["cells"][my["name"]]
            marker, label = REFERENCE_STYLE.get(r["strategy"], ("s", r["strategy"]))
            ax.scatter([cx["mean"]], [cy["mean"]], marker=marker, s=121, c="black", zorder=4)
            ax.annotate(label, (cx["mean"], cy["mean"]), xytext=(6, 6),
                        textcoords="offset points", fontsize=7)
    front = pareto_front(methods, mx, my, gold)
    if front:
        pts = sorted((r["cells"][mx["name"]]["mean"], r["cells"][my["name"]]["mean"])
                     for r in front)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "--", color="crimson", lw=1,
                zorder=2)
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=110, facecolors="none",
                   edgecolors="crimson", linewidths=1.2, zorder=5)
        labels = _declutter(front_labels(front, mx, my), rows, mx, my)
        for i, (px, py, label) in enumerate(labels):  # staggered: neighbours' labels don't overlap
            ax.annotate(label, (px, py), xytext=(-7, 7 + 9 * (i % 3)), textcoords="offset points",
                        fontsize=6, color="crimson", ha="right")
    if my["log_scale"]:
        ax.set_yscale("log")
    ax.autoscale_view()
    ax.set_xlabel(tx.header(mx))
    ax.set_ylabel(tx.header(my))
    ax.grid(True, lw=0.3, alpha=0.6)


def _declutter(labels: list[tuple[float, float, str]], rows: list[dict[str, Any]],
               mx: dict[str, Any], my: dict[str, Any], near: float = 0.05
               ) -> list[tuple[float, float, str]]:
    """Drop a label whose point lies within ``near`` of the panel's span (both axes) of an
    already kept one, so a tight cluster gets one label instead of an unreadable pile."""
    def tf(v: float, m: dict[str, Any]) -> float:
        return math.log10(max(v, 1e-300)) if m["log_scale"] else v

    xs = [tf(r["cells"][mx["name"]]["mean"], mx) for r in rows]
    ys = [tf(r["cells"][my["name"]]["mean"], my) for r in rows]
    dx, dy = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    kept: list[tuple[float, float, str]] = []
    for px, py, label in labels:
        if all(abs(tf(px, mx) - tf(kx, mx)) > near * dx or abs(tf(py, my) - tf(ky, my)) > near * dy
               for kx, ky, _ in kept):
            kept.append((px, py, label))
    return kept


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


def _whiskers(cx: dict[str, Any], cy: dict[str, Any]
              ) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """The CI segments of a point: horizontal [lo, hi] of x and vertical of y (none for n=1)."""
    x, y = cx["mean"], cy["mean"]
    out = []
    if cx["lo"] is not None:
        out.append(((cx["lo"], y), (cx["hi"], y)))
    if cy["lo"] is not None:
        out.append(((x, cy["lo"]), (x, cy["hi"])))
    return out


def _legend(colours: dict[str, Any], markers: dict[str, str]) -> list[Line2D]:
    def handle(label: str, **kw: Any) -> Line2D:
        return Line2D([], [], linestyle="none", label=label, **kw)

    return ([Line2D([], [], lw=5, color=c, label=s) for s, c in colours.items()]
            + [handle(f"selector: {s}", marker=m, color="grey") for s, m in markers.items()]
            + [handle(label, marker=mk, color="black", ms=9)
               for mk, label in REFERENCE_STYLE.values()]
            + [Line2D([], [], ls="--", color="crimson", marker="o", mfc="none",
                      label="Pareto front")])


# --- SVG output (embedded in the HTML page) ------------------------------------------------

SVG_RC = {"font.size": 8, "svg.fonttype": "none", "svg.hashsalt": "erasus-bench",
          "path.simplify": True}
MAX_FRONT_LABELS = 8


def figure_svg(fig: Figure, salt: str) -> str:
    """Deterministic SVG text (no date, fixed id salt, no XML prolog): inline in the HTML, and
    a valid standalone file (it carries its namespace)."""
    buf = io.StringIO()
    with rc_context({**SVG_RC, "svg.hashsalt": f"erasus-bench-{salt}"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg"):]


def tradeoff_figure(summary: dict[str, Any], *, x: str = "test_acc", y: str | None = None
                    ) -> Figure | None:
    """``y`` (default: the primary metric) against ``x``, one panel per variant; None when
    either metric is absent or no row has both."""
    metrics = {m["name"]: m for m in summary["metrics"]}
    y = y or summary["primary"]
    panels = tradeoff_panels(summary, x, y)
    if not panels:
        return None
    methods = [r for _, rows in panels for r in rows if not r["reference"]]
    strategies = sorted({r["strategy"] for r in methods})
    cmap = colormaps["tab10" if len(strategies) <= 10 else "tab20"]
    colours = {s: cmap(i % cmap.N) for i, s in enumerate(strategies)}
    markers = {s: MARKERS[i % len(MARKERS)]
               for i, s in enumerate(sorted({str(r["selector"]) for r in methods}))}
    with rc_context(SVG_RC):
        fig, axes = _framed(len(panels), panel_w=6.0, height=4.8, legend_w=2.4)
        for ax, (variant, rows) in zip(axes, panels):
            _panel(ax, rows, metrics[x], metrics[y], colours, markers)
            ax.set_title(variant["label"], fontsize=8)
        _legend_right(fig, _legend(colours, markers), legend_w=2.4)
    return fig


def _framed(n: int, *, panel_w: float, height: float, legend_w: float
            ) -> tuple[Figure, list[Axes]]:
    """A figure of ``n`` panels side by side and a legend column on the right, with fixed
    margins in inches (cheaper to draw than a constrained layout, and as stable)."""
    width = panel_w * n + legend_w
    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(left=0.75 / width, right=(width - legend_w - 0.1) / width,
                        bottom=0.55 / height, top=1 - 0.35 / height,
                        wspace=0.9 / (panel_w - 0.9))
    return fig, list(fig.subplots(1, n, squeeze=False)[0])


def _legend_right(fig: Figure, handles: list[Line2D], *, legend_w: float) -> None:
    width, height = fig.get_size_inches()
    fig.legend(handles=handles, loc="upper left", fontsize=7, frameon=False,
               bbox_to_anchor=((width - legend_w + 0.05) / width, 1 - 0.1 / height))


def front_labels(front: list[dict[str, Any]], mx: dict[str, Any], my: dict[str, Any],
                 limit: int = MAX_FRONT_LABELS) -> list[tuple[float, float, str]]:
    """(x, y, label) per distinct front position, sorted by x: rows at identical coordinates
    share one label ("l1_sparse (8 selectors)"); at most ``limit`` labels, the rest dropped."""
    groups: dict[tuple[float, float], list[dict[str, Any]]] = {}
    for r in front:
        key = (r["cells"][mx["name"]]["mean"], r["cells"][my["name"]]["mean"])
        groups.setdefault(key, []).append(r)
    out = []
    for (px, py), rows in sorted(groups.items()):
        strategies = sorted({r["strategy"] for r in rows})
        if len(rows) == 1:
            label = " / ".join(tx.row_label(rows[0]))
        elif len(strategies) == 1:
            label = f"{strategies[0]} ({len(rows)} selectors)"
        else:
            label = f"{len(rows)} methods ({', '.join(strategies[:3])}" + \
                    (", …)" if len(strategies) > 3 else ")")
        out.append((px, py, label))
    if len(out) > limit:  # keep an evenly spread subset, the two ends included
        idx = sorted({round(i * (len(out) - 1) / (limit - 1)) for i in range(limit)})
        out = [out[i] for i in idx]
    return out


# --- coreset ablation ----------------------------------------------------------------------

def _band_line(ax: Axes, pts: list[tuple[float, dict[str, Any]]], ls: str, colour: Any,
               lw: float, label: str, **kw: Any) -> Line2D:
    """A line through the cells' means at their x, with markers, over its 95% CI band (a
    point without an interval adds none)."""
    xs, ys = [x for x, _ in pts], [c["mean"] for _, c in pts]
    lo = [c["lo"] if c["lo"] is not None else c["mean"] for _, c in pts]
    hi = [c["hi"] if c["hi"] is not None else c["mean"] for _, c in pts]
    (line,) = ax.plot(xs, ys, ls, marker="o", ms=3, color=colour, lw=lw, label=label, **kw)
    ax.fill_between(xs, lo, hi, color=colour, alpha=0.12, lw=0)
    return line


def ablation_svg(summary: dict[str, Any], variant: dict[str, Any], strategy: str,
                 budget: str | None = None) -> str | None:
    """Primary metric and unlearning time vs fraction for ``strategy`` (in regime ``budget``):
    one line per selector with its CI band, ``random`` (control) dashed black, ``full`` a
    horizontal ceiling band."""
    primary = summary["primary"]
    metrics = {m["name"]: m for m in summary["metrics"]}
    rows = sweep_rows(variant, strategy, budget)
    fracs = sweep_fractions(rows, strategy)
    if len(fracs) < 2:
        return None
    panels = [m for m in (primary, TIME_METRIC) if m in metrics]
    selectors = sorted({r["selector"] for r in rows if r["selector"] not in ("full", None)})
    cmap = colormaps["tab10"]
    with rc_context(SVG_RC):
        fig, axes = _framed(len(panels), panel_w=5.0, height=4.0, legend_w=2.2)
        handles: list[Line2D] = []
        for ax, name in zip(axes, panels):
            handles = []
            for i, sel in enumerate(selectors):
                pts = sorted((r["fraction"], r["cells"][name]) for r in rows
                             if r["selector"] == sel and r["cells"].get(name))
                if not pts:
                    continue
                control = sel == "random"
                colour = "black" if control else cmap(i % cmap.N)
                handles.append(_band_line(ax, pts, "--" if control else "-", colour,
                                          1.6 if control else 1.0,
                                          "random (control)" if control else sel,
                                          zorder=4 if control else 3))
            full = next((r["cells"].get(name) for r in rows if r["selector"] == "full"), None)
            if full:
                ax.axhline(full["mean"], color="crimson", lw=1.2, ls=":", zorder=2)
                if full["lo"] is not None:
                    ax.axhspan(full["lo"], full["hi"], color="crimson", alpha=0.08, lw=0)
                handles.append(Line2D([], [], color="crimson", ls=":",
                                      label="full forget set (ceiling)"))
            ax.set_xscale("log")
            ax.set_xlabel("coreset fraction of the forget set")
            ax.set_ylabel(tx.header(metrics[name]))
            if metrics[name]["log_scale"]:
                ax.set_yscale("log")
            ax.grid(True, lw=0.3, alpha=0.6)
            ax.set_title(f"{strategy}: {metrics[name]['display']}", fontsize=8)
        _legend_right(fig, handles, legend_w=2.2)
    return figure_svg(fig, f"ablation-{variant['id']}-{strategy}-{budget}")



def curves_svg(summary: dict[str, Any], curves: dict[str, Any], salt: str) -> str | None:
    """Each curve metric against the curves' x (``text.sequence_curves`` /
    ``text.series_curves``), one line per row with its 95% CI band; retrain dashed black,
    original dotted grey; None when no line has a value."""
    lines = curves["lines"]
    panels = [m for m in curves.get("metrics") or tx.curve_metrics(summary)
              if any(p["cells"].get(m["name"]) for q in lines for p in q["points"].values())]
    if not panels:
        return None
    position = {x: i for i, x in enumerate(curves["xs"])}
    cmap = colormaps["tab10" if len(lines) <= 10 else "tab20"]
    styles = {"retrain": ("black", "--", 1.6), "original": ("grey", ":", 1.4)}
    with rc_context(SVG_RC):
        fig, axes = _framed(len(panels), panel_w=4.2, height=3.6, legend_w=2.8)
        handles: list[Line2D] = []
        for ax, metric in zip(axes, panels):
            handles = []
            for i, q in enumerate(lines):
                pts = [(position[x], p["cells"][metric["name"]]) for x, p in
                       sorted(q["points"].items(), key=lambda kv: position[kv[0]])
                       if p["cells"].get(metric["name"])]
                if not pts:
                    continue
                colour, ls, lw = (styles[q["strategy"]] if q["reference"]
                                  and q["strategy"] in styles else (cmap(i % cmap.N), "-", 1.0))
                handles.append(_band_line(ax, pts, ls, colour, lw, q["label"]))
            ax.set_xlabel(curves["xlabel"])
            ax.set_xticks(range(len(curves["xs"])), [str(x) for x in curves["xs"]])
            ax.set_ylabel(tx.header(metric))
            if metric["log_scale"]:
                ax.set_yscale("log")
            ax.grid(True, lw=0.3, alpha=0.6)
            ax.set_title(metric["display"], fontsize=8)
        _legend_right(fig, handles, legend_w=2.8)
    return figure_svg(fig, salt)
