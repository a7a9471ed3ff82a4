"""Summaries and pages from synthetic records in the contract's shape."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from erasus_bench.harness.store import load_records
from erasus_bench.leaderboards.plots import pareto_front
from erasus_bench.leaderboards.render import render, stale_pages
from erasus_bench.leaderboards.summarise import summarise, summary_to_json
from erasus_bench.metrics.spec import MetricSpec

PC = {"scenario": "random", "dataset": "digits", "forget_fraction": 0.1, "forget_class": 0}
# (strategy, selector, fraction) -> avg_gap per seed; test_acc = 0.9 - avg_gap
GRID: dict[tuple[str, str | None, float | None], list[float]] = {
    ("original", None, None): [0.20, 0.22, 0.21],
    ("retrain", None, None): [0.0, 0.0, 0.0],
    ("gradient_ascent", "random", 0.1): [0.05, 0.07, 0.06],
    ("finetune", "random", 0.1): [0.02, 0.03, 0.025],
    ("scrub", "herding", 0.5): [0.10, 0.12, 0.08],
}


def make_record(strategy: str, selector: str | None, fraction: float | None, seed: int,
                gap: float | None, status: str = "ok", pc: dict[str, Any] = PC
                ) -> dict[str, Any]:
    ok = status == "ok"
    return {
        "schema": "erasus-bench/record/1", "protocol": "general",
        "config": {"strategy": strategy, "selector": selector, "fraction": fraction,
                   "seed": seed, "hparams": {}, "protocol_config": pc},
        "config_hash": f"{strategy}{seed}", "status": status,
        "error": None if ok else "RuntimeError: diverged (at x.py:1)",
        "metrics": {"avg_gap": gap, "test_acc": 0.9 - gap, "forget_quality": 10 ** -(1 + seed),
                    "speedup": None if strategy == "original" else 4.0 + seed} if ok else {},
        "per_example": {}, "timings": {},
        "env": {"erasus_bench": "0.1.0", "torch": "2.13.0", "git_commit": "abc123",
                "device": "cpu"},
        "provenance": {"data": "scikit-learn load_digits", "data_is_default": True,
                       "model": "MLP 64-128-128-10"},
        "command": "erasus-bench run --protocol general",
        "created": f"2026-11-23T10:00:0{seed}Z",
    }


def write_results(root: Path) -> Path:
    """A results/ folder with GRID over three seeds plus one failed and one all-failed row."""
    results = root / "results"
    recs = [make_record(*key, seed, gap) for key, gaps in GRID.items()
            for seed, gap in enumerate(gaps)]
    recs += [make_record("scrub", "herding", 0.5, 3, None, status="failed"),
             make_record("salun", "random", 0.1, 0, None, status="failed")]
    for r in recs:
        c = r["config"]
        name = (f"{c['strategy']}__s{c['seed']}" if c["selector"] is None
                else f"{c['strategy']}__{c['selector']}__f{c['fraction']:g}__s{c['seed']}")
        path = results / "general" / "random_digits" / f"{name}__{r['config_hash']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(r))
    return results


@pytest.fixture
def summary(tmp_path: Path) -> dict[str, Any]:
    return summarise(load_records(write_results(tmp_path)), "general")


def _rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    (variant,) = summary["variants"]
    return variant["rows"]


def test_rows_pinned_then_sorted_by_primary(summary: dict[str, Any]) -> None:
    order = [(r["strategy"], r["selector"]) for r in _rows(summary)]
    assert order == [("original", None), ("retrain", None), ("finetune", "random"),
                     ("gradient_ascent", "random"), ("scrub", "herding"), ("salun", "random")]
    assert summary["primary"] == "avg_gap"
    assert [m["name"] for m in summary["metrics"]][:4] == ["avg_gap", "forget_acc",
                                                          "retain_acc", "test_acc"]


def test_sorting_follows_direction(tmp_path: Path) -> None:
    recs = load_records(write_results(tmp_path))
    spec = MetricSpec("test_acc", "Test acc.", "higher", "", ("general",), primary=("general",))
    rows = _rows(summarise(recs, "general", specs=[spec]))
    # higher test_acc first = lower gap first; the all-failed row stays last
    assert [r["strategy"] for r in rows][2:] == ["finetune", "gradient_ascent", "scrub", "salun"]
    gold = MetricSpec("avg_gap", "Gap", "match_gold", "", ("general",), primary=("general",))
    rows = _rows(summarise(recs, "general", specs=[gold]))  # retrain's gap is 0: same order
    assert [r["strategy"] for r in rows][2:] == ["finetune", "gradient_ascent", "scrub", "salun"]


def test_cells_failures_paths_and_provenance(summary: dict[str, Any]) -> None:
    rows = {r["strategy"]: r for r in _rows(summary)}
    scrub = rows["scrub"]
    assert scrub["seeds"] == [0, 1, 2] and scrub["n_failed"] == 1
    assert [r["seed"] for r in scrub["records"]] == [0, 1, 2, 3]
    assert scrub["records"][3]["error"].startswith("RuntimeError")
    assert all(r["path"].startswith("general/random_digits/scrub__herding__f0.5__s")
               for r in scrub["records"])
    gap = scrub["cells"]["avg_gap"]
    assert gap["mean"] == pytest.approx(0.10) and gap["n"] == 3
    assert gap["lo"] < 0.10 < gap["hi"]
    assert rows["retrain"]["cells"]["avg_gap"]["method"] == "degenerate"
    assert rows["original"]["cells"]["speedup"] is None  # null in every record
    assert rows["salun"]["n_failed"] == 1 and rows["salun"]["cells"]["avg_gap"] is None
    fq = rows["finetune"]["cells"]["forget_quality"]  # p-values 0.1, 0.01, 0.001: log scale
    assert fq["scale"] == "log10" and fq["mean"] == pytest.approx(0.01)
    p = summary["provenance"]
    assert p["seeds"] == [0, 1, 2, 3] and p["data_is_default"] is True
    assert p["date"] == "2026-11-23T10:00:03Z" and p["git_commits"] == ["abc123"]
    assert p["n_failed"] == 2 and p["sources"]["model"] == ["MLP 64-128-128-10"]
    json.loads(summary_to_json(summary))  # strict JSON (no NaN)


def test_variants_get_separate_tables(tmp_path: Path) -> None:
    recs = [make_record("finetune", "random", 0.1, s, 0.1, pc=pc) for s in range(2)
            for pc in (PC, {**PC, "scenario": "class"})]
    for i, r in enumerate(recs):
        r["path"] = f"r{i}.json"
    s = summarise(recs, "general")
    assert [v["label"].split(", ")[-1] for v in s["variants"]] == ["scenario=class",
                                                                  "scenario=random"]
    assert all(len(v["rows"]) == 1 and v["rows"][0]["seeds"] == [0, 1] for v in s["variants"])


def test_tables_leave_out_columns_no_row_has(tmp_path: Path) -> None:
    """A metric with no value in any row of a table (an attack on imported logs) is left out
    of that table only; "nothing removed" (the stage ran, nothing to recover) is a value."""
    from erasus_bench.leaderboards import text as tx
    from erasus_bench.leaderboards.markdown import render_markdown

    attacked, unattacked, nothing = (
        {**PC, "scenario": s} for s in ("attacked", "unattacked", "nothing"))
    recs = [make_record("finetune", "random", 0.1, s, 0.1, pc=pc) for s in range(2)
            for pc in (attacked, unattacked, nothing)]
    for i, r in enumerate(recs):
        r["path"] = f"r{i}.json"
        if r["config"]["protocol_config"] is not unattacked:
            r["config"]["attacks"] = ["relearn"]
            r["metrics"]["relearn_recovery"] = (
                0.25 if r["config"]["protocol_config"] is attacked else None)
    s = summarise(recs, "general")
    shown = {v["label"].split("scenario=")[1].split(",")[0]:
             {m["name"] for m in tx.table_metrics(s, v)} for v in s["variants"]}
    assert "relearn_recovery" in shown["attacked"] and "relearn_recovery" in shown["nothing"]
    assert "relearn_recovery" not in shown["unattacked"]
    assert "avg_gap" in shown["unattacked"] and "forget_acc" not in shown["attacked"]
    page = render_markdown(s, record_base="../results")
    heads = [line for line in page.splitlines() if line.startswith("| Strategy")]
    assert sum("Relearn recov." in h for h in heads) == 2 and len(heads) == 3


def test_pareto_front(summary: dict[str, Any]) -> None:
    metrics = {m["name"]: m for m in summary["metrics"]}
    rows = [r for r in _rows(summary) if not r["reference"] and r["seeds"]]
    rows[1]["cells"]["test_acc"] = {**rows[1]["cells"]["test_acc"], "mean": 0.99}
    front = pareto_front(rows, metrics["test_acc"], metrics["avg_gap"], {})
    # finetune has the lowest gap; gradient_ascent now the best test_acc; scrub is dominated
    assert [r["strategy"] for r in front] == ["finetune", "gradient_ascent"]


def test_render_is_deterministic_and_self_contained(tmp_path: Path) -> None:
    results = write_results(tmp_path)
    out = tmp_path / "leaderboards"
    first = {p.name: p.read_bytes() for p in render(results, out)}
    assert set(first) == {"general.md", "general.html", "general.json", "general.csv",
                          "general_tradeoff.svg", "index.html", ".render-inputs.sha256"}
    svg = first["general_tradeoff.svg"].decode()
    assert svg.startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in svg
    assert svg in first["general.html"].decode()  # the same plot, inline in the page
    assert "![tradeoff plot](general_tradeoff.svg)" in first["general.md"].decode()
    second = {p.name: p.read_bytes() for p in render(results, tmp_path / "again")}
    assert first == second
    assert stale_pages(results, out) == {}
    html = first["general.html"].decode()
    assert "embedded default data, not a published benchmark" in html
    assert "scikit-learn load_digits" in html and "MLP 64-128-128-10" in html
    assert 'href="../results/general/random_digits/scrub__herding__f0.5__s3__scrub3.json"' in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<script>" in html and "<style>" in html
    assert re.search(r"0\.100 <span class=\"ci\">\[0\.0\d\d, 0\.1\d\d\]</span>", html)
    md = first["general.md"].decode()
    assert md.index("## Provenance") < md.index("| Strategy")
    assert "[s3 ✗](../results/general/random_digits/scrub__herding__f0.5__s3__scrub3.json)" in md
    salun = next(line for line in md.splitlines() if "| salun | random | 0.1 | 0 |" in line)
    assert "| failed |" in salun  # columns between (rank, verdict) belong to the page layout


def test_stale_page_detected(tmp_path: Path) -> None:
    results = write_results(tmp_path)
    out = tmp_path / "leaderboards"
    render(results, out)
    path = next((results / "general" / "random_digits").glob("finetune__random__f0.1__s0*"))
    rec = json.loads(path.read_text())
    rec["metrics"]["avg_gap"] += 0.123
    path.write_text(json.dumps(rec))
    assert "general.json" in stale_pages(results, out)
