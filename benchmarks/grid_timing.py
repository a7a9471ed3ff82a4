"""Time the default `general` grid: full run (fresh model cache), cached rerun, harness
overhead, and unlearning time at fraction 0.1 vs 1.0 per strategy, all from one session.

    python benchmarks/grid_timing.py [--seeds 3] [--workers N] [--out benchmarks/grid_timing.json]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from statistics import median


def timed_run(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "erasus_bench.cli", "run", *args], cwd=cwd, env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**os.environ, "ERASUS_BENCH_CACHE": str(work / "cache")}
        args = ["--protocol", "general", "--all-methods", "--seeds", str(a.seeds),
                "--workers", str(a.workers)]
        wall = timed_run(args, work, env)
        cached = timed_run(args, work, env)
        records = [json.loads(p.read_text()) for p in work.glob("results/**/*.json")]
    compute = sum(sum(r["timings"].values()) for r in records
                  if r["config"]["strategy"] != "retrain")
    train = sum(r["timings"]["unlearn_s"] for r in records
                if r["config"]["strategy"] == "retrain") * 2  # base and gold, similar size
    overhead = 1 - (compute + train) / (wall * a.workers)
    by = defaultdict(lambda: defaultdict(list))
    for r in records:
        c = r["config"]
        if c["selector"] in ("random", "full"):
            by[c["strategy"]][c["fraction"]].append(r["timings"]["unlearn_s"])
    ratio = {s: {"unlearn_s_f0.1": median(v[0.1]), "unlearn_s_f1.0": median(v[1.0]),
                 "ratio_0.1_over_1.0": median(v[0.1]) / median(v[1.0])}
             for s, v in sorted(by.items()) if v.get(0.1) and v.get(1.0)}
    report = {"cells": len(records), "seeds": a.seeds, "workers": a.workers,
              "wall_s": round(wall, 2), "cached_rerun_s": round(cached, 2),
              "cell_compute_s": round(compute, 2), "model_training_s": round(train, 2),
              "harness_overhead_share": round(overhead, 4), "per_strategy": ratio}
    text = json.dumps(report, indent=1)
    print(text)
    if a.out:
        a.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
