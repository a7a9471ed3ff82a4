"""Harness overhead and throughput on one device (a GPU when present, else the CPU): unlearning
tokens/s of a TOFU cell run by the harness (coreset, budget, cost counting) against a bare
training loop on the same model, batch size, optimiser and steps; evaluation throughput (one
full TOFU evaluation, and bare no-grad forwards); optionally the default TOFU grid's wall time.

    python benchmarks/gpu.py [--dataset PATH] [--steps 40] [--grid] [--out benchmarks/gpu.json]

On CUDA both loops run as the harness does (bf16 autocast; the models as the protocol loads
them). Tokens are the non-padding tokens of the batches a loop processed.
"""
from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def bare_unlearning(model: torch.nn.Module, forget: Any, steps: int, batch: int, lr: float,
                    seed: int) -> tuple[float, int]:
    """Gradient ascent as a plain loop: (seconds, tokens)."""
    from erasus_bench.methods.causal_lm import CausalLMAdapter

    ad, opt = CausalLMAdapter(), torch.optim.Adam(model.parameters(), lr=lr)
    stream = forget.stream(batch, torch.Generator().manual_seed(seed))
    model.train()
    tokens = 0
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        b = next(stream)
        opt.zero_grad(set_to_none=True)
        (-ad.loss(model, b)).backward()
        opt.step()
        tokens += int(b["attention_mask"].sum())
    sync()
    return time.perf_counter() - start, tokens


def forward_throughput(model: torch.nn.Module, examples: Any, batch: int) -> tuple[float, int]:
    """No-grad forwards over ``examples``: (seconds, tokens)."""
    from erasus_bench.methods.causal_lm import CausalLMAdapter

    ad, tokens = CausalLMAdapter(), 0
    model.eval()
    sync()
    start = time.perf_counter()
    with torch.no_grad():
        for b in examples.batches(batch):
            ad.per_example_loss(model, b)
            tokens += int(b["attention_mask"].sum())
    sync()
    return time.perf_counter() - start, tokens


def measure(options: dict[str, str], steps: int, cache_dir: str) -> dict[str, Any]:
    """The unlearning and evaluation figures of seed 0 of the TOFU setting ``options``."""
    from erasus_bench.harness.runner import get_setting, unlearn
    from erasus_bench.harness.spec import CellSpec
    from erasus_bench.protocols.tofu.protocol import TofuProtocol

    proto = TofuProtocol()
    config = proto.resolve_config(options)
    setting = get_setting("tofu", config, 0, cache_dir)
    hp, _ = proto.resolved_hparams("gradient_ascent", config, "steps")
    hp = {**hp, "steps": steps}
    forget = setting.unlearn_pool()
    per_example = float(forget.tensors["attention_mask"].sum()) / len(forget)
    spec = CellSpec("tofu", config, "gradient_ascent", "full", 1.0, 0, hp, None, "steps")
    unlearn(spec, setting)  # warm-up (kernels, allocator)
    sync()
    done = unlearn(spec, setting)
    sync()
    harness_s = done.timings["unlearn_s"]
    harness_tokens = done.cost["examples"] * per_example
    bare_unlearning(copy.deepcopy(setting.base), forget, 2, hp["batch_size"], hp["lr"], 0)
    bare_s, bare_tokens = bare_unlearning(copy.deepcopy(setting.base), forget, steps,
                                          hp["batch_size"], hp["lr"], 0)
    start = time.perf_counter()
    proto.evaluate(setting, done.model, harness_s)
    sync()
    eval_s = time.perf_counter() - start
    fwd_s, fwd_tokens = forward_throughput(setting.base, setting.forget, hp["batch_size"])
    return {
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "model": config["model"], "dataset": config["dataset"], "forget_examples": len(forget),
        "steps": steps, "batch_size": hp["batch_size"],
        "harness_unlearn_tokens_per_s": round(harness_tokens / harness_s, 1),
        "bare_loop_tokens_per_s": round(bare_tokens / bare_s, 1),
        "harness_over_bare_time": round((harness_s / harness_tokens) / (bare_s / bare_tokens), 3),
        "evaluate_s": round(eval_s, 3),
        "eval_forward_tokens_per_s": round(fwd_tokens / fwd_s, 1),
    }


def grid_wall(options: dict[str, str], cache_dir: str) -> float:
    """Wall seconds of `erasus-bench run --protocol tofu --all-methods` into a scratch folder
    (base and gold models from ``cache_dir``)."""
    extra = [a for k, v in options.items() for a in (f"--{k}", v)]
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "erasus_bench.cli", "run", "--protocol", "tofu",
                        "--all-methods", *extra, "--results-dir", str(Path(tmp) / "r"),
                        "--cache-dir", cache_dir, "--no-render"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", help="TOFU data (default: the embedded synthetic TOFU).")
    ap.add_argument("--model", help="Model (default: the embedded tiny GPT-2).")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--grid", action="store_true", help="Also time the default TOFU grid.")
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)
    from erasus_bench.harness.cache_dir import default_cache_dir

    cache = a.cache_dir or str(default_cache_dir())
    options = {k: v for k, v in {"dataset": a.dataset, "model": a.model}.items() if v}
    report = measure(options, a.steps, cache)
    if a.grid:
        report["tofu_grid_wall_s"] = round(grid_wall(options, cache), 1)
    text = json.dumps(report, indent=1)
    print(text)
    if a.out:
        a.out.write_text(text + "\n")
    return report


if __name__ == "__main__":
    main()
