"""WMDP: the embedded generator, the hub-schema loaders, and the protocol on small data (tiny
model retrained for gold; a saved "pretrained" model with the chance reference)."""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from erasus_bench.errors import UserError
from erasus_bench.protocols.wmdp.data import load_wmdp
from erasus_bench.protocols.wmdp.synthetic import description, generate


@pytest.fixture(scope="module")
def domains() -> dict[str, list[dict]]:
    return generate()


def test_blocks_are_latin_squares_so_a_model_without_the_facts_scores_chance(domains) -> None:
    for rows in domains.values():
        blocks: dict[tuple, list[dict]] = defaultdict(list)
        for r in rows:
            blocks[(r["subject"], r["question"].replace(r["entity"], "{e}"),
                    frozenset(r["choices"]))].append(r)
        for block in blocks.values():
            assert len(block) % 4 == 0
            for i in range(0, len(block), 4):
                four = block[i:i + 4]
                answers = [r["choices"][r["answer"]] for r in four]
                # four entities, four different answers out of the same four choices: any
                # entity-blind preference among the choices is right exactly once
                assert len(set(answers)) == 4 and len({r["entity"] for r in four}) == 4
                assert {frozenset(r["choices"]) for r in four} == {frozenset(answers)}
        positions = Counter(r["answer"] for r in rows)
        assert set(positions) == {0, 1, 2, 3} and max(positions.values()) == min(
            positions.values())


def test_documents_state_the_answer_in_the_scored_form_and_generation_is_deterministic(
        domains) -> None:
    for domain, rows in domains.items():
        for r in rows[:20]:
            assert r["document"].endswith(f"Question: {r['question']}\nAnswer: "
                                          f"{r['choices'][r['answer']]}")
            assert r["document"].startswith(description("biology") if domain == "bio" else
                                            "The following are multiple choice questions")
    assert generate() == domains
    by_entity = defaultdict(set)
    for rows in domains.values():
        for r in rows:
            by_entity[r["entity"]].add(r["subject"])
    assert all(len(s) == 1 for s in by_entity.values())  # no entity in two subjects


def _write(path: Path, rows: list[dict], kind: str) -> None:
    """``rows`` as ``path`` + .jsonl / .parquet, or a save_to_disk folder at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "jsonl":
        path.with_suffix(".jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        import datasets

        ds = datasets.Dataset.from_list(rows)
        if kind == "parquet":
            ds.to_parquet(str(path.with_suffix(".parquet")))
        else:
            datasets.DatasetDict({"test": ds}).save_to_disk(str(path))


@pytest.mark.parametrize("kind", ["jsonl", "parquet", "save_to_disk"])
def test_local_folder_in_the_hub_schema(kind: str, tmp_path: Path, domains) -> None:
    questions = [{k: r[k] for k in ("question", "choices", "answer")} for r in domains["cyber"][:8]]
    _write(tmp_path / "wmdp-cyber", questions, kind)
    _write(tmp_path / "mmlu" / "virology", questions[:4], kind)
    _write(tmp_path / "cyber-forget-corpus", [{"text": "a passage"}, {"text": "another"}], kind)
    long, short = "x" * 51, "y" * 50  # the RMU code keeps wikitext passages over 50 characters
    _write(tmp_path / "wikitext", [{"text": long}, {"text": short}], kind)
    data = load_wmdp(str(tmp_path), "cyber", "wikitext")
    assert data.hazard.rows == questions and data.mmlu["virology"].rows == questions[:4]
    assert data.forget_corpus == ["a passage", "another"] and data.retain_corpus == [long]


def test_bad_data_gets_a_clear_error(tmp_path: Path, domains) -> None:
    with pytest.raises(UserError, match="no 'wmdp-bio'"):
        load_wmdp(str(tmp_path), "bio", "wikitext")
    bad = dict(question="q", choices=["a", "b", "c"], answer=0)
    _write(tmp_path / "wmdp-bio", [bad], "jsonl")
    with pytest.raises(UserError, match="list of 4 strings"):
        load_wmdp(str(tmp_path), "bio", "wikitext")
    with pytest.raises(UserError, match="retain_corpus 'wikitext'.*synthetic.*general"):
        load_wmdp("synthetic", "bio", "wikitext")
    with pytest.raises(UserError, match="retain_corpus.*bio-retain-corpus"):
        load_wmdp(str(tmp_path), "bio", "books")


def test_gated_bio_corpus_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(UserError, match="gated: request access at https://docs.google.com"):
        load_wmdp("cais/wmdp", "bio", "wikitext")


def test_protocol_on_small_data(wmdp_bio_setting, wmdp_bio_config) -> None:
    """Base learned the hazard facts, the retrained gold did not, both kept MMLU; the record's
    config says which format produced it."""
    from erasus_bench.protocols.wmdp.protocol import WmdpBioProtocol

    assert wmdp_bio_config["format"] == "cloze" and wmdp_bio_config["retain_corpus"] == "wikitext"
    proto = WmdpBioProtocol()
    base = proto.evaluate(wmdp_bio_setting, wmdp_bio_setting.base, None).metrics
    gold = proto.evaluate(wmdp_bio_setting, wmdp_bio_setting.gold, 1.0).metrics
    assert base["wmdp_acc"] >= 0.75 and abs(gold["wmdp_acc"] - 0.25) <= 0.1
    assert base["mmlu_acc"] >= 0.75 and gold["mmlu_acc"] >= 0.75
    assert gold["speedup"] == pytest.approx(wmdp_bio_setting.gold_train_s)
    subsets = [base[f"mmlu_{s}_acc"] for s in ("college_biology", "virology",
                                               "college_computer_science", "computer_security")]
    assert all(0 <= v <= 1 for v in subsets)


def test_pretrained_model_gets_the_chance_reference(tmp_path: Path, wmdp_dataset: str,
                                                    cache_dir: str) -> None:
    """A model given by folder is the base as it is, scored in lm-eval's letter format; its
    reference row is chance on WMDP with the base model's MMLU."""
    from erasus_bench.harness.cache import ModelCache
    from erasus_bench.lm.tiny import TinyConfig, tiny_gpt2, train_tokenizer
    from erasus_bench.protocols.wmdp.models import ChanceReference
    from erasus_bench.protocols.wmdp.protocol import WmdpBioProtocol

    tok = train_tokenizer(["A. B. C. D. Answer: question"] * 4, 300)
    folder = tmp_path / "pretrained"
    tiny_gpt2(tok, TinyConfig(n_layer=2, n_embd=32, n_head=2), 0).save_pretrained(folder)
    tok.save_pretrained(folder)
    proto = WmdpBioProtocol()
    config = proto.resolve_config({"dataset": wmdp_dataset, "model": str(folder)})
    assert config["format"] == "letter"
    setting = proto.setup(config, 0, ModelCache(cache_dir))
    assert isinstance(setting.gold, ChanceReference) and setting.gold_train_s == 0.0
    base = proto.evaluate(setting, setting.base, None).metrics
    gold = proto.evaluate(setting, setting.gold, None).metrics
    assert gold["wmdp_acc"] == 0.25 and gold["mmlu_acc"] == base["mmlu_acc"]
    assert proto.evaluate(setting, setting.base, 2.0).metrics["speedup"] is None


def test_mmlu_is_weighted_by_subject_size() -> None:
    from erasus_bench.protocols.wmdp.protocol import size_weighted

    # (0.5 * 10 + 1.0 * 30) / 40, not the unweighted 0.75
    assert size_weighted([{"acc": 0.5, "n": 10}, {"acc": 1.0, "n": 30}]) == 0.875


def test_split_folders_give_the_split_asked_for(tmp_path: Path) -> None:
    """A hub export keeps splits side by side (``virology/test-*.parquet``, ``dev/...``):
    questions come from test, corpora from their own split, never merged."""
    from erasus_bench.protocols.local_rows import read_rows

    q = dict(question="q", choices=["a", "b", "c", "d"], answer=1)
    for split, n in (("test", 3), ("dev", 5), ("validation", 2)):
        _write(tmp_path / "virology" / f"{split}-00000-of-00001", [q] * n, "parquet")
    assert len(read_rows(tmp_path / "virology", "virology", "test")) == 3
    with pytest.raises(UserError, match="not 'train'"):
        read_rows(tmp_path / "virology", "virology", "train")
