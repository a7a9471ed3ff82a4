"""Multiple-choice accuracy through lm-evaluation-harness: an in-memory causal LM wrapped in
``HFLM``, tasks from our own YAMLs (``mc_tasks/``, lm-eval's WMDP/MMLU templates) loaded by a
``TaskManager`` that never indexes lm-eval's built-in tasks. A number here is lm-eval's number."""
from __future__ import annotations

import io
import json
import logging
import shutil
from contextlib import redirect_stderr
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from unittest.mock import patch

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
        if not self.rows and not self.dataset.get("dataset_path"):
            raise ValueError(f"task {self.name!r} has neither rows nor a dataset_path")
        if self.fmt not in FORMATS:
            from erasus_bench.errors import unknown_choice

            raise unknown_choice("format", self.fmt, FORMATS)


def task_config(task: MCTask, folder: Path) -> dict[str, Any]:
    """The task's YAML for an include path ``folder`` (its rows read from
    ``folder/<task>.jsonl``)."""
    config: dict[str, Any] = {"task": task.name, "include": f"{task.fmt}_template_yaml",
                              "description": task.description, "num_fewshot": task.num_fewshot}
    if task.rows:
        data = (folder / f"{task.name}.jsonl").resolve()
        config.update(dataset_path="json", dataset_name=None, test_split="test",
                      dataset_kwargs={"data_files": {"test": str(data)}})
    else:
        config.update(task.dataset, test_split=task.split)
    return config


def write_tasks(tasks: list[MCTask], root: Path) -> Path:
    """``tasks`` as an lm-eval include path under ``root``: the templates, one YAML per task and
    its rows, in a folder named by their content, written once (atomically, so parallel
    workers share it and ``datasets`` reuses its cache of the rows)."""
    import yaml

    from erasus_bench.harness.cache_dir import build_once
    from erasus_bench.harness.spec import stable_hash

    root = root.resolve()  # the YAMLs name their rows by absolute path
    key = stable_hash({"tasks": [asdict(t) for t in tasks], "root": str(root),
                       "templates": {p.name: p.read_text() for p in TEMPLATES.iterdir()}}, 16)
    folder = root / key

    def fill(tmp: Path) -> None:
        for template in TEMPLATES.iterdir():
            shutil.copyfile(template, tmp / template.name)
        for task in tasks:
            if task.rows:
                (tmp / f"{task.name}.jsonl").write_text("".join(
                    json.dumps({k: r[k] for k in ("question", "choices", "answer")}) + "\n"
                    for r in task.rows))
            (tmp / f"{task.name}.yaml").write_text(yaml.safe_dump(task_config(task, folder),
                                                                  sort_keys=False))

    return build_once(folder, fill)


def mc_accuracy(model: nn.Module, tokenizer: Any, tasks: list[MCTask], folder: Path,
                batch_size: int = 16) -> dict[str, dict[str, float]]:
    """Task name -> ``{"acc", "acc_stderr", "n"}`` from ``lm_eval.simple_evaluate`` on the
    in-memory ``model`` (its own device and dtype), tasks written under ``folder``
    (``write_tasks``)."""
    import lm_eval
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=str(write_tasks(tasks, folder)), include_defaults=False)
    was_training = model.training
    # HFLM warns on every construction that an in-memory model is not a name: the documented
    # way to score one (lm-eval's README, "external library" use)
    logging.getLogger("lm_eval.models.huggingface").setLevel(logging.ERROR)
    lm = HFLM(pretrained=model.eval(), tokenizer=tokenizer, batch_size=batch_size)
    # quiet: lm-eval draws progress bars per task and call (on sys.stderr), and records the git
    # commit of the working directory (`git describe`, which prints "fatal: not a git
    # repository" outside one); our records carry their own
    try:
        with redirect_stderr(io.StringIO()), \
                patch("lm_eval.evaluator.get_git_commit_hash", return_value=None):
            out = lm_eval.simple_evaluate(model=lm, tasks=[t.name for t in tasks],
                                          task_manager=manager, log_samples=False,
                                          bootstrap_iters=0)
    finally:
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
