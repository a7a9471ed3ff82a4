"""Scoring checkpoints from elsewhere (`evaluate`, ``erasus_bench.evaluate``) and importing
lm-eval results files: records on the protocol's board with the protocol's own numbers."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import erasus_bench
from erasus_bench.cli import cli
from erasus_bench.errors import UserError
from erasus_bench.harness.external import evaluate_checkpoint
from erasus_bench.registry import PROTOCOLS


def test_general_state_dict_scores_as_the_protocol_scores_it(general_setting, general_config,
                                                             cache_dir: str,
                                                             tmp_path: Path) -> None:
    model = copy.deepcopy(general_setting.base)
    with torch.no_grad():  # a different model than base: its own numbers, not base's
        model.head.bias.add_(torch.linspace(-2, 2, model.head.bias.numel()))
    torch.save(model.state_dict(), tmp_path / "mine.pt")
    record = evaluate_checkpoint("general", str(tmp_path / "mine.pt"), label="mine",
                                 results_dir=tmp_path / "results", cache_dir=cache_dir)
    expected = PROTOCOLS.get("general")().evaluate(general_setting, model, None).metrics
    assert record["metrics"] == expected
    assert record["metrics"] != PROTOCOLS.get("general")().evaluate(
        general_setting, general_setting.base, None).metrics
    assert record["config"]["strategy"] == "mine" and record["config"]["selector"] is None
    assert record["source"]["checkpoint"] == str(tmp_path / "mine.pt")
    saved = json.loads(Path(record["path"]).read_text())
    assert saved["metrics"] == expected and saved["config_hash"] == record["config_hash"]
    # the Python API gives the same record for the module itself
    same = erasus_bench.evaluate("general", model, label="mine", cache_dir=cache_dir)
    assert same["metrics"] == expected and "path" not in same


def test_bad_checkpoints_and_labels_are_named(general_setting, cache_dir: str,
                                              tmp_path: Path) -> None:
    (tmp_path / "junk.pt").write_text("not torch")
    with pytest.raises(UserError, match="weights_only"):
        evaluate_checkpoint("general", str(tmp_path / "junk.pt"), label="x",
                            results_dir=None, cache_dir=cache_dir)
    torch.save({"w": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(UserError, match="does not fit the protocol's model"):
        evaluate_checkpoint("general", str(tmp_path / "other.pt"), label="x",
                            results_dir=None, cache_dir=cache_dir)
    for label in ("rmu", "retrain", "a b"):
        with pytest.raises(UserError, match="label"):
            evaluate_checkpoint("general", str(tmp_path / "other.pt"), label=label)


def test_cli_evaluates_a_saved_language_model_folder_onto_the_board(
        wmdp_bio_setting, wmdp_dataset: str, cache_dir: str, tmp_path: Path) -> None:
    model = copy.deepcopy(wmdp_bio_setting.base)
    with torch.no_grad():  # not the base model: the record must carry the checkpoint's numbers
        for block in model.transformer.h:
            block.mlp.c_proj.weight.mul_(0.0)
    folder = tmp_path / "ckpt"
    model.save_pretrained(folder)
    wmdp_bio_setting.extra["tokenizer"].save_pretrained(folder)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, [
        "evaluate", "--protocol", "wmdp-bio", "--model", str(folder), "--label", "saved",
        "--dataset", wmdp_dataset, "--results-dir", str(out / "results"),
        "--leaderboards-dir", str(out / "leaderboards"), "--cache-dir", cache_dir])
    assert result.exit_code == 0, result.output
    (path,) = (out / "results").rglob("saved__s0__*.json")
    record = json.loads(path.read_text())
    proto = PROTOCOLS.get("wmdp-bio")()
    expected = proto.evaluate(wmdp_bio_setting, model, None).metrics
    base = proto.evaluate(wmdp_bio_setting, wmdp_bio_setting.base, None).metrics
    assert record["metrics"]["wmdp_acc"] == expected["wmdp_acc"] != base["wmdp_acc"]
    assert record["metrics"]["mmlu_acc"] == expected["mmlu_acc"]
    assert record["config"]["protocol_config"]["format"] == "cloze"
    assert "saved" in (out / "leaderboards" / "wmdp-bio.md").read_text()
    for label in ("base", "Retrain", "RMU"):  # the board's names of rows, in any case
        with pytest.raises(UserError, match="built-in row"):
            evaluate_checkpoint("wmdp-bio", str(folder), label=label)
    with pytest.raises(UserError, match="drop --gold"):
        evaluate_checkpoint("wmdp-bio", str(folder), label="x", gold=str(folder),
                            options={"dataset": wmdp_dataset}, cache_dir=cache_dir,
                            results_dir=None)


def test_checkpoint_with_another_tokenizer_is_refused(wmdp_bio_setting, wmdp_dataset: str,
                                                      cache_dir: str, tmp_path: Path) -> None:
    from erasus_bench.lm.tiny import TinyConfig, tiny_gpt2, train_tokenizer

    tok = train_tokenizer(["some other corpus entirely"] * 4, 300)
    tiny_gpt2(tok, TinyConfig(n_layer=1, n_embd=32, n_head=2), 0).save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    with pytest.raises(UserError, match="another tokenizer.*--base"):
        evaluate_checkpoint("wmdp-bio", str(tmp_path), label="x",
                            options={"dataset": wmdp_dataset}, cache_dir=cache_dir,
                            results_dir=None)


GROUP = """group: mmlu
task: [{tasks}]
aggregate_metric_list:
  - metric: acc
    aggregation: mean
    weight_by_size: true
metadata:
  version: 2
"""


def test_lm_eval_results_file_imports_as_wmdp_records(wmdp_bio_setting, tmp_path: Path) -> None:
    """A results file lm-eval itself wrote for the base model (its own simple_evaluate output,
    with its own `mmlu` group aggregate over subjects of unequal sizes, saved as `lm_eval
    --output_path` saves it) imports with lm-eval's numbers, equal to the protocol's: the base
    row and the chance reference of a pretrained model."""
    import dataclasses

    import lm_eval
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager
    from lm_eval.utils import handle_non_serializable

    from erasus_bench.lm.mc_eval import mc_accuracy, write_tasks
    from erasus_bench.protocols.wmdp.protocol import size_weighted

    model, tok = wmdp_bio_setting.base, wmdp_bio_setting.extra["tokenizer"]
    hazard, *subjects = wmdp_bio_setting.extra["tasks"]
    subjects = [dataclasses.replace(t, rows=t.rows[:8 - i]) for i, t in enumerate(subjects)]
    assert len({len(t.rows) for t in subjects}) > 1  # unequal sizes: weighting matters
    tasks = [hazard, *subjects]
    folder = write_tasks(tasks, tmp_path / "tasks")
    (folder / "mmlu_group.yaml").write_text(GROUP.format(tasks=", ".join(t.name for t in
                                                                         subjects)))
    manager = TaskManager(include_path=str(folder), include_defaults=False)
    out = lm_eval.simple_evaluate(model=HFLM(pretrained=model, tokenizer=tok, batch_size=16),
                                  tasks=[hazard.name, "mmlu"], task_manager=manager,
                                  bootstrap_iters=0)
    log = tmp_path / "results_2026-12-04.json"
    log.write_text(json.dumps(out, default=handle_non_serializable))
    result = CliRunner().invoke(cli, ["import", str(log), "--model", "tiny-base", "--strategy",
                                      "base", "--results-dir", str(tmp_path / "results")])
    assert result.exit_code == 0, result.output
    records = {json.loads(p.read_text())["config"]["strategy"]: json.loads(p.read_text())
               for p in (tmp_path / "results" / "wmdp-bio").rglob("*.json")}
    assert set(records) == {"original", "retrain"}
    ours = mc_accuracy(model, tok, tasks, tmp_path / "ours")
    base = records["original"]["metrics"]
    assert base["wmdp_acc"] == ours[hazard.name]["acc"]
    weighted = size_weighted(ours[t.name] for t in subjects)
    unweighted = sum(ours[t.name]["acc"] for t in subjects) / len(subjects)
    assert base["mmlu_acc"] == pytest.approx(weighted, abs=1e-12)
    assert abs(weighted - unweighted) > 1e-6  # the check above could tell the two apart
    assert records["retrain"]["metrics"]["wmdp_acc"] == 0.25
    assert records["retrain"]["metrics"]["mmlu_acc"] == base["mmlu_acc"]
    assert records["original"]["config"]["protocol_config"]["format"] == "cloze"
    assert records["original"]["source"]["items"] == len(hazard.rows)


def test_lm_eval_files_off_the_boards_protocol_are_refused(tmp_path: Path) -> None:
    from erasus_bench.importers.lm_eval_results import mmlu_accuracy, prompt_format, read

    data = {"results": {"wmdp_bio": {"acc,none": 0.5}, "mmlu_virology": {"acc,none": 0.4}},
            "n-samples": {"wmdp_bio": {"effective": 10}, "mmlu_virology": {"effective": 5}},
            "configs": {"wmdp_bio": {"doc_to_choice": ["A", "B", "C", "D"]}},
            "n-shot": {"wmdp_bio": 0}, "config": {"limit": None}}
    assert prompt_format(data, "wmdp_bio") == "letter"
    assert mmlu_accuracy(data)[0] is None  # one subject of 57 is not MMLU
    assert read(data, "f")[0]["metrics"]["mmlu_virology_acc"] == 0.4
    with pytest.raises(UserError, match="5-shot"):
        read({**data, "n-shot": {"wmdp_bio": 5}}, "f")
    with pytest.raises(UserError, match="limit 100"):
        read({**data, "config": {"limit": 100}}, "f")
