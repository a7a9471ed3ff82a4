"""`render --check`, `report` and `ablate` through the command line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_leaderboards import write_results


def cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "erasus_bench.cli", *args], cwd=cwd,
                          capture_output=True, text=True, env=dict(os.environ))


def test_render_check_names_stale_and_missing_pages(tmp_path: Path) -> None:
    write_results(tmp_path)
    assert cli(["render"], tmp_path).returncode == 0
    ok = cli(["render", "--check"], tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "match" in ok.stdout
    before = {p.name: p.read_bytes() for p in (tmp_path / "leaderboards").iterdir()}
    path = next((tmp_path / "results").rglob("finetune__random__f0.1__s0*"))
    rec = json.loads(path.read_text())
    rec["metrics"]["avg_gap"] += 0.123
    path.write_text(json.dumps(rec))
    (tmp_path / "leaderboards" / "index.html").unlink()
    bad = cli(["render", "--check"], tmp_path)
    assert bad.returncode == 1
    assert "leaderboards/general.json (differs)" in bad.stderr
    assert "leaderboards/index.html (missing)" in bad.stderr
    # --check writes nothing
    after = {p.name: p.read_bytes() for p in (tmp_path / "leaderboards").iterdir()}
    assert after == {k: v for k, v in before.items() if k != "index.html"}


def test_report_json_csv_md_and_table(tmp_path: Path) -> None:
    write_results(tmp_path)
    r = cli(["report", "--protocol", "general", "--format", "json"], tmp_path)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    cells = [c for v in rep["variants"] for row in v["rows"] for c in row["cells"].values() if c]
    assert cells and all({"mean", "lo", "hi"} <= set(c) for c in cells)
    assert all(c["lo"] <= c["mean"] <= c["hi"] for c in cells if c["lo"] is not None)
    assert [row["strategy"] for row in rep["variants"][0]["rows"]][:2] == ["original", "retrain"]
    csv = cli(["report", "--protocol", "general", "--format", "csv"], tmp_path)
    assert csv.returncode == 0 and csv.stdout.startswith("protocol,variant,strategy")
    md = cli(["report", "--protocol", "general", "--format", "md"], tmp_path)
    assert md.returncode == 0 and "| Strategy |" in md.stdout
    table = cli(["report", "--protocol", "general"], tmp_path)
    assert table.returncode == 0, table.stderr
    assert "finetune" in table.stdout and "original (ref.)" in table.stdout
    assert "Avg. gap" in table.stdout


@pytest.mark.parametrize("args, expected", [
    (["report", "--protocol", "nope"], "general"),
    (["report", "--protocol", "general", "--results-dir", "missing"], "missing"),
    (["report", "--protocol", "general", "--format", "xml"], "table"),
    (["ablate", "--protocol", "general", "--strategy", "finetun"], "finetune"),
    (["ablate", "--protocol", "general", "--strategy", "gradient_ascent", "--fractions",
      "0,0.1"], "fraction"),
    (["ablate", "--protocol", "nope", "--strategy", "finetune"], "general"),
    (["ablate", "--protocol", "general", "--strategy", "gradient_ascent", "--selectors", "nope"],
     "random"),
    (["ablate", "--protocol", "general", "--strategy", "fisher_forgetting"],
     "coreset-invariant"),
    (["render", "--check", "--results-dir", "missing"], "missing"),
])
def test_bad_input_exits_2(args: list[str], expected: str, tmp_path: Path) -> None:
    r = cli(args, tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and expected in r.stderr


def test_ablate_runs_the_sweep_and_renders_it(tmp_path: Path, cache_dir: str) -> None:
    r = cli(["ablate", "--protocol", "general", "--strategy", "gradient_ascent", "--selectors",
             "random,k_center", "--fractions", "0.05,0.1", "--seeds", "1", "--workers", "1",
             "--budgets", "steps"], tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    recs = [json.loads(p.read_text()) for p in (tmp_path / "results").rglob("*.json")]
    assert sorted((x["config"]["selector"] or "", x["config"]["fraction"] or 0) for x in recs) \
        == [("", 0), ("", 0), ("k_center", 0.05), ("k_center", 0.1), ("random", 0.05),
            ("random", 0.1)]
    html = (tmp_path / "leaderboards" / "general.html").read_text()
    assert 'aria-label="coreset ablation plot for gradient_ascent"' in html
