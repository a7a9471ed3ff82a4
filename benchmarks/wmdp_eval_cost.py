"""What scoring one `wmdp-bio` default cell through lm-eval costs, beside a bare batched forward
pass over the same items (same run, same machine: the ratios are what to read).

* ``setup_s``: lm-eval's task set-up (TaskManager over our YAMLs and the task objects with their
  data), the part of each evaluation that is not scoring.
* ``evaluate_s``: ``mc_accuracy`` (HFLM over the in-memory model, every WMDP and MMLU task).
* ``bare_forward_s``: one forward of every (context + option) sequence lm-eval scores, in batches
  of the same size (16), right-padded, no log-likelihood bookkeeping.

    python benchmarks/wmdp_eval_cost.py [--repeats 5]      # writes benchmarks/wmdp_eval_cost.json
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch


def bare_forward(model, tokenizer, tasks, batch_size: int = 16) -> float:
    """Seconds for one forward of each task's context + option sequences (cloze: the option
    text; letter: the letter), as lm-eval builds them (description + prompt + " " + option)."""
    texts = []
    for task in tasks:
        for r in task.rows:
            q = r["question"].strip()
            if task.fmt == "cloze":
                context, options = f"Question: {q}\nAnswer:", r["choices"]
            else:
                lettered = "".join(f"\n{k}. {c}" for k, c in zip("ABCD", r["choices"]))
                context, options = f"{q}{lettered}\nAnswer:", list("ABCD")
            texts += [task.description + context + " " + o for o in options]
    encoded = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    pad, device = tokenizer.pad_token_id, next(model.parameters()).device
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(encoded), batch_size):
            chunk = encoded[i:i + batch_size]
            width = max(map(len, chunk))
            ids = torch.tensor([c + [pad] * (width - len(c)) for c in chunk])
            mask = (torch.arange(width)[None] < torch.tensor([len(c) for c in chunk])[:, None])
            model(input_ids=ids.to(device),
                  attention_mask=mask.long().to(device)).logits.log_softmax(-1)
    return time.perf_counter() - start


def main(repeats: int) -> dict:
    from lm_eval.tasks import TaskManager

    from erasus_bench.harness.cache_dir import default_cache_dir
    from erasus_bench.harness.runner import get_setting
    from erasus_bench.lm.mc_eval import mc_accuracy, write_tasks
    from erasus_bench.registry import PROTOCOLS

    torch.set_num_threads(1)
    config = PROTOCOLS.get("wmdp-bio")().resolve_config({})
    setting = get_setting("wmdp-bio", config, 0, str(default_cache_dir()))
    model, tok, tasks = setting.base, setting.extra["tokenizer"], setting.extra["tasks"]
    root = Path(setting.extra["task_root"])
    mc_accuracy(model, tok, tasks, root)  # warm: imports, the datasets cache of the rows
    setup, evaluate, bare = [], [], []
    for _ in range(repeats):
        start = time.perf_counter()
        manager = TaskManager(include_path=str(write_tasks(tasks, root)), include_defaults=False)
        manager.load([t.name for t in tasks])
        setup.append(time.perf_counter() - start)
        start = time.perf_counter()
        mc_accuracy(model, tok, tasks, root)
        evaluate.append(time.perf_counter() - start)
        bare.append(bare_forward(model, tok, tasks))
    med = {k: statistics.median(v) for k, v in
           (("setup_s", setup), ("evaluate_s", evaluate), ("bare_forward_s", bare))}
    out = {"items": sum(len(t.rows) for t in tasks), "sequences": 4 * sum(len(t.rows)
                                                                         for t in tasks),
           "format": config["format"], "repeats": repeats, "torch_threads": 1,
           "median": {k: round(v, 3) for k, v in med.items()},
           "evaluate_over_bare_forward": round(med["evaluate_s"] / med["bare_forward_s"], 2),
           "setup_share_of_evaluate": round(med["setup_s"] / med["evaluate_s"], 2)}
    print(json.dumps(out, indent=1))
    Path(__file__).with_suffix(".json").write_text(json.dumps(out, indent=1) + "\n")
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    main(parser.parse_args().repeats)
