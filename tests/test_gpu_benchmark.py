"""benchmarks/gpu.py on the CPU with the tiny model and the small TOFU (issue [10]): every
figure it reports is measured and positive, and the harness and the bare loop saw the same
amount of work."""
from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_benchmark_runs_on_cpu_with_a_tiny_model(tofu_dataset: str, cache_dir: str,
                                                     tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("gpu_bench", ROOT / "benchmarks" / "gpu.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "gpu.json"
    report = module.main(["--dataset", tofu_dataset, "--steps", "3", "--cache-dir", cache_dir,
                          "--out", str(out)])
    assert out.read_text().strip().startswith("{")
    assert report["device"] == "cpu" and report["steps"] == 3
    for key in ("harness_unlearn_tokens_per_s", "bare_loop_tokens_per_s", "evaluate_s",
                "eval_forward_tokens_per_s", "harness_over_bare_time"):
        assert report[key] > 0, key
    assert "tofu_grid_wall_s" not in report  # only with --grid
