"""Multiple-choice accuracy through lm-eval equals ``lm_eval.simple_evaluate`` on a saved model
folder with lm-eval's own task templates, in the letter (WMDP/MMLU) and cloze formats."""
from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from erasus_bench.lm.mc_eval import MCTask, mc_accuracy
from erasus_bench.lm.tiny import TinyConfig, tiny_gpt2, train_tokenizer

lm_eval = pytest.importorskip("lm_eval")

WORDS = ["amber", "basalt", "cobalt", "dune", "ember", "fjord", "garnet", "harbor", "indigo",
         "jasper", "kelp", "lumen"]
DESCRIPTION = "The following are multiple choice questions (with answers) about biology.\n\n"


def rows(n: int = 24) -> list[dict]:
    rng = random.Random(0)
    out = []
    for i in range(n):
        choices = rng.sample(WORDS, 4)
        out.append({"question": f"Which stone did sample {i} turn into?", "choices": choices,
                    "answer": rng.randrange(4)})
    return out


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory: pytest.TempPathFactory):
    """A tiny random GPT-2 and its tokenizer, in memory and saved to a folder."""
    texts = [f"{r['question']} {' '.join(r['choices'])} A B C D Answer:" for r in rows()]
    tok = train_tokenizer(texts * 4, 300)
    model = tiny_gpt2(tok, TinyConfig(vocab_size=300, n_layer=1, n_embd=32, n_head=2), seed=0)
    folder = tmp_path_factory.mktemp("model")
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return model, tok, folder


def lm_eval_own(folder: Path, template: Path, data: list[dict], work: Path) -> float:
    """lm-eval on the saved folder, the task built on lm-eval's own template file."""
    import json

    import yaml
    from lm_eval.tasks import TaskManager

    work.mkdir()
    shutil.copyfile(template, work / template.name)
    (work / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in data))
    (work / "own.yaml").write_text(yaml.safe_dump({
        "task": "own_task", "include": template.name, "description": DESCRIPTION,
        "dataset_path": "json", "dataset_name": None, "test_split": "test", "num_fewshot": 0,
        # MMLU's templates name a `dev` split for few-shot examples (unused at 0 shots)
        "dataset_kwargs": {"data_files": {"test": str(work / "data.jsonl"),
                                          "dev": str(work / "data.jsonl")}}}))
    out = lm_eval.simple_evaluate(
        model="hf", model_args=f"pretrained={folder},tokenizer={folder},device=cpu,dtype=float32",
        tasks=["own_task"], batch_size=8, log_samples=False, bootstrap_iters=0,
        task_manager=TaskManager(include_path=str(work), include_defaults=False))
    return out["results"]["own_task"]["acc,none"]


@pytest.mark.parametrize(("fmt", "template"), [
    ("letter", "wmdp/_default_template_yaml"),
    ("cloze", "mmlu/continuation/_continuation_template_yaml"),
])
def test_accuracy_equals_lm_eval_on_the_saved_folder(fmt: str, template: str, saved_model,
                                                     tmp_path: Path) -> None:
    model, tok, folder = saved_model
    data = rows()
    ours = mc_accuracy(model, tok, [MCTask("wmdp_bio", DESCRIPTION, fmt, rows=tuple(data))],
                       tmp_path / "ours", batch_size=8)["wmdp_bio"]
    assert ours["n"] == len(data)
    theirs = lm_eval_own(folder, Path(lm_eval.__file__).parent / "tasks" / template, data,
                         tmp_path / "theirs")
    assert ours["acc"] == theirs
    assert 0 < ours["acc"] < 1  # a random model answers some, not all: the scores are real
