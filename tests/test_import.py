"""`erasus-bench import`: the legacy TOFU logs (fixture extracted from the original release)
reproduce the published aggregates; open-unlearning's TOFU_EVAL.json imports; bad input."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.stats import ks_2samp

from erasus_bench.cli import cli
from erasus_bench.errors import UserError
from erasus_bench.harness.store import load_records
from erasus_bench.importers import import_log, read_log, tofu_legacy

FIXTURES = Path(__file__).parent / "fixtures" / "tofu"
FINETUNED = FIXTURES / "finetuned_llama2-7b_eval_logs.json"
RETAIN90 = FIXTURES / "retain90_llama2-7b_eval_logs.json"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "tofu"
MODEL = "Llama-2-7b-chat-hf"
REL = 1e-3

# ../shared/reference/tofu/README.md (computed there independently with scipy)
PUBLISHED = {
    "finetuned": {"model_utility": 0.6227, "forget_truth_ratio": 0.516},
    "retain90": {
        "model_utility": 0.6137, "forget_truth_ratio": 0.674,
        "retain_Q_A_Prob": 0.9889, "retain_Q_A_ROUGE": 0.9758, "retain_Truth_Ratio": 0.4710,
        "ra_Q_A_Prob_normalised": 0.4341, "ra_Q_A_ROUGE": 0.9230, "ra_Truth_Ratio": 0.5707,
        "wf_Q_A_Prob_normalised": 0.4143, "wf_Q_A_ROUGE": 0.8974, "wf_Truth_Ratio": 0.5442,
    },
}
FQ_FINETUNED_VS_RETAIN90 = 1.834e-21


def rel_err(got: float, want: float) -> float:
    return abs(got - want) / abs(want)


def test_legacy_log_reproduces_the_published_numbers(tmp_path: Path) -> None:
    results = tmp_path / "results"
    for name, path in (("finetuned", FINETUNED), ("retain90", RETAIN90)):
        out, rec, notes = import_log(path, model=MODEL, gold=RETAIN90, results_dir=results)
        m = rec["metrics"]
        for key, want in PUBLISHED[name].items():
            assert rel_err(m[key], want) < REL, (name, key, m[key], want)
        assert rec["source"]["format"] == "tofu-legacy"
        assert rec["source"]["items"] == {"forget": 300, "retain": 300, "ra": 100, "wf": 117}
        assert len(rec["per_example"]["forget_truth_ratio"]) == 300
        assert len(rec["per_example"]["wf_rouge"]) == 117
        assert m["mia_min_k"] is None and m["privleak"] is None  # not in legacy logs
        assert out.is_file() and json.loads(out.read_text())["metrics"] == m
    recs = {r["config"]["strategy"]: r for r in load_records(results)}
    assert set(recs) == {"original", "retrain"}  # finetuned/retain90 -> reference rows
    fq = recs["original"]["metrics"]["forget_quality"]
    assert rel_err(fq, FQ_FINETUNED_VS_RETAIN90) < REL, fq
    assert recs["retrain"]["metrics"]["forget_quality"] == pytest.approx(1.0)
    # the same KS test straight from scipy on the logged losses (P_para / P_pert convention)
    def legacy_stat(path: Path) -> np.ndarray:
        f = json.loads(path.read_text())["eval_log_forget.json"]
        idx = sorted(f["avg_gt_loss"], key=int)
        para = np.array([f["avg_paraphrased_loss"][i] for i in idx])
        pert = np.array([np.mean(f["average_perturb_loss"][i]) for i in idx])
        return np.exp(pert - para)
    assert fq == pytest.approx(ks_2samp(legacy_stat(FINETUNED), legacy_stat(RETAIN90)).pvalue,
                               rel=1e-9)


@pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/reference/tofu")
def test_fixture_gives_the_same_numbers_as_the_full_logs() -> None:
    for name in (FINETUNED.name, RETAIN90.name):
        full, small = read_log(SHARED / name), read_log(FIXTURES / name)
        assert full["metrics"] == small["metrics"]
        assert full["forget_truth_ratios"] == small["forget_truth_ratios"]


def test_rouge_recomputed_from_generations_matches_the_log() -> None:
    for path in (FINETUNED, RETAIN90):
        check = tofu_legacy.rouge_check(json.loads(path.read_text()))
        assert set(check) == {"forget", "retain", "ra", "wf"}
        for split, c in check.items():
            assert len(c["index"]) == 20, split
            np.testing.assert_allclose(c["recomputed"], c["logged"], rtol=0, atol=1e-12)
        assert any(v < 1.0 for c in check.values() for v in c["logged"])  # not all trivial
        assert any(v < 1.0 for c in check.values() for v in c["recomputed"])


def _ou_log(legacy_path: Path, mia_min_k: float) -> dict:
    """A TOFU_EVAL.json in open-unlearning's schema, built from a legacy log's per-item values."""
    log = json.loads(legacy_path.read_text())
    f = log["eval_log_forget.json"]
    idx = sorted(f["avg_gt_loss"], key=int)
    para = np.array([f["avg_paraphrased_loss"][i] for i in idx])
    pert = np.array([np.mean(f["average_perturb_loss"][i]) for i in idx])
    ratio = np.exp(-pert) / np.exp(-para)  # OU: wrong_prob / correct_prob
    texts = f["generated_text"]
    ou = {
        "forget_truth_ratio": {
            "agg_value": float(np.mean(np.minimum(ratio, 1 / ratio))),
            "value_by_index": {i: {"score": float(r)} for i, r in zip(idx, ratio)}},
        "forget_Q_A_ROUGE": {
            "agg_value": float(np.mean([f["rougeL_recall"][i] for i in idx])),
            "value_by_index": {i: {"rouge1_recall": 1.0, "rougeL_f1": 1.0,
                                   "rougeL_recall": f["rougeL_recall"][i],
                                   "input": texts[i][0], "generation": texts[i][1],
                                   "ground_truth": texts[i][2]} for i in sorted(texts, key=int)}},
        "forget_Q_A_Prob": {"agg_value": 0.9, "value_by_index": {
            i: {"prob": 0.9, "avg_loss": 0.105} for i in idx}},
        "mia_min_k": {"agg_value": mia_min_k, "auc": mia_min_k,
                      "forget": {"agg_value": 1.0, "value_by_index": {}},
                      "holdout": {"agg_value": 2.0, "value_by_index": {}}},
        "privleak": {"agg_value": 12.5},
        "forget_quality": {"agg_value": None},
        "extraction_strength": {"agg_value": 0.31, "value_by_index": {"0": {"score": 0.31}}},
    }
    components = dict(zip(
        ["retain_Q_A_Prob", "retain_Q_A_ROUGE", "retain_Truth_Ratio", "ra_Q_A_Prob_normalised",
         "ra_Q_A_ROUGE", "ra_Truth_Ratio", "wf_Q_A_Prob_normalised", "wf_Q_A_ROUGE",
         "wf_Truth_Ratio"], [0.9, 0.8, 0.4, 0.45, 0.92, 0.57, 0.41, 0.9, 0.54]))
    for k, v in components.items():
        ou[k] = {"agg_value": v, "value_by_index": {"0": {"prob": v}}}
    ou["model_utility"] = {"agg_value": 9 / sum(1 / v for v in components.values())}
    return ou


def test_open_unlearning_eval_json_imports(tmp_path: Path) -> None:
    run = tmp_path / "saves" / "eval" / "tofu_npo" / "TOFU_EVAL.json"
    run.parent.mkdir(parents=True)
    run.write_text(json.dumps(_ou_log(FINETUNED, 0.8), indent=4))
    gold = tmp_path / "saves" / "eval" / "tofu_retain90" / "TOFU_EVAL.json"
    gold.parent.mkdir(parents=True)
    gold.write_text(json.dumps(_ou_log(RETAIN90, 0.5), indent=4))
    results = tmp_path / "results"

    out, rec, notes = import_log(run, model=MODEL, strategy="npo", gold=gold,
                                 results_dir=results)
    m = rec["metrics"]
    assert rec["source"]["format"] == "open-unlearning" and rec["config"]["strategy"] == "npo"
    assert rel_err(m["forget_quality"], FQ_FINETUNED_VS_RETAIN90) < REL
    assert rel_err(m["forget_truth_ratio"], 0.516) < REL
    assert m["model_utility"] == pytest.approx(9 / sum(1 / v for v in (
        0.9, 0.8, 0.4, 0.45, 0.92, 0.57, 0.41, 0.9, 0.54)))
    assert m["privleak"] == pytest.approx(-60.0)  # recomputed from both min-k AUCs (0.8, 0.5)
    assert m["extraction_strength"] == 0.31 and m["mia_loss"] is None
    assert rec["source"]["rouge_check"] == {"items": 20, "max_abs_diff": 0.0}
    assert len(rec["per_example"]["forget_truth_ratio"]) == 300
    assert out.parent == results / "tofu" / f"{MODEL}_forget10"
    assert out.name.startswith("npo__s0__")

    # a legacy gold log serves as well; without a gold log forget quality stays null
    _, rec2, _ = import_log(run, model=MODEL, strategy="npo", gold=RETAIN90,
                            results_dir=results)
    assert rec2["metrics"]["forget_quality"] == pytest.approx(m["forget_quality"], rel=1e-6)
    _, rec3, notes3 = import_log(run, model=MODEL, results_dir=results)
    assert rec3["metrics"]["forget_quality"] is None
    assert rec3["metrics"]["privleak"] == 12.5  # as logged
    assert rec3["config"]["strategy"] == "tofu_npo"  # default label: the run's folder
    assert any("no --gold" in n for n in notes3)


def test_cli_import_writes_records(tmp_path: Path) -> None:
    runner = CliRunner()
    for path in (FINETUNED, RETAIN90):
        r = runner.invoke(cli, ["import", str(path), "--model", MODEL, "--gold", str(RETAIN90),
                                "--results-dir", str(tmp_path / "results")])
        assert r.exit_code == 0, (r.output, r.exception)
        assert "wrote" in r.output and "model_utility 0.6" in r.output
    recs = load_records(tmp_path / "results", "tofu")
    assert sorted(r["config"]["strategy"] for r in recs) == ["original", "retrain"]
    for rec in recs:
        assert rec["schema"] == "erasus-bench/record/1" and rec["protocol"] == "tofu"
        assert rec["status"] == "ok" and rec["timings"] == {}
        assert rec["config"]["protocol_config"] == {"split": "forget10", "dataset": "locuslab/TOFU",
                                                    "model": MODEL}
        assert rec["config"]["selector"] is None and rec["config"]["fraction"] is None
        assert rec["provenance"]["data_is_default"] is False
        assert set(rec["source"]["sha256"]) == set(rec["source"]["files"])
        assert rec["command"].startswith("erasus-bench ") and rec["created"].endswith("Z")
        assert rec["path"].endswith(f"__{rec['config_hash'][:8]}.json")
    r = runner.invoke(cli, ["import", str(FINETUNED), "--model", MODEL, "--strategy", "my-run",
                            "--results-dir", str(tmp_path / "results")])
    assert r.exit_code == 0 and "my-run" in r.output
    assert "forget_quality is null" in r.output  # the note (stderr is mixed in)


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "erasus_bench.cli", *args], cwd=cwd,
                          capture_output=True, text=True, env={**os.environ})


@pytest.mark.parametrize(("args", "expected"), [
    (["import", "missing.json", "--model", MODEL], "'missing.json' does not exist"),
    (["import", str(FINETUNED), "--model", MODEL, "--format", "tofu-legcy"],
     "unknown format 'tofu-legcy'. Did you mean 'tofu-legacy'? Valid choices: auto, "
     "lm-eval, muse-csv, open-unlearning, open-unlearning-muse, tofu-legacy"),
    (["import", "notalog.json", "--model", MODEL],
     "is not a TOFU evaluation log (found: hello). Valid formats: tofu-legacy"),
    (["import", str(FINETUNED), "--model", MODEL, "--split", "forget20"],
     "unknown split 'forget20'."),
])
def test_bad_input_exits_2(args: list[str], expected: str, tmp_path: Path) -> None:
    (tmp_path / "notalog.json").write_text('{"hello": 1}')
    r = _cli(args, tmp_path)
    assert r.returncode == 2, r.stderr
    assert expected in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "results").exists()


def test_bad_input_in_process(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="is in the open-unlearning format, not tofu-legacy"):
        bad = tmp_path / "TOFU_EVAL.json"
        bad.write_text(json.dumps({"model_utility": {"agg_value": 0.5}}))
        import_log(bad, model=MODEL, fmt="tofu-legacy", results_dir=tmp_path)
    broken = json.loads(FINETUNED.read_text())
    del broken["eval_real_world_wo_options.json"]
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    with pytest.raises(UserError, match="world facts split 'eval_real_world_wo_options.json'"):
        import_log(tmp_path / "broken.json", model=MODEL, results_dir=tmp_path)
    with pytest.raises(UserError, match="gold model of forget05, not of --split forget10"):
        import_log(RETAIN90, model=MODEL, strategy="retain95", results_dir=tmp_path)
    with pytest.raises(UserError, match="without TOFU metrics"):
        (tmp_path / "MUSE_EVAL.json").write_text(json.dumps({"knowmem_f": {"agg_value": 0.3}}))
        import_log(tmp_path / "MUSE_EVAL.json", model=MODEL, results_dir=tmp_path)
    with pytest.raises(UserError, match="--strategy 'a b' is invalid"):
        import_log(FINETUNED, model=MODEL, strategy="a b", results_dir=tmp_path)
    assert not list(tmp_path.glob("tofu/**/*.json"))
