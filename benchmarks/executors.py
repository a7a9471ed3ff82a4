"""Overhead of each engine on this machine: the same `general` grid at two sizes through the
local pool, submitit's local executor and a local Ray, in turn (``--repeats`` rounds, engines
interleaved, medians) in one session, with the model cache warmed first so that every engine
runs the same cells and trains nothing.

    python benchmarks/executors.py [--repeats 3] [--out benchmarks/executors.json]

For each run, overhead = wall - the cells' own compute / slots (compute: the sum of their
records' wall timings; slots = cores, 1 thread per task everywhere). The small and the large
grid (1 and 3 seeds) separate a fixed cost per command (start-up, engine start, the base/gold
jobs) from the marginal overhead per cell: (overhead_large - overhead_small) / (cells_large -
cells_small).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENGINES = ("local", "submitit-local", "ray")
GRID = ["--protocol", "general", "--strategies", "grad_diff,scrub,gradient_ascent",
        "--selectors", "random,k_center", "--fractions", "0.05,0.1,0.3", "--budgets", "steps",
        "--attacks", "none", "--no-render"]
SIZES = {"small": 1, "large": 3}  # seeds


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "erasus_bench.cli", "run", *args], cwd=cwd, env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def one_run(engine: str, seeds: int, out: str, work: Path, env: dict[str, str],
            slots: int) -> dict[str, float]:
    """Wall, the cells' compute and the overhead of one run of the grid through ``engine``."""
    wall = timed([*GRID, "--seeds", str(seeds), "--executor", engine, "--results-dir", out],
                 work, env)
    recs = [json.loads(p.read_text()) for p in (work / out).glob("**/*.json")]
    compute = sum(v for rec in recs if rec["config"]["strategy"] != "retrain"
                  for k, v in rec["timings"].items() if not k.endswith("_cpu_s"))
    return {"cells": len(recs), "wall_s": wall, "compute_s": compute,
            "overhead_s": wall - compute / slots}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    slots = os.cpu_count() or 1
    runs: dict[tuple[str, str], list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**os.environ, "ERASUS_BENCH_CACHE": str(work / "cache")}
        timed([*GRID, "--seeds", str(SIZES["large"]), "--results-dir", "warmup"], work, env)
        for r in range(a.repeats):
            for engine in ENGINES:
                for size, seeds in SIZES.items():
                    runs.setdefault((engine, size), []).append(
                        one_run(engine, seeds, f"{engine}-{size}-{r}", work, env, slots))
    med = {key: {k: statistics.median(x[k] for x in rs) for k in rs[0]}
           for key, rs in runs.items()}
    report: dict = {"cores": slots, "repeats": a.repeats, "grid": " ".join(GRID),
                    "seeds": SIZES, "engines": {}}
    for engine in ENGINES:
        small, large = med[(engine, "small")], med[(engine, "large")]
        per_cell = (large["overhead_s"] - small["overhead_s"]) / (large["cells"] - small["cells"])
        report["engines"][engine] = {
            "cells": {"small": small["cells"], "large": large["cells"]},
            "wall_s": {"small": round(small["wall_s"], 2), "large": round(large["wall_s"], 2)},
            "cell_compute_s_large": round(large["compute_s"], 2),
            "overhead_per_cell_s": round(per_cell, 3),
            "fixed_overhead_s": round(small["overhead_s"] - per_cell * small["cells"], 2),
            "wall_large_over_local": round(
                large["wall_s"] / med[("local", "large")]["wall_s"], 3)}
    text = json.dumps(report, indent=1)
    print(text)
    if a.out:
        a.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
