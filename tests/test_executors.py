"""The engines of issue [10]: the local pool, submitit's local executor (the slurm code path)
and a local Ray give identical records; a killed submitit grid resumes without duplicates;
``status`` reports a grid's state; engine options are checked."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from erasus_bench.errors import UserError
from erasus_bench.harness.executors.spec import ExecutorSpec, parse_slurm_args

GRID = ["run", "--protocol", "general", "--strategies", "grad_diff", "--selectors",
        "random,k_center", "--seeds", "1", "--budgets", "steps", "--no-render"]


def cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "erasus_bench.cli", *args], cwd=cwd,
                          capture_output=True, text=True)


def records(results: Path) -> dict[str, dict]:
    return {r["config_hash"]: r for r in
            (json.loads(p.read_text()) for p in sorted(results.glob("**/*.json")))}


def comparable(rec: dict) -> dict:
    """What must not depend on the engine: everything but wall-clock figures and the engine
    and time stamps themselves."""
    return {"metrics": {k: v for k, v in rec["metrics"].items()
                        if "time" not in k and "speedup" not in k},
            "per_example": rec["per_example"], "cost": rec.get("cost"),
            "attacks": rec.get("attacks"), "config": rec["config"],
            "model_changed": rec.get("model_changed")}


@pytest.fixture(scope="module")
def engine_runs(tmp_path_factory: pytest.TempPathFactory, cache_dir: str) -> Path:
    """One small grid run through each engine, into ``res-<engine>``."""
    folder = tmp_path_factory.mktemp("engines")
    for engine in ("local", "submitit-local", "ray"):
        r = cli([*GRID, "--executor", engine, "--results-dir", f"res-{engine}"], folder)
        assert r.returncode == 0, (engine, r.stderr[-3000:])
    return folder


def test_three_engines_give_identical_records(engine_runs: Path) -> None:
    tmp_path, got = engine_runs, {}
    for engine in ("local", "submitit-local", "ray"):
        got[engine] = records(tmp_path / f"res-{engine}")
        assert {x["env"]["executor"] for x in got[engine].values()} == {engine}
        assert {x["env"]["torch_threads"] for x in got[engine].values()} == {1}
    # original, retrain, grad_diff x 2 selectors; relearning and quantization on
    assert len(got["local"]) == 4
    assert all("attacks" in x for x in got["local"].values())
    for engine in ("submitit-local", "ray"):
        assert got[engine].keys() == got["local"].keys()
        for key, rec in got["local"].items():
            assert comparable(got[engine][key]) == comparable(rec), (engine, key)
    assert list((tmp_path / "res-submitit-local" / ".jobs" / "submitit").iterdir())


def test_killed_submitit_grid_resumes_without_duplicates(tmp_path: Path, cache_dir: str) -> None:
    args = [*GRID, "--attacks", "none", "--executor", "submitit-local",
            "--cells-per-job", "1", "--max-concurrent", "1"]
    proc = subprocess.Popen([sys.executable, "-m", "erasus_bench.cli", *args], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    while len(list(tmp_path.glob("results/**/*.json"))) < 1 and time.time() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)  # as scancel stops a driver
    assert proc.wait(timeout=60) != 0
    time.sleep(2)  # the cancelled job's process is gone
    first = {p: p.stat().st_mtime_ns for p in tmp_path.glob("results/**/*.json")}
    assert 1 <= len(first) < 4, "the run was not interrupted mid-grid"
    r = cli(args, tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"{len(first)} already done" in r.stdout and f"{4 - len(first)} ran ok" in r.stdout
    recs = list(tmp_path.glob("results/**/*.json"))
    keys = [json.dumps(json.loads(p.read_text())["config"], sort_keys=True) for p in recs]
    assert len(keys) == len(set(keys)) == 4  # complete, no duplicates
    assert all(p.stat().st_mtime_ns == m for p, m in first.items())  # none redone
    assert not list(tmp_path.glob("results/**/*.tmp"))
    assert not list(tmp_path.glob("results/.jobs/running/*.run"))  # no marker left behind
    st = cli(["status"], tmp_path)
    assert st.returncode == 0 and "4 cells: 4 done" in st.stdout, st.stdout


def test_status_reports_done_failed_stopped_and_pending(tmp_path: Path,
                                                        engine_runs: Path) -> None:
    shutil.copytree(engine_runs / "res-local", tmp_path / "results")
    paths = sorted((tmp_path / "results").glob("**/grad_diff*.json"))
    failed = json.loads(paths[0].read_text())
    failed.update(status="failed", error="RuntimeError: boom (at x.py:1)")
    paths[0].write_text(json.dumps(failed))
    gone = json.loads(paths[1].read_text())
    paths[1].unlink()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    running = tmp_path / "results" / ".jobs" / "running"
    running.mkdir(parents=True, exist_ok=True)
    import socket

    (running / f"{gone['config_hash']}.run").write_text(json.dumps(
        {"host": socket.gethostname(), "pid": dead.pid, "job": "7", "cell": "x",
         "started": "2026-12-07T00:00:00Z"}))
    next((tmp_path / "results").glob("**/original*.json")).unlink()
    st = cli(["status"], tmp_path)
    assert st.returncode == 1
    assert "4 cells: 1 done, 1 failed, 1 stopped, 1 pending" in st.stdout, st.stdout
    assert "RuntimeError: boom" in st.stdout and "is gone" in st.stdout
    assert cli(["status", "--results-dir", "nowhere"], tmp_path).returncode == 2


@pytest.mark.parametrize("args, message", [
    (["--executor", "slrum"], "Did you mean 'slurm'"),
    (["--partition", "gpu"], "--partition only apply to --executor slurm"),
    (["--executor", "ray", "--workers", "2"], "--workers is the local pool's size"),
    (["--executor", "submitit-local", "--cpus-per-task", "0"], "--cpus-per-task 0 is invalid"),
    (["--executor", "slurm", "--slurm-arg", "account"], "expected KEY=VALUE"),
    (["--address", "auto"], "--address only applies to --executor ray"),
    (["--max-concurrent", "4"], "the local pool takes --workers"),
    (["--detach"], "--detach needs --executor slurm or submitit-local"),
    (["--executor", "slurm", "--cells-per-job", "2"], "needs SLURM's sbatch on PATH"),
])
def test_bad_engine_options_are_named(tmp_path: Path, args: list[str], message: str) -> None:
    if "slurm" in args and shutil.which("sbatch"):
        pytest.skip("this machine has SLURM")
    r = cli([*GRID, *args], tmp_path)
    assert r.returncode == 2 and message in r.stderr, r.stderr


def test_engine_spec_defaults() -> None:
    assert ExecutorSpec().group_size() == 1 and ExecutorSpec("ray").group_size() == 1
    assert ExecutorSpec("slurm").group_size() == 10
    assert ExecutorSpec("slurm").slots() is None  # the scheduler decides
    cores = os.cpu_count() or 1
    assert ExecutorSpec("submitit-local", cpus_per_task=1).slots() == cores
    assert parse_slurm_args(("account=proj", "--qos = high")) == (("account", "proj"),
                                                                   ("qos", "high"))
    with pytest.raises(UserError, match="valid choices|Valid choices"):
        ExecutorSpec("kubernetes")


@pytest.mark.parametrize("name", ["local", "submitit-local", "ray"])
def test_a_job_that_breaks_is_reported_not_raised(tmp_path: Path, name: str) -> None:
    from erasus_bench.harness.executors import make_engine

    spec = ExecutorSpec(name, workers=2 if name == "local" else None, max_concurrent=None)
    with make_engine(spec, tmp_path) as engine:
        got = sorted(engine.run(int, [("7",), ("x",)]), key=lambda r: r.index)
    assert got[0].value == 7 and got[0].error is None
    assert got[1].value is None and "ValueError" in got[1].error and "'x'" in got[1].error


def test_a_resubmitted_grid_queues_no_job_for_models_already_prepared(
        tmp_path: Path, cache_dir: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from erasus_bench.harness import run as run_module
    from erasus_bench.harness.grid import build_grid
    from erasus_bench.harness.prepared import marker_path
    from erasus_bench.harness.run import run_grid

    _, config, cells = build_grid("general", {}, ["gradient_ascent"], ["random"], [0.1], 1)
    cells = [replace(c, attacks=()) for c in cells]
    markers = {role: marker_path(cache_dir, ("general", config, 0, role, cache_dir, None, None))
               for role in ("base", "gold")}
    for m in markers.values():  # as if this cache had never been used by a grid
        m.unlink(missing_ok=True)
    calls: list[tuple] = []
    real = run_module.prepare
    monkeypatch.setattr(run_module, "prepare", lambda *a: calls.append(a) or real(*a))

    def submit() -> list[str]:
        calls.clear()
        run_grid(cells, config, results_dir=tmp_path, cache_dir=cache_dir,
                 engine=ExecutorSpec(workers=1), force=True)
        return sorted(a[3] for a in calls)

    assert submit() == ["base", "gold"]  # run, and their model files listed in markers
    assert submit() == []  # nothing queued: both models are in the cache
    gone = json.loads(markers["gold"].read_text())
    markers["gold"].write_text(json.dumps({"files": [*gone["files"], str(tmp_path / "x.pt")]}))
    assert submit() == ["gold"]  # a listed model missing from the cache: prepared again
