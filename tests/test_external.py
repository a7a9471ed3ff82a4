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
    folder = tmp_path / "ckpt"
    wmdp_bio_setting.base.save_pretrained(folder)
    wmdp_bio_setting.extra["tokenizer"].save_pretrained(folder)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, [
        "evaluate", "--protocol", "wmdp-bio", "--model", str(folder), "--label", "saved-base",
        "--dataset", wmdp_dataset, "--results-dir", str(out / "results"),
        "--leaderboards-dir", str(out / "leaderboards"), "--cache-dir", cache_dir])
    assert result.exit_code == 0, result.output
    (path,) = (out / "results").rglob("saved-base__s0__*.json")
    record = json.loads(path.read_text())
    expected = PROTOCOLS.get("wmdp-bio")().evaluate(wmdp_bio_setting, wmdp_bio_setting.base,
                                                    None).metrics
    assert record["metrics"]["wmdp_acc"] == expected["wmdp_acc"]
    assert record["metrics"]["mmlu_acc"] == expected["mmlu_acc"]
    assert record["config"]["protocol_config"]["format"] == "cloze"
    assert "saved-base" in (out / "leaderboards" / "wmdp-bio.md").read_text()


def test_lm_eval_results_file_imports_as_wmdp_records(wmdp_bio_setting, wmdp_dataset: str,
                                                      tmp_path: Path) -> None:
    """A results file lm-eval itself wrote for the base model (its own simple_evaluate output,
    saved as `lm_eval --output_path` saves it) imports with lm-eval's numbers: the base row and
    the chance reference of a pretrained model."""
    import lm_eval
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager
    from lm_eval.utils import handle_non_serializable

    from erasus_bench.lm.mc_eval import write_tasks

    tasks = wmdp_bio_setting.extra["tasks"]
    manager = TaskManager(include_path=str(write_tasks(tasks, tmp_path / "tasks")),
                          include_defaults=False)
    lm = HFLM(pretrained=wmdp_bio_setting.base, tokenizer=wmdp_bio_setting.extra["tokenizer"],
              batch_size=16)
    out = lm_eval.simple_evaluate(model=lm, tasks=[t.name for t in tasks], task_manager=manager,
                                  bootstrap_iters=0)
    log = tmp_path / "results_2026-12-04.json"
    log.write_text(json.dumps(out, default=handle_non_serializable))
    result = CliRunner().invoke(cli, ["import", str(log), "--model", "tiny-base", "--strategy",
                                      "base", "--results-dir", str(tmp_path / "results")])
    assert result.exit_code == 0, result.output
    records = {json.loads(p.read_text())["config"]["strategy"]: json.loads(p.read_text())
               for p in (tmp_path / "results" / "wmdp-bio").rglob("*.json")}
    assert set(records) == {"original", "retrain"}
    ours = PROTOCOLS.get("wmdp-bio")().evaluate(wmdp_bio_setting, wmdp_bio_setting.base,
                                                None).metrics
    base = records["original"]["metrics"]
    assert base["wmdp_acc"] == ours["wmdp_acc"]
    assert base["mmlu_acc"] == pytest.approx(ours["mmlu_acc"], abs=1e-12)
    assert records["retrain"]["metrics"]["wmdp_acc"] == 0.25
    assert records["retrain"]["metrics"]["mmlu_acc"] == base["mmlu_acc"]
    assert records["original"]["config"]["protocol_config"]["format"] == "cloze"
    assert records["original"]["source"]["items"] == len(tasks[0].rows)
