"""Pages from synthetic records: inline SVG plots, the coreset ablation and its sentence, rank
groups, verdict badges, n<3 flags, the index cards."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from test_leaderboards import make_record, write_results

from erasus_bench.harness.store import load_records
from erasus_bench.leaderboards.html import render_html, render_index
from erasus_bench.leaderboards.markdown import render_markdown
from erasus_bench.leaderboards.plotdata import ablation_sentence
from erasus_bench.leaderboards.text import coreset_answer
from erasus_bench.leaderboards.plots import front_labels
from erasus_bench.leaderboards.render import build_pages, render, stale_pages
from erasus_bench.leaderboards.summarise import summarise

# selector -> avg_gap by fraction (k_center is best at 10%); full: 0.010 at fraction 1
SWEEP = {"random": {0.05: 0.06, 0.1: 0.04, 0.3: 0.02},
         "k_center": {0.05: 0.03, 0.1: 0.012, 0.3: 0.011}}
FULL_GAP, FULL_TIME = 0.010, 2.0


def write_sweep(root: Path, budget: str | None = None, scale: float = 1.0) -> Path:
    results = root / "results"
    recs = []
    for seed in range(3):
        jitter = 0.001 * seed * scale
        recs += [make_record("original", None, None, seed, 0.2 + jitter),
                 make_record("retrain", None, None, seed, 0.0)]
        for sel, by_frac in SWEEP.items():
            for frac, gap in by_frac.items():
                r = make_record("finetune", sel, frac, seed, gap * scale + jitter)
                r["metrics"]["unlearn_time"] = FULL_TIME * frac + 0.01 * seed
                recs.append(r)
        r = make_record("finetune", "full", 1.0, seed, FULL_GAP * scale + jitter)
        r["metrics"]["unlearn_time"] = FULL_TIME + 0.01 * seed
        recs.append(r)
    for i, r in enumerate(recs):
        c = r["config"]
        if budget and c["strategy"] == "finetune":
            c["budget"] = budget
        path = results / "general" / "random_digits" / (
            f"{c['strategy']}__{c['selector']}__{c['fraction']}__{budget}__s{c['seed']}__{i}.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(r))
    return results


def test_ablation_plot_and_sentence(tmp_path: Path) -> None:
    results = write_sweep(tmp_path)
    pages = build_pages(results, tmp_path / "out")
    html = pages["general.html"].decode()
    assert 'aria-label="coreset ablation plot for finetune"' in html
    assert html.count("<svg") == 2 and "<?xml" not in html  # tradeoff + ablation, inline
    assert "No coreset ablation has been run" not in html
    summary = summarise(load_records(results), "general")
    sentence = ablation_sentence(summary, summary["variants"][0], "finetune")
    assert sentence is not None and sentence.startswith("finetune, 10% of the forget set")
    assert "the best of 2 selectors on these seeds (k_center)" in sentence
    assert "avg_gap 0.013 [" in sentence and "vs 0.011 [" in sentence
    assert "with the full forget set (the 95% CIs" in sentence
    assert "0.10x the full set's unlearning time" in sentence
    assert "the random control reaches 0.041" in sentence
    assert sentence in html.replace("&#39;", "'")
    assert "k_center" in pages["general.md"].decode().split("## Coreset ablation")[1]


def test_ablation_sentence_keeps_budget_regimes_apart(tmp_path: Path) -> None:
    write_sweep(tmp_path, "steps")
    results = write_sweep(tmp_path, "epochs", scale=3.0)
    summary = summarise(load_records(results), "general")
    (variant,) = summary["variants"]
    steps = ablation_sentence(summary, variant, "finetune", "steps")
    epochs = ablation_sentence(summary, variant, "finetune", "epochs")
    assert steps is not None and steps.startswith("finetune (steps budget), 10% of the forget")
    assert "avg_gap 0.013 [" in steps and "vs 0.011 [" in steps
    assert epochs is not None and "avg_gap 0.039 [" in epochs and "vs 0.033 [" in epochs
    assert ablation_sentence(summary, variant, "finetune") is None  # no rows without a regime
    answer = {r["table"] for r in coreset_answer(summary)}
    assert answer == {"steps", "epochs"}  # one table: only the regime tells the rows apart


def test_no_sweep_says_so_and_gives_the_command(tmp_path: Path) -> None:
    pages = build_pages(write_results(tmp_path), tmp_path / "out")
    html = pages["general.html"].decode()
    assert "No coreset ablation has been run for this variant" in html
    assert ("erasus-bench ablate --protocol general --strategy finetune "
            "--fractions 0.01,0.05,0.1,0.3,1.0 --scenario random") in html
    md = pages["general.md"].decode()
    assert "No sweep has been run; run it with `erasus-bench ablate" in md


def test_svg_is_deterministic_without_dates(tmp_path: Path) -> None:
    results = write_sweep(tmp_path)
    first = {p.name: p.read_bytes() for p in render(results, tmp_path / "a")}
    second = {p.name: p.read_bytes() for p in render(results, tmp_path / "b")}
    assert first == second
    html = first["general.html"].decode()
    assert "<dc:date>" not in html and not re.search(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(?!Z)",
                                                     html)


def test_plot_without_records_is_flagged_and_removed(tmp_path: Path) -> None:
    """A sweep plot whose records are gone (e.g. a strategy declared coreset-invariant) is
    named by ``render --check`` and removed by ``render``; other protocols' files are kept."""
    results, out = write_sweep(tmp_path), tmp_path / "out"
    sweep = [p.name for p in render(results, out) if "_ablation_" in p.name]
    assert sweep and stale_pages(results, out) == {}
    (out / "tofu_ablation_x.svg").write_text("<svg/>")
    for path in (results / "general" / "random_digits").glob("finetune__*"):
        if "__full__" not in path.name:
            path.unlink()
    assert {n: s for n, s in stale_pages(results, out).items() if s == "orphaned"} == \
        dict.fromkeys(sweep, "orphaned")
    removed = [p for p in render(results, out) if not p.exists()]
    assert sorted(p.name for p in removed) == sorted(sweep)
    assert (out / "tofu_ablation_x.svg").is_file()
    assert stale_pages(results, out) == {}


def _row(rows: list[dict[str, Any]], strategy: str) -> dict[str, Any]:
    return next(r for r in rows if r["strategy"] == strategy)


def test_front_labels_merge_identical_points_and_cap(tmp_path: Path) -> None:
    summary = summarise(load_records(write_results(tmp_path)), "general")
    metrics = {m["name"]: m for m in summary["metrics"]}
    base = _row(summary["variants"][0]["rows"], "finetune")
    twins = []
    for sel in ("a", "b", "c"):
        r = copy.deepcopy(base)
        r["selector"] = sel
        twins.append(r)
    labels = front_labels(twins, metrics["test_acc"], metrics["avg_gap"])
    assert [x[2] for x in labels] == ["finetune (3 selectors)"]
    many = []
    for i in range(20):
        r = copy.deepcopy(base)
        r["selector"] = f"s{i}"
        r["cells"]["test_acc"] = {**r["cells"]["test_acc"], "mean": 0.5 + i / 100}
        many.append(r)
    capped = front_labels(many, metrics["test_acc"], metrics["avg_gap"], limit=8)
    assert len(capped) == 8 and "/ s0 /" in capped[0][2] and "/ s19 /" in capped[-1][2]


def test_ranks_verdicts_and_small_n_render(tmp_path: Path) -> None:
    results = write_results(tmp_path)
    summary = summarise(load_records(results), "general")
    summary["verdict_rule"] = "PASS = equivalent to gold within margin 0.02"
    rows = summary["variants"][0]["rows"]
    for rank, (name, label) in enumerate((("finetune", "PASS"), ("gradient_ascent", "PARTIAL"),
                                          ("scrub", "FAIL")), start=1):
        row = _row(rows, name)
        row["ranks"] = {"avg_gap": {"lo": rank, "hi": 3, "label": f"{rank}-3"}}
        row["verdict"] = {"label": label, "reason": f"reason for {name}",
                          "metrics": {"avg_gap": {"margin": 0.02, "p_tost": 0.01}}}
    two = _row(rows, "finetune")["cells"]["avg_gap"]
    two["n"] = 2
    html = render_html(summary, record_base="../results", files={"json": "g.json",
                       "csv": "g.csv", "md": "g.md"})
    assert "<th data-type=\"num\" title=\"rank group" in html and ">1-3</td>" in html
    for cls in ("pass", "partial", "fail"):
        assert f'<span class="badge {cls}"' in html
    assert "PASS = equivalent to gold within margin 0.02" in html
    assert "margin=0.020" in html and "reason for scrub" in html
    assert '<span class="nflag">n&lt;3</span>' in html
    md = render_markdown(summary, record_base="../results")
    assert "| Rank | Strategy |" in md and "| 1-3 | finetune | random | 0.1 | 3 | **PASS** |" in md
    index = render_index([summary])
    assert "Leader: <strong>finetune / random / 0.1</strong>" in index
    assert "(rank 1-3)" in index and '<span class="badge pass"' in index
    assert "4 methods" in index and "(embedded default)" in index
    assert "Last run</dt><dd>2026-11-23T10:00:03Z" in index


def test_pages_render_without_ranks_or_verdicts(tmp_path: Path) -> None:
    summary = summarise(load_records(write_results(tmp_path)), "general")
    for v in summary["variants"]:
        for r in v["rows"]:
            r.pop("ranks", None)
            r.pop("verdict", None)
    summary.pop("verdict_rule", None)
    summary.pop("pairwise_rule", None)
    html = render_html(summary, record_base="../results", files={"json": "g.json",
                       "csv": "g.csv", "md": "g.md"})
    assert "badge" not in html.split("<table")[1] and ">Rank</th>" not in html
    assert "Leader: <strong>finetune / random / 0.1</strong>" in render_index([summary])


def test_published_reference_is_printed_where_the_card_has_one(tmp_path: Path) -> None:
    recs = load_records(write_results(tmp_path))
    assert summarise(recs, "general")["published"] is None
    muse = [{**r, "protocol": "muse"} for r in recs]
    summary = summarise(muse, "muse")
    assert "20.75" in summary["published"]  # MUSE-News retrain VerbMem, the paper's Table 3
    files = {"json": "m.json", "csv": "m.csv", "md": "m.md"}
    for page in (render_markdown(summary, record_base="../results"),
                 render_html(summary, record_base="../results", files=files)):
        line = next(x for x in page.splitlines() if "Published reference" in x)
        assert "KnowMem retain 53.79" in line and "not comparable" in line
    summary["provenance"]["data_is_default"] = False
    assert "not comparable" not in render_markdown(summary, record_base="../results")
