"""The `tofu` protocol end to end on a small synthetic TOFU: prompts and masks, the model layer
(memorisation, batched scoring and generation), the metric suite against gold, the CLI."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from erasus_bench.cli import cli
from erasus_bench.errors import UserError
from erasus_bench.harness.cache import ModelCache
from erasus_bench.lm.generate import generate
from erasus_bench.lm.load import load_pretrained
from erasus_bench.lm.prompt import (HELPFUL, IGNORE, PINNED_DATE, chat_args, encode_prompts,
                                    encode_qa, prompt_text)
from erasus_bench.lm.scoring import token_stats
from erasus_bench.metrics import tofu as T
from erasus_bench.protocols.tofu.evaluation import UTILITY
from erasus_bench.protocols.tofu.protocol import TofuProtocol


def test_answer_tokens_only_are_labelled(tofu_setting) -> None:
    tok = tofu_setting.extra["tokenizer"]
    enc = encode_qa(tok, ["Who wrote it?", "Where?"], ["Ana Bel wrote it.", "Here"])
    for i, answer in enumerate(["Ana Bel wrote it.", "Here"]):
        labelled = enc["labels"][i][enc["labels"][i] != IGNORE].tolist()
        assert labelled[-1] == tok.eos_token_id
        assert tok.decode(labelled[:-1]).strip() == answer
        n = int(enc["attention_mask"][i].sum())
        assert (enc["labels"][i][n:] == IGNORE).all()  # padding is never scored
        assert "Question: " in tok.decode(enc["input_ids"][i][:n])


def test_chat_template_is_used_when_the_tokenizer_has_one(tofu_setting) -> None:
    import copy

    tok = copy.deepcopy(tofu_setting.extra["tokenizer"])
    tok.chat_template = ("{% for m in messages %}<user>{{ m['content'] }}</user>{% endfor %}"
                         "{% if add_generation_prompt %}<bot>{% endif %}")
    enc = encode_qa(tok, ["Who wrote it?"], ["Ana Bel wrote it."])
    text = tok.decode(enc["input_ids"][0])
    assert text.startswith("<user>Who wrote it?</user><bot>") and "Question:" not in text
    labelled = enc["labels"][0][enc["labels"][0] != IGNORE].tolist()
    assert tok.decode(labelled[:-1]) == "Ana Bel wrote it."
    prompt = encode_prompts(tok, ["Who wrote it?"])
    assert tok.decode(prompt["input_ids"][0]).endswith("<bot>")


# a template that, like Llama-3's, writes today's date unless date_string is given, and also
# reads the clock directly
DATED_TEMPLATE = (
    "{% if date_string is not defined %}{% set date_string = strftime_now('%d %b %Y') %}"
    "{% endif %}<date>{{ date_string }}|{{ strftime_now('%Y-%m-%d') }}</date>"
    "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}</{{ m['role'] }}>{% endfor %}"
    "{% if add_generation_prompt %}<bot>{% endif %}")


def _dated_tokenizer(tofu_setting, name: str = "some/model", template: str = DATED_TEMPLATE):
    import copy

    tok = copy.deepcopy(tofu_setting.extra["tokenizer"])
    tok.chat_template = template
    tok.name_or_path = name
    return tok


def _set_today(monkeypatch, year: int, month: int, day: int) -> None:
    import datetime as dt

    import transformers.utils.chat_template_utils as ctu

    class Today(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return dt.datetime(year, month, day)

    monkeypatch.setattr(ctu, "datetime", Today)


def test_chat_prompts_do_not_depend_on_the_date(tofu_setting, monkeypatch) -> None:
    tok = _dated_tokenizer(tofu_setting)
    msgs = [{"role": "user", "content": "Who wrote it?"}]
    seen = []
    for day in ((2024, 1, 1), (2031, 7, 9)):
        _set_today(monkeypatch, *day)
        raw = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
        seen.append((raw, prompt_text(tok, "Who wrote it?"),
                     encode_qa(tok, ["Who wrote it?"], ["Ana Bel."])["input_ids"],
                     encode_prompts(tok, ["Who wrote it?"])["input_ids"]))
    (raw1, p1, qa1, g1), (raw2, p2, qa2, g2) = seen
    assert raw1 != raw2  # the template does read the clock
    assert p1 == p2 and torch.equal(qa1, qa2) and torch.equal(g1, g2)
    assert p1.startswith(f"<date>{PINNED_DATE}|2025-04-10</date><user>Who wrote it?</user>")


def test_chat_args_are_pinned_per_model(tofu_setting) -> None:
    llama = _dated_tokenizer(tofu_setting, "meta-llama/Llama-3.2-1B-Instruct")
    assert chat_args(llama).system_prompt == HELPFUL == "You are a helpful assistant."
    assert chat_args(llama).date_string == "10 Apr 2025"  # open-unlearning's pin
    assert prompt_text(llama, "Q?") == (f"<date>{PINNED_DATE}|2025-04-10</date><system>{HELPFUL}"
                                        "</system><user>Q?</user><bot>")
    # a local copy is recognised by its template
    local = _dated_tokenizer(tofu_setting, "/models/mine",
                             DATED_TEMPLATE + "{# Cutting Knowledge Date: December 2023 #}")
    assert chat_args(local).system_prompt == HELPFUL
    # unknown models and SmolLM2: no system prompt of ours, date still pinned
    for name in ("some/model", "/cache/hf/smollm2-135m-instruct"):
        tok = _dated_tokenizer(tofu_setting, name)
        assert chat_args(tok).system_prompt is None
        assert prompt_text(tok, "Q?") == (f"<date>{PINNED_DATE}|2025-04-10</date>"
                                          "<user>Q?</user><bot>")


def test_idk_dpo_gets_every_idk_answer_for_every_forget_item(tofu_setting) -> None:
    from erasus_bench.protocols.tofu.idk import IDK_RESPONSES

    t = tofu_setting.forget.tensors
    n = len(t["input_ids"])
    assert t["idk_input_ids"].shape[:2] == (n, len(IDK_RESPONSES))
    tok = tofu_setting.extra["tokenizer"]
    labels = t["idk_labels"][0, 3]
    assert tok.decode(labels[labels != IGNORE].tolist()[:-1]).strip() == IDK_RESPONSES[3]


def test_base_memorises_and_gold_never_saw_the_forget_set(tofu_setting) -> None:
    s = tofu_setting
    ad = s.adapter
    base_forget = ad.evaluate_losses(s.base, s.forget).mean().item()
    base_retain = ad.evaluate_losses(s.base, s.retain).mean().item()
    gold_forget = ad.evaluate_losses(s.gold, s.forget).mean().item()
    gold_retain = ad.evaluate_losses(s.gold, s.retain).mean().item()
    assert base_forget < 0.3 and base_retain < 0.3
    assert gold_retain < 0.3 and gold_forget > 5 * base_forget + 1.0


def test_each_role_trains_alone_into_the_cache_setup_reads(tofu_setting, tofu_config: dict,
                                                            cache_dir: str) -> None:
    # the harness trains base and gold as separate (parallel) jobs; setup must find exactly those
    models = sorted((Path(cache_dir) / "models").glob("*.pt"))
    for role, expected in (("base", tofu_setting.base), ("gold", tofu_setting.gold)):
        model, _ = TofuProtocol().train(tofu_config, 0, ModelCache(cache_dir), role)
        assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                      expected.state_dict().values()))
    assert sorted((Path(cache_dir) / "models").glob("*.pt")) == models


def test_one_forward_pass_gives_the_adapter_losses(tofu_setting) -> None:
    s = tofu_setting
    stats = token_stats(s.base, s.forget, batch_size=7)
    expected = s.adapter.evaluate_losses(s.base, s.forget).double().numpy()
    # float32: batches of other widths sum in another order
    np.testing.assert_allclose(stats.avg_nll, expected, rtol=2e-3, atol=1e-5)
    # per-token values cover exactly the labelled answer tokens
    counts = (s.forget.tensors["labels"] != IGNORE).sum(1).tolist()
    assert [len(lp) for lp in stats.logprob] == counts == [len(p) for p in stats.preds]
    # the token-level metrics' view drops the last labelled position, the EOS prediction
    eos = s.forget.tensors["input_ids"][
        torch.arange(len(counts)), s.forget.tensors["attention_mask"].sum(1) - 1]
    assert (eos == s.extra["tokenizer"].eos_token_id).all()
    cut = stats.without_eos()
    assert [len(lp) for lp in cut.logprob] == [c - 1 for c in counts]
    assert all(np.array_equal(a, b[:-1]) for a, b in zip(cut.labels, stats.labels))


def test_batched_left_padded_generation_matches_one_by_one(tofu_setting) -> None:
    s = tofu_setting
    tok = s.extra["tokenizer"]
    questions = s.extra["sets"].forget.questions[:4] + ["Hi?"]
    batched = generate(s.base, tok, questions, 24, batch_size=5)
    single = [generate(s.base, tok, [q], 24)[0] for q in questions]
    assert batched == single
    # the memorised base reproduces its training answers
    answers = s.extra["sets"].forget.answers[:4]
    assert np.mean(T.rouge_l_recall(batched[:4], answers)) > 0.9


def test_metric_suite_against_gold(tofu_setting) -> None:
    s = tofu_setting
    p = TofuProtocol()
    gold = p.evaluate(s, s.gold, None)
    base = p.evaluate(s, s.base, None)
    assert gold.metrics["forget_quality"] == 1.0 and gold.metrics["privleak"] == 0.0
    # the base model knows the forget facts: its truth ratios (wrong vs paraphrased answer) are
    # below gold's on most items. (Not a KS threshold: on 10 items p is coarse, and the
    # paraphrased and perturbed answers share the author's name, several tokens long since the
    # tokenizer learns no author name, which dilutes the length-normalised ratio.)
    rb = np.array(base.per_example["forget_truth_ratio"])
    rg = np.array(gold.per_example["forget_truth_ratio"])
    assert np.mean(rb < rg) >= 0.8 and np.median(rb) < np.median(rg)
    assert base.metrics["forget_truth_ratio"] < gold.metrics["forget_truth_ratio"]
    assert base.metrics["forget_quality"] < 1.0
    assert base.metrics["forget_Q_A_Prob"] > 0.8 > gold.metrics["forget_Q_A_Prob"]
    assert base.metrics["forget_Q_A_ROUGE"] > gold.metrics["forget_Q_A_ROUGE"]
    assert base.metrics["mia_min_k"] > gold.metrics["mia_min_k"]
    for ev in (gold, base):
        m = ev.metrics
        assert m["model_utility"] == pytest.approx(
            len(UTILITY) / sum(1 / m[k] for k in UTILITY))
        assert set(m) == set(p.metric_names())
        assert {"forward_s", "generate_s"} <= set(ev.timings)
    # forget quality is the KS p-value of the two models' per-item truth ratios
    from scipy.stats import ks_2samp

    assert base.metrics["forget_quality"] == pytest.approx(ks_2samp(
        base.per_example["forget_truth_ratio"], gold.per_example["forget_truth_ratio"]).pvalue)


def test_provenance_says_synthetic_default_is_not_the_paper() -> None:
    p = TofuProtocol()
    prov = p.provenance(p.resolve_config({}))
    assert prov["data_is_default"] is True
    assert "not comparable with published TOFU numbers" in prov["benchmark"]
    real = p.provenance(p.resolve_config({"dataset": "locuslab/TOFU", "model": "org/model"}))
    assert real["data_is_default"] is False and "not comparable" not in real["benchmark"]


def test_bad_options_are_named() -> None:
    with pytest.raises(UserError, match="forget20.*forget01, forget05, forget10"):
        TofuProtocol().resolve_config({"split": "forget20"})
    with pytest.raises(UserError, match="no option 'scenario'"):
        TofuProtocol().resolve_config({"scenario": "class"})


def test_missing_model_fails_at_once_with_how_to(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(UserError, match="runs offline by default.*HF_HUB_OFFLINE=0"):
        load_pretrained("nobody-here/no-such-model", tmp_path)
    assert time.perf_counter() - start < 20
    with pytest.raises(UserError, match="neither a folder nor a hub name"):
        load_pretrained("no-such-folder", tmp_path)


def test_cli_run_writes_tofu_records(tofu_dataset: str, cache_dir: str, tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, [
        "run", "--protocol", "tofu", "--dataset", tofu_dataset, "--strategies", "npo",
        "--selectors", "random", "--seeds", "1", "--workers", "1", "--cache-dir", cache_dir,
        "--results-dir", str(tmp_path / "results"), "--leaderboards-dir", str(tmp_path / "lb")])
    assert res.exit_code == 0, res.output
    records = [json.loads(p.read_text()) for p in (tmp_path / "results").rglob("*.json")]
    assert {r["config"]["strategy"] for r in records} == {"original", "retrain", "npo"}
    for r in records:
        assert r["status"] == "ok" and r["protocol"] == "tofu"
        assert r["metrics"]["model_utility"] > 0 and r["metrics"]["forget_quality"] is not None
        assert r["config"]["protocol_config"]["split"] == "forget10"
    npo = next(r for r in records if r["config"]["strategy"] == "npo")
    assert len(npo["per_example"]["coreset"]) == 1  # 10% of the 10 forget QA
    assert npo["timings"]["evaluate_forward_s"] > 0
    page = (tmp_path / "lb" / "tofu.md").read_text()
    assert "npo" in page

