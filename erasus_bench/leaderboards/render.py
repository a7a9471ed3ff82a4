"""``erasus-bench render``: results/ -> leaderboards/ (summary JSON, CSV, Markdown, HTML and SVG
plots per protocol, plus index.html). Deterministic: the same records give byte-identical files
on any machine (numbers are rounded, see ``harness.precision``).

Incremental: ``leaderboards/.render-inputs.sha256`` holds, per protocol, the digest of its record
files and of the code that turns records into pages. A protocol whose digest is unchanged and
whose pages exist is not recomputed; the index reads its summary back from ``<protocol>.json``
(which is the summary). ``render --check`` never reuses: it recomputes every page.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from erasus_bench.errors import UserError
from erasus_bench.harness.store import BadRecords, scan_records
from erasus_bench.leaderboards.plotdata import plot_files

INDEX = "index.html"
DIGEST = ".render-inputs.sha256"  # per protocol: digest of the inputs its pages come from
PACKAGE = Path(__file__).resolve().parents[1]
# the code that turns records into pages (relative to the package): its bytes enter each digest
PAGE_CODE = ("leaderboards/*.py", "leaderboards/templates/*", "harness/stats.py",
             "harness/compare.py", "harness/verdict.py", "harness/precision.py",
             "harness/spec.py", "harness/store.py", "harness/budget.py", "metrics/spec.py",
             "metrics/catalogue.py", "protocols/card.py", "protocols/*/__init__.py")
ABLATION_FRACTIONS = "0.01,0.05,0.1,0.3,1.0"


@dataclass
class RenderPlan:
    """What a render writes: ``pages`` (file name -> bytes) of the ``rendered`` protocols and
    the index, and the protocols ``reused`` unchanged from the pages already there."""

    pages: dict[str, bytes] = field(default_factory=dict)
    rendered: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)  # plots of rendered protocols, unnamed now


def ablate_command(protocol: str, strategy: str | None, config: dict[str, Any],
                   budget: str | None = None) -> str:
    """The command that runs the coreset sweep for ``strategy`` on one variant (and regime)."""
    scenario = f" --scenario {config['scenario']}" if "scenario" in config else ""
    regime = f" --budgets {budget}" if budget else ""
    return (f"erasus-bench ablate --protocol {protocol} --strategy {strategy or 'STRATEGY'}"
            f" --fractions {ABLATION_FRACTIONS}{scenario}{regime}")


def code_digest() -> str:
    """SHA-256 of the page code's files (``PAGE_CODE``): the summary code's version."""
    h = hashlib.sha256()
    for pattern in PAGE_CODE:
        for path in sorted(PACKAGE.glob(pattern)):
            h.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def protocol_digests(results_dir: str | Path) -> dict[str, str]:
    """Protocol -> SHA-256 of its record files (``results/<protocol>/**/*.json``, names and
    bytes) and of the page code, for every protocol folder holding a ``*.json`` file."""
    root, code = Path(results_dir), code_digest()
    out = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        files = sorted(folder.glob("**/*.json"))
        if not files:
            continue
        h = hashlib.sha256(code.encode())
        for path in files:
            h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
        out[folder.name] = h.hexdigest()
    return out


def digest_text(digests: dict[str, str]) -> str:
    """The digest file: ``<sha256>  <protocol>`` per line, sorted (sha256sum style)."""
    return "".join(f"{d}  {p}\n" for p, d in sorted(digests.items()))


def read_digests(out_dir: str | Path) -> dict[str, str]:
    """The digest file in ``out_dir`` as protocol -> digest ({} when absent or unreadable)."""
    path = Path(out_dir) / DIGEST
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    return {p: d for d, _, p in (line.partition("  ") for line in lines) if p}


def page_names(summary: dict[str, Any]) -> list[str]:
    """The files of a protocol's pages: summary JSON, CSV, Markdown, HTML and SVG plots."""
    p = summary["protocol"]
    return [f"{p}.{ext}" for ext in ("json", "csv", "md", "html")] + \
        sorted(plot_files(summary).values())


def plan_render(results_dir: str | Path, out_dir: str | Path,
                protocols: Sequence[str] | None = None, *, reuse: bool = True) -> RenderPlan:
    """The pages of ``protocols`` (default: every protocol with records) and the index.

    With ``reuse``, a protocol whose digest matches the digest file in ``out_dir`` and whose
    pages are all there is not recomputed: its summary is read back from ``<protocol>.json``.
    Raises :class:`BadRecords` when any record file cannot be read. Writes nothing.
    """
    root, out = Path(results_dir), Path(out_dir)
    if not root.is_dir():
        raise UserError(f"results folder {str(root)!r} does not exist or is not a folder")
    digests = protocol_digests(root)
    old = read_digests(out) if reuse else {}
    missing = sorted(set(protocols or ()) - set(digests))
    if missing:
        raise UserError(f"no records for protocol(s) {', '.join(missing)} under "
                        f"{str(results_dir)!r}; present: {', '.join(digests) or 'none'}")
    plan = RenderPlan()
    summaries: dict[str, dict[str, Any]] = {}
    texts: dict[str, str] = {}
    for p in digests:
        cached = _cached_summary(out, p) if old.get(p) == digests[p] else None
        if cached is not None:
            summaries[p] = cached
            plan.reused.append(p)
            continue
        texts[p] = _fresh_summary(root, p)
        summaries[p] = json.loads(texts[p])  # as the JSON page reads back, like a reused one
        if protocols is None or p in protocols:
            plan.rendered.append(p)
    record_base = Path(os.path.relpath(root.resolve(), out.resolve())).as_posix()
    for p in plan.rendered:
        plan.pages.update(protocol_pages(summaries[p], record_base, texts[p]))
    written = {**old, **{p: digests[p] for p in plan.rendered + plan.reused}}
    plan.pages[DIGEST] = digest_text({p: written[p] for p in digests if p in written}).encode()
    plan.pages[INDEX] = _index(summaries.values())
    plan.orphans = sorted(path.name for p in plan.rendered for path in out.glob(f"{p}_*.svg")
                          if path.name not in plan.pages)
    return plan


def _fresh_summary(root: Path, protocol: str) -> str:
    """``protocol``'s summary from its records, as the text of its JSON page."""
    from erasus_bench.leaderboards.summarise import summarise, summary_to_json

    records, bad = scan_records(root, protocol)
    if bad:
        raise BadRecords(bad, root)
    return summary_to_json(summarise(records, protocol))


def _cached_summary(out: Path, protocol: str) -> dict[str, Any] | None:
    """The summary in ``out/<protocol>.json`` when it and every page it implies exist."""
    try:
        summary = json.loads((out / f"{protocol}.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(summary, dict) or summary.get("protocol") != protocol:
        return None
    try:
        complete = all((out / n).is_file() for n in page_names(summary))
    except (KeyError, TypeError):  # a summary of another schema: recompute
        return None
    return summary if complete else None


def protocol_pages(summary: dict[str, Any], record_base: str, summary_json: str
                   ) -> dict[str, bytes]:
    """File name -> content of one protocol's pages: summary JSON (``summary_json``, the text
    ``summary`` was read from), CSV, Markdown, HTML and the SVG plots (inline in the HTML,
    linked from the Markdown)."""
    # imported here so that a run whose pages are up to date does not pay for them
    from erasus_bench.leaderboards.html import render_html
    from erasus_bench.leaderboards.markdown import render_markdown
    from erasus_bench.leaderboards.plotdata import (ablation_key, ablation_sentence,
                                                    ablation_strategy, swept_strategies,
                                                    tradeoff_axes)
    from erasus_bench.leaderboards.plots import (ablation_svg, curves_svg, figure_svg,
                                                 tradeoff_figure)
    from erasus_bench.leaderboards.text import (curve_tables, relearn_curves, sequence_curves,
                                                series_curves)
    from erasus_bench.leaderboards.summarise import summary_to_csv

    p = summary["protocol"]
    files = {"json": f"{p}.json", "csv": f"{p}.csv", "md": f"{p}.md", "html": f"{p}.html"}
    names = plot_files(summary)
    pages: dict[str, bytes] = {}
    plots: dict[str, Any] = {"tradeoff": None, "ablations": [], "requests": [], "series": [],
                             "relearn": []}
    if "tradeoff" in names:
        x, y = tradeoff_axes(summary)
        files["plot"] = names["tradeoff"]
        plots["tradeoff"] = figure_svg(tradeoff_figure(summary, x=x, y=y), "tradeoff")
        pages[files["plot"]] = plots["tradeoff"].encode()
    for v in summary["variants"]:
        fallback, _ = ablation_strategy(v, summary["primary"])
        for strategy, budget in swept_strategies(v) or [(fallback, None)]:
            name = names.get(f"ablation-{ablation_key(v, strategy, budget)}")
            svg = ablation_svg(summary, v, strategy, budget) if name and strategy else None
            if name and svg:
                pages[name] = svg.encode()
            plots["ablations"].append({
                "id": v["id"], "label": (f"{v['label']} · {strategy}"
                                         + (f" · {budget}" if budget else "")) if name
                else v["label"],
                "strategy": strategy, "swept": bool(name), "svg": svg, "file": name,
                "sentence": ablation_sentence(summary, v, strategy, budget) if strategy else None,
                "command": ablate_command(p, strategy, v.get("protocol_config", {}), budget),
            })
    curves = [("requests", f"requests-{v['id']}", v["label"], sequence_curves(v))
              for v in summary["variants"] if v.get("sequences")]
    curves += [("series", f"series-{c['id']}", c["label"], c) for c in series_curves(summary)]
    curves += [("relearn", f"relearn-{v['id']}", v["label"], relearn_curves(v))
               for v in summary["variants"] if v.get("relearn")]
    for kind, key, label, c in curves:
        name = names[key]
        svg = curves_svg(summary, c, key)
        if svg:
            pages[name] = svg.encode()
        plots[kind].append({"label": label, "svg": svg, "file": name if svg else None,
                            "tables": curve_tables(summary, c)})
    pages[files["json"]] = summary_json.encode()
    pages[files["csv"]] = summary_to_csv(summary).encode()
    pages[files["md"]] = render_markdown(summary, record_base=record_base, plot=files.get("plot"),
                                         ablations=plots["ablations"],
                                         requests=plots["requests"],
                                         series=plots["series"], relearn=plots["relearn"],
                                         series_option=summary.get("series_option")).encode()
    pages[files["html"]] = render_html(summary, record_base=record_base, files=files,
                                       plots=plots).encode()
    return pages


def _index(summaries: Iterable[dict[str, Any]]) -> bytes:
    from erasus_bench.leaderboards.html import render_index

    return render_index(list(summaries)).encode()


def build_pages(results_dir: str | Path, out_dir: str | Path,
                protocols: Sequence[str] | None = None) -> dict[str, bytes]:
    """File name -> content of every page for ``protocols`` (default: all with records), the
    index and the digest file, all recomputed from the records. Writes nothing."""
    return plan_render(results_dir, out_dir, protocols, reuse=False).pages


def render(results_dir: str | Path, out_dir: str | Path,
           protocols: Sequence[str] | None = None, *, reuse: bool = True) -> list[Path]:
    """Write the pages of :func:`plan_render` into ``out_dir``, each only when its bytes
    changed, and remove its orphaned plots (e.g. the sweep of a strategy whose records are
    gone); returns the paths changed, written or removed (empty when all was up to date)."""
    out = Path(out_dir)
    plan = plan_render(results_dir, out, protocols, reuse=reuse)
    out.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, data in plan.pages.items():
        path = out / name
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
            changed.append(path)
    for name in plan.orphans:
        (out / name).unlink()
        changed.append(out / name)
    return changed


def stale_pages(results_dir: str | Path, out_dir: str | Path,
                protocols: Sequence[str] | None = None) -> dict[str, str]:
    """Pages of ``out_dir`` that are ``missing``, ``differ`` from a fresh render, or are
    ``orphaned`` plots that no record produces any more, name -> state (for ``render
    --check``); empty when the committed pages are up to date. The digest file is not a page:
    it keys the reuse of pages, and changes with any byte of a record, also where the pages do
    not (``tests/test_committed.py`` keeps the committed one current)."""
    out = Path(out_dir)
    plan = plan_render(results_dir, out, protocols, reuse=False)
    stale = {name: "missing" if not (out / name).is_file() else "differs"
             for name, data in plan.pages.items()
             if name != DIGEST and (not (out / name).is_file()
                                    or (out / name).read_bytes() != data)}
    return {**stale, **dict.fromkeys(plan.orphans, "orphaned")}
