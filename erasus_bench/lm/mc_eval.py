"""Multiple-choice accuracy through lm-evaluation-harness: an in-memory causal LM wrapped in
``HFLM``, tasks from our own YAMLs (``mc_tasks/``, lm-eval's WMDP/MMLU templates) loaded by a
``TaskManager`` that never indexes lm-eval's built-in tasks. A number here is lm-eval's number."""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

TEMPLATES = Path(__file__).with_name("mc_tasks")
FORMATS = ("letter", "cloze")


@dataclass(frozen=True)
class MCTask:
    """One lm-eval multiple-choice task: its name, description, prompt format and data.

    ``dataset`` is either a hub dataset (``{"dataset_path": "cais/wmdp", "dataset_name":
    "wmdp-bio", "dataset_kwargs": {"revision": ...}}``, split ``split``) or, with ``rows``, the
    rows themselves (``question``, ``choices``, ``answer``), written to a JSON Lines file.
    """

    name: str
    description: str
    fmt: str = "letter"
    dataset: dict[str, Any] = field(default_factory=dict)
    split: str = "test"
    rows: tuple[dict[str, Any], ...] = ()
    num_fewshot: int = 0

    def __post_init__(self) -> None:
        if self.fmt not in FORMATS:
            from erasus_bench.errors import unknown_choice

            raise unknown_choice("format", self.fmt, FORMATS)


def task_config(task: MCTask, folder: Path) -> dict[str, Any]:
    """The task's YAML (beside its format's template in ``folder``), writing its rows there."""
    config: dict[str, Any] = {"task": task.name, "include": f"{task.fmt}_template_yaml",
                              "description": task.description, "num_fewshot": task.num_fewshot}
    if task.rows:
        data = folder / f"{task.name}.jsonl"
        data.write_text("".join(json.dumps({k: r[k] for k in ("question", "choices", "answer")})
                                + "\n" for r in task.rows))
        config.update(dataset_path="json", dataset_name=None, test_split="test",
                      dataset_kwargs={"data_files": {"test": str(data.resolve())}})
    else:
        config.update(task.dataset, test_split=task.split)
    return config


def write_tasks(tasks: list[MCTask], folder: Path) -> Path:
    """Materialise ``tasks`` as an lm-eval include path: the templates and one YAML per task."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    for template in TEMPLATES.iterdir():
        shutil.copyfile(template, folder / template.name)
    for task in tasks:
        (folder / f"{task.name}.yaml").write_text(yaml.safe_dump(task_config(task, folder),
                                                                 sort_keys=False))
    return folder


def mc_accuracy(model: nn.Module, tokenizer: Any, tasks: list[MCTask], folder: Path,
                batch_size: int = 16) -> dict[str, dict[str, float]]:
    """Task name -> ``{"acc", "acc_stderr", "n"}`` from ``lm_eval.simple_evaluate`` on the
    in-memory ``model`` (its own device and dtype), tasks written under ``folder``."""
    import lm_eval
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=str(write_tasks(tasks, folder)), include_defaults=False)
    was_training = model.training
    lm = HFLM(pretrained=model.eval(), tokenizer=tokenizer, batch_size=batch_size)
    out = lm_eval.simple_evaluate(model=lm, tasks=[t.name for t in tasks], task_manager=manager,
                                  log_samples=False, bootstrap_iters=0)
    model.train(was_training)
    results = out["results"]
    return {t.name: {"acc": float(results[t.name]["acc,none"]),
                     "acc_stderr": _float(results[t.name].get("acc_stderr,none")),
                     "n": int(out["n-samples"][t.name]["effective"])} for t in tasks}


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):  # lm-eval writes "N/A" without bootstrap iterations
        return float("nan")
