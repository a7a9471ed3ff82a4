"""Time `erasus-bench render` (every page recomputed) on the committed records and on 10,000
records generated from them, and a fully cached `run --protocol general --all-methods`, each
beside a bare `python -c "import torch"` measured in the same session (medians of --repeat).

    python benchmarks/render_timing.py [--records 10000] [--repeat 3] [--out FILE.json]

The generated records extend every committed row to 10 seeds (new seeds copy an existing seed's
record with every metric scaled by a seeded factor 1 +- 5%, so intervals are not degenerate) and
then copy whole variants (``protocol_config.copy = k``) until --records records exist.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

REPO = Path(__file__).resolve().parents[1]
SEEDS = 10


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env=dict(os.environ))
    return time.perf_counter() - start


def generate(src: Path, dst: Path, n: int) -> int:
    """Write ``n`` records derived from the records under ``src`` into ``dst``."""
    rng = random.Random(0)
    base = [json.loads(p.read_text()) for p in sorted(src.glob("**/*.json"))]
    written, copy = 0, 0
    while written < n:
        for rec in base:
            if rec["config"]["seed"] != 0:
                continue
            for seed in range(SEEDS):
                if written >= n:
                    return written
                r = json.loads(json.dumps(rec))
                r["config"]["seed"] = seed
                if copy:
                    r["config"]["protocol_config"]["copy"] = copy
                if seed or copy:
                    r["metrics"] = {k: v * (1 + rng.uniform(-0.05, 0.05))
                                    if isinstance(v, float) else v
                                    for k, v in r["metrics"].items()}
                path = dst / r["protocol"] / f"copy{copy}" / f"{written:06d}.json"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(r))
                written += 1
        copy += 1
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    cli = [sys.executable, "-m", "erasus_bench.cli"]
    render = [*cli, "render", "--force"]
    out: dict[str, object] = {"cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        committed = work / "committed"
        shutil.copytree(REPO / "results", committed / "results")
        big = work / "big"
        out["records_generated"] = generate(REPO / "results", big / "results", a.records)
        out["records_committed"] = len(list((committed / "results").glob("**/*.json")))
        torch_s, committed_s, big_s = [], [], []
        for _ in range(a.repeat):  # interleaved, so that drift hits every figure alike
            torch_s.append(timed([sys.executable, "-c", "import torch"], work))
            committed_s.append(timed(render, committed))
        for _ in range(max(1, a.repeat // 2)):
            big_s.append(timed(render, big))
        clone = work / "clone"
        subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
        cached_s = [timed([*cli, "run", "--protocol", "general", "--all-methods"], clone)
                    for _ in range(a.repeat)]
        out.update({
            "import_torch_s": round(median(torch_s), 2),
            "render_committed_s": round(median(committed_s), 2),
            "render_generated_s": round(median(big_s), 2),
            "cached_run_fresh_clone_s": round(median(cached_s), 2),
            "render_committed_over_import_torch": round(median(committed_s)
                                                        / median(torch_s), 2),
        })
    text = json.dumps(out, indent=1)
    print(text)
    if a.out:
        a.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
