"""End to end through the installed `erasus-bench` command: a reduced grid, cached rerun,
resume after a kill, failed cells from a broken plugin, bad input."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import erasus_bench

REDUCED = ["--strategies", "gradient_ascent,finetune", "--selectors", "random,loss",
           "--seeds", "2"]


def cli(args: list[str], cwd: Path, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "erasus_bench.cli", *args], cwd=cwd,
                          capture_output=True, text=True, env={**os.environ, **(env or {})}, **kw)


def records(root: Path) -> dict[str, dict]:
    return {str(p): json.loads(p.read_text()) for p in sorted(root.glob("results/**/*.json"))}


def test_reduced_grid_end_to_end_and_cached_rerun(tmp_path: Path, cache_dir: str) -> None:
    r = cli(["run", "--protocol", "general", *REDUCED, "--workers", "2"], tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    recs = records(tmp_path)
    # 2 reference rows x 2 seeds + gradient_ascent x 2 selectors x 2 budget regimes x 2 seeds
    # + finetune (coreset-invariant: the full selector only, steps regime) x 2 seeds
    assert len(recs) == 14 and all(x["status"] == "ok" for x in recs.values())
    budgets = {(x["config"]["strategy"], x["config"].get("budget"), x["config"]["selector"])
               for x in recs.values()}
    assert ("finetune", "steps", "full") in budgets and ("gradient_ascent", "epochs", "loss") \
        in budgets and not any(s == "finetune" and b == "epochs" for s, b, _ in budgets)
    for name in ("general.md", "general.html", "general_tradeoff.svg"):
        assert (tmp_path / "leaderboards" / name).stat().st_size > 0
    # the default attack stages: their columns, settings, and the relearning curves (retrain
    # and the full-forget-set finetune row against the original model)
    page = (tmp_path / "leaderboards" / "general.md").read_text()
    assert "Relearn recov." in page and "4-bit recov." in page and "ε-score" not in page
    assert "**Attack: quantize:**" in page and "torchao" in page
    assert "## Relearning attack" in page and "original model (not attacked)" in page
    assert list((tmp_path / "leaderboards").glob("general_relearn_*.svg"))
    rec = next(x for x in recs.values() if x["config"]["strategy"] == "gradient_ascent")
    assert set(rec["timings"]) == {"select_s", "unlearn_s", "evaluate_s", "attack_quantize_s",
                                   "attack_relearn_s", "unlearn_cpu_s", "evaluate_cpu_s",
                                   "training_artifacts_s"}
    assert rec["starved"] == []
    assert len(rec["per_example"]["forget_loss"]) == 126  # the FULL forget set is evaluated
    assert len(rec["per_example"]["coreset"]) == 13  # 10% of it was unlearned
    assert rec["env"]["torch"] and rec["env"]["erasus_bench"]
    df = erasus_bench.load_results(tmp_path / "results")
    assert set(df["strategy"]) == {"original", "retrain", "gradient_ascent", "finetune"}
    assert (df.query("strategy == 'retrain' and metric == 'avg_gap'")["value"] == 0).all()
    pages = list((tmp_path / "leaderboards").iterdir())
    mtimes = {p: Path(p).stat().st_mtime_ns for p in [*recs, *pages]}
    again = cli(["run", "--protocol", "general", *REDUCED], tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "0 ran ok" in again.stdout and "14 already done" in again.stdout
    assert "pages in leaderboards are up to date" in again.stdout
    assert {p: Path(p).stat().st_mtime_ns for p in mtimes} == mtimes  # nothing rewritten
    # a fully cached rerun reads its remembered plan: neither torch nor a plugin is imported
    probe = subprocess.run([sys.executable, "-X", "importtime", "-m", "erasus_bench.cli", "run",
                            "--protocol", "general", *REDUCED], cwd=tmp_path, capture_output=True,
                           text=True)
    assert probe.returncode == 0 and "14 already done" in probe.stdout, probe.stderr[-2000:]
    assert not re.search(r"\|\s+torch$", probe.stderr, re.M)


def test_out_folder_of_ones_own(tmp_path: Path, cache_dir: str) -> None:
    """`--out DIR`: records and pages go to DIR, the command says how the published boards
    are reproduced and published, and nothing is written to ./results or ./leaderboards."""
    r = cli(["run", "--protocol", "general", "--strategies", "finetune", "--selectors",
             "random", "--seeds", "1", "--out", "mine"], tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert len(list((tmp_path / "mine" / "results").glob("general/**/*.json"))) == 3
    assert (tmp_path / "mine" / "leaderboards" / "general.html").is_file()
    assert "3 ran ok" in r.stdout and "mine/leaderboards/general.html" in r.stdout
    assert "results/README.md" in r.stdout and "render --check" in r.stdout
    assert not (tmp_path / "results").exists() and not (tmp_path / "leaderboards").exists()


def test_resume_after_kill(tmp_path: Path, cache_dir: str) -> None:
    args = ["run", "--protocol", "general", "--strategies", "gradient_ascent,grad_diff,finetune",
            "--selectors", "random,loss", "--seeds", "2", "--workers", "1", "--no-render"]
    proc = subprocess.Popen([sys.executable, "-m", "erasus_bench.cli", *args], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 120
    while len(list(tmp_path.glob("results/**/*.json"))) < 5 and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first = {p: Path(p).stat().st_mtime_ns for p in records(tmp_path)}
    assert 5 <= len(first) < 22, "the run was not interrupted mid-grid"
    r = cli(args, tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    recs = records(tmp_path)
    keys = [json.dumps(x["config"], sort_keys=True) for x in recs.values()]
    # 4 reference cells + 2 strategies x 2 selectors x 2 regimes x 2 seeds + finetune (full) x 2
    assert len(keys) == len(set(keys)) == 22  # complete, no duplicates
    assert all(Path(p).stat().st_mtime_ns == m for p, m in first.items())  # none redone
    assert not list(tmp_path.glob("results/**/*.tmp"))


BROKEN_PLUGIN = """
import torch
from erasus_bench.methods.strategies.base import Strategy, register_strategy

@register_strategy("broken", description="raises on purpose")
class Broken(Strategy):
    def unlearn(self, task):
        raise RuntimeError("deliberately broken")

@register_strategy("nan_weights", description="returns NaN weights on purpose")
class NanWeights(Strategy):
    def unlearn(self, task):
        with torch.no_grad():
            for p in task.model.parameters():
                p.fill_(float("nan"))
        return task.model
"""


def test_failed_cells_from_an_entry_point_plugin(tmp_path: Path, cache_dir: str) -> None:
    site = tmp_path / "site"
    (site / "broken_plugin-0.1.dist-info").mkdir(parents=True)
    (site / "broken_plugin.py").write_text(textwrap.dedent(BROKEN_PLUGIN))
    (site / "broken_plugin-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n")
    (site / "broken_plugin-0.1.dist-info" / "entry_points.txt").write_text(
        "[erasus_bench.plugins]\nbroken = broken_plugin\n")
    env = {"PYTHONPATH": str(site)}
    listing = cli(["list", "strategies"], tmp_path, env)
    assert "broken" in listing.stdout and "nan_weights" in listing.stdout
    r = cli(["run", "--protocol", "general", "--strategies", "broken,nan_weights,finetune",
             "--selectors", "random", "--seeds", "1", "--workers", "2"], tmp_path, env)
    assert r.returncode == 1
    assert "2 failed" in r.stdout and "deliberately broken" in r.stderr
    by_strategy = {x["config"]["strategy"]: x for x in records(tmp_path).values()}
    assert by_strategy["broken"]["status"] == "failed"
    assert "RuntimeError: deliberately broken" in by_strategy["broken"]["error"]
    assert by_strategy["nan_weights"]["status"] == "failed"
    assert "non-finite" in by_strategy["nan_weights"]["error"]
    assert by_strategy["finetune"]["status"] == "ok"
    assert (tmp_path / "leaderboards" / "general.html").exists()


@pytest.mark.parametrize("args, expected", [
    (["run", "--protocol", "nope"], "general"),
    (["run", "--protocol", "general", "--strategies", "gradient_ascnt"], "gradient_ascent"),
    (["run", "--protocol", "general", "--selectors", "nope"], "random"),
    (["run", "--protocol", "general", "--fractions", "1.5"], "fraction"),
    (["run", "--protocol", "general", "--fractions", "0"], "fraction"),
    (["run", "--protocol", "general", "--seeds", "0"], "seed"),
    (["run", "--protocol", "general", "--scenario", "klass"], "class"),
    (["run", "--protocol", "general", "--requests", "1"], "at least 2"),
    (["run", "--protocol", "wmdp-bio", "--requests", "2"], "does not support sequential"),
    (["list", "strategys"], "strategies"),
    (["render", "--results-dir", "does-not-exist"], "does-not-exist"),
])
def test_bad_input_exits_2_with_choices(args: list[str], expected: str, tmp_path: Path) -> None:
    r = cli(args, tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and expected in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_list_shows_every_kind(tmp_path: Path) -> None:
    r = cli(["list"], tmp_path)
    assert r.returncode == 0
    for name in ("general", "scrub", "k_center", "avg_gap", "protocols general",
                 "board: every strategy x random, full; every selector x grad_diff"):
        assert name in r.stdout
