"""`muse`: the metrics against independent computations, the data loaders in MUSE's schema, the
protocol on small data, sequential requests on the sust splits, and task-vector negation."""
from __future__ import annotations

import copy
import json
from itertools import product
from pathlib import Path

import numpy as np
import pytest
import torch

from erasus_bench.errors import UserError
from erasus_bench.harness.cache import ModelCache
from erasus_bench.harness.runner import get_setting, same_weights
from erasus_bench.harness.spec import variant_name
from erasus_bench.metrics import muse as M
from erasus_bench.protocols.muse.data import load_muse
from erasus_bench.protocols.muse.protocol import MuseProtocol
from erasus_bench.protocols.muse.synthetic import generate

ROOT = Path(__file__).resolve().parents[1]


def test_rouge_l_f1_by_hand() -> None:
    # tokens: the cat sat on the mat / the cat lay on the mat: LCS "the cat on the mat" = 5
    assert M.rouge_l_f1(["the cat sat on the mat"], ["The cat lay on the mat."]) == \
        pytest.approx([5 / 6])
    # stemming makes "running"/"runs" match "run": MUSE scores without it, open-unlearning with
    assert M.rouge_l_f1(["running dogs"], ["run dog"]) == [0.0]
    assert M.rouge_l_f1(["running dogs"], ["run dog"], stemmer=True) == [1.0]


def test_min_k_auc_and_privleak_by_hand() -> None:
    assert M.min_k(np.array([-1.0, -2.0, -3.0, -4.0, -5.0])) == pytest.approx(4.5)
    forget, holdout = [0.5, 2.0, 1.0], [3.0, 1.5, 4.0]
    # P(a holdout document's -score ranks above a forget one's), forget labelled 0: count pairs
    pairs = [(-h > -f) + 0.5 * (h == f) for f, h in product(forget, holdout)]
    assert M.forget_holdout_auc(forget, holdout) == pytest.approx(sum(pairs) / len(pairs))
    assert M.forget_holdout_auc([1.0, 1.2], [5.0, 6.0]) == 0.0  # memorised forget set
    assert M.privleak(0.2, 0.5) == pytest.approx(-60.0)
    assert M.privleak(0.4772, 0.4772) == 0.0


def test_knowmem_prompt_and_cut() -> None:
    icl = [{"question": "Q1?", "answer": "A1"}, {"question": "Q2?", "answer": "A2"}]
    assert M.knowmem_prompt(icl, "Q3?") == \
        "Question: Q1?\nAnswer: A1\n\nQuestion: Q2?\nAnswer: A2\n\nQuestion: Q3?\nAnswer: "
    assert M.cut_answer("Paris\n\nQuestion: next") == "Paris"
    assert M.cut_answer("Paris\nQuestion: next") == "Paris"
    assert M.cut_answer("Paris is it") == "Paris is it"


def test_synthetic_data_has_muse_schema_and_nested_disjoint_splits() -> None:
    d = generate()
    assert set(d) == {"raw", "train", "verbmem", "knowmem", "privleak", "scal", "sust"}
    sust = [set(r["text"] for r in d["sust"][f"forget_{k}"]) for k in range(1, 5)]
    assert all(not a & b for i, a in enumerate(sust) for b in sust[i + 1:])  # disjoint
    scal = [set(r["text"] for r in d["scal"][f"forget_{k}"]) for k in range(1, 5)]
    assert all(a < b for a, b in zip(scal, scal[1:])) and scal[3] == set().union(*sust)
    assert sust[0] == {r["text"] for r in d["raw"]["forget"]}
    holdout = {r["text"] for r in d["raw"]["holdout"]}
    assert not holdout & {r["text"] for s in d["train"].values() for r in s}
    for r in d["verbmem"]["forget"]:
        assert any(a["text"].startswith(r["prompt"] + r["gt"] + "\n\nQuestion: ")
                   for a in d["raw"]["forget"])
    icl = {r["question"] for r in d["knowmem"]["forget_qa_icl"]}
    assert len(icl) == 10 and not icl & {r["question"] for r in d["knowmem"]["forget_qa"]}


def test_local_folder_in_the_hub_schema(muse_dataset: str) -> None:
    data = load_muse(muse_dataset, "news")
    assert len(data.forget) == 2 and set(data.sust) == {1, 2} and len(data.scal[2]) == 4
    assert data.knowmem["retain_qa"]  # read from the older split name retain2_qa
    assert len(data.privleak["holdout"]) == 2  # from the parquet export
    assert len(data.train) == 8 and len(data.without(data.forget)) == 6


def test_hub_offline_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(UserError, match="download it once"):
        load_muse("muse-bench/MUSE-News", "news")


def test_bad_data_gets_a_clear_error(tmp_path: Path, muse_dataset: str) -> None:
    with pytest.raises(UserError, match="raw/forget"):
        load_muse(str(tmp_path), "news")
    with pytest.raises(UserError, match="Valid choices: books, news"):
        load_muse(muse_dataset, "poems")
    with pytest.raises(UserError, match="forget_split"):
        MuseProtocol().resolve_config({"forget_split": "forget_9"})


def test_protocol_on_small_data(muse_setting, muse_config: dict) -> None:
    p = MuseProtocol()
    base = p.evaluate(muse_setting, muse_setting.base, None)
    gold = p.evaluate(muse_setting, muse_setting.gold, 1.0)
    assert gold.metrics["privleak"] == 0.0 and base.metrics["privleak"] < 0
    assert base.metrics["verbmem_f"] > gold.metrics["verbmem_f"]
    per = base.per_example
    assert len(per["verbmem_rougeL"]) == len(per["verbmem_generation"]) == 2
    assert base.metrics["knowmem_r"] == pytest.approx(100 * np.mean(per["knowmem_r_rougeL"]))
    auc = M.forget_holdout_auc(per["privleak_forget_min_k"], per["privleak_holdout_min_k"])
    assert base.metrics["privleak"] == pytest.approx(
        M.privleak(auc, per["privleak_auc_retrain"][0]))
    assert "MUSE" in p.provenance(muse_config)["benchmark"]


def test_c5_forget_sizes_run_with_the_values_tuned_on_forget_1() -> None:
    p = MuseProtocol()
    one, three = (p.resolve_config({"forget_split": s}) for s in ("forget_1", "forget_3"))
    assert p.tuning_variant(three) == p.tuning_variant(one) == variant_name(one)
    hp1, src1 = p.resolved_hparams("npo", one)
    hp3, src3 = p.resolved_hparams("npo", three)
    assert src1 is not None and "tuned_on_variant" not in src1  # the committed tuned.json
    assert hp3 == hp1 and src3 == {**src1, "tuned_on_variant": variant_name(one)}
    assert hp1 != p.resolved_hparams("npo", one, "epochs")[0]


def test_requests_are_the_sust_splits(cache_dir: str, muse_config: dict) -> None:
    data = load_muse(muse_config["dataset"], "news")
    s2 = get_setting("muse", muse_config, 0, cache_dir, 2, 2)
    assert len(s2.forget) == 4 and s2.request_idx.tolist() == [2, 3]
    tok, pool = s2.extra["tokenizer"], s2.unlearn_pool().tensors
    rows = [ids[mask.bool()].tolist() for ids, mask in zip(pool["input_ids"],
                                                           pool["attention_mask"])]
    assert rows == [(tok(t)["input_ids"] + [tok.eos_token_id])[:256] for t in data.sust[2]]
    with pytest.raises(UserError, match="valid: 2..2"):
        MuseProtocol().request_setting(muse_config, 0, ModelCache(cache_dir), 3, 1)
    assert len(data.without(data.sust[1] + data.sust[2])) == 4


def test_task_vector_subtracts_alpha_times_the_finetuning_change(muse_setting) -> None:
    from erasus_bench.methods.strategies.task_vector import TaskVector
    from erasus_bench.methods.task import UnlearnTask

    def run(alpha: float) -> torch.nn.Module:
        s = muse_setting
        task = UnlearnTask(model=copy.deepcopy(s.base), original=copy.deepcopy(s.base),
                           forget=s.forget, retain=s.retain, adapter=s.adapter, seed=0)
        torch.manual_seed(0)
        return TaskVector(steps=3, batch_size=2, lr=1e-3, optimizer="adam",
                          alpha=alpha).unlearn(task)

    base = {n: p.detach() for n, p in muse_setting.base.named_parameters()}
    finetuned = dict(run(-1.0).named_parameters())  # theta + 1 x change = the fine-tuned model
    negated = dict(run(1.0).named_parameters())
    for n, p in base.items():
        torch.testing.assert_close(negated[n], 2 * p - finetuned[n], rtol=1e-5, atol=1e-6)
    assert same_weights(run(0.0), muse_setting.base)


def _committed() -> list[dict]:
    return [{**json.loads(p.read_text()), "path": str(p)}
            for p in sorted((ROOT / "results" / "muse").glob("**/*.json"))]


@pytest.mark.skipif(not _committed(), reason="no committed muse records")
def test_every_committed_aggregate_recomputes_from_its_per_item_values() -> None:
    checked = 0
    for rec in _committed():
        m, per = rec["metrics"], rec["per_example"]
        if rec["status"] != "ok" or m.get("verbmem_f") is None or "trust" in rec:
            continue  # trust records keep aggregates only (`erasus-bench trust`)
        for name, key in (("verbmem_f", "verbmem_rougeL"), ("knowmem_f", "knowmem_f_rougeL"),
                          ("knowmem_r", "knowmem_r_rougeL")):
            assert m[name] == pytest.approx(100 * np.mean(per[key]), rel=1e-12), rec["path"]
        auc = M.forget_holdout_auc(per["privleak_forget_min_k"], per["privleak_holdout_min_k"])
        assert m["privleak"] == pytest.approx(M.privleak(auc, per["privleak_auc_retrain"][0]),
                                              rel=1e-12, abs=1e-12)
        checked += 1
    assert checked, "no committed muse record carries per-item values"


def test_import_muse_csv(tmp_path: Path) -> None:
    from erasus_bench.importers import import_muse

    log = tmp_path / "out.csv"
    log.write_text("name,verbmem_f,privleak,knowmem_f,knowmem_r\n"
                   "target,58.29,-98.71,62.93,54.31\nretrain,20.75,0.0,33.32,53.79\n"
                   "npo,0.0,24.4,0.0,0.0\n")
    written = import_muse(log, model="muse-bench/MUSE-News_target", results_dir=tmp_path / "r")
    rows = {r["config"]["strategy"]: r for _, r in written}
    assert set(rows) == {"original", "retrain", "npo"}
    assert rows["original"]["metrics"]["verbmem_f"] == 58.29
    assert rows["npo"]["config"]["protocol_config"]["dataset"] == "muse-bench/MUSE-News"
    bad = tmp_path / "bad.csv"
    bad.write_text("name,verbmem_f\nx,high\n")
    with pytest.raises(UserError, match="verbmem_f 'high' is not a number"):
        import_muse(bad, model="m", results_dir=tmp_path / "r")


def _ou_log(path: Path, rouge: list[float], forget: list[float], holdout: list[float]) -> Path:
    def entry(values: list[float], key: str) -> dict:
        return {"agg_value": float(np.mean(values)),
                "value_by_index": {str(i): {key: v, "generation": f"g{i}"}
                                   for i, v in enumerate(values)}}

    data = {k: entry(rouge, "rougeL_f1") for k in ("forget_verbmem_ROUGE",
                                                   "forget_knowmem_ROUGE",
                                                   "retain_knowmem_ROUGE")}
    data["mia_min_k"] = {"forget": entry(forget, "score"), "holdout": entry(holdout, "score"),
                         "agg_value": 0.1}
    data["privleak"] = {"agg_value": -80.0}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def test_import_open_unlearning_muse_eval(tmp_path: Path) -> None:
    from erasus_bench.importers import import_muse

    log = _ou_log(tmp_path / "npo" / "MUSE_EVAL.json", [0.2, 0.4], [1.0, 1.1, 3.0],
                  [2.0, 2.5, 4.0])
    (_, rec), = import_muse(log, model="Llama-2-7b", results_dir=tmp_path / "r")
    assert rec["config"]["strategy"] == "npo" and rec["config"]["protocol_config"]["stemmer"]
    assert rec["metrics"]["verbmem_f"] == pytest.approx(30.0)
    auc = M.forget_holdout_auc([1.0, 1.1, 3.0], [2.0, 2.5, 4.0])
    assert rec["metrics"]["privleak"] == pytest.approx(M.privleak(auc, 0.4772))
    gold = _ou_log(tmp_path / "retrain" / "MUSE_EVAL.json", [0.1], [2.0, 3.0], [2.5, 1.0])
    (_, rec), = import_muse(log, model="Llama-2-7b", gold=gold, results_dir=tmp_path / "r")
    assert rec["metrics"]["privleak"] == pytest.approx(
        M.privleak(auc, M.forget_holdout_auc([2.0, 3.0], [2.5, 1.0])))
    assert rec["per_example"]["verbmem_generation"] == ["g0", "g1"]
