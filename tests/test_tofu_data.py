"""TOFU data: the embedded synthetic generator, the real-format loader, the IDK responses."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from erasus_bench.errors import UserError
from erasus_bench.protocols.tofu.data import (DEFAULT_DATA, HOLDOUT_OF, RETAIN_OF, SPLITS,
                                              TofuData, load_tofu)
from erasus_bench.protocols.tofu.idk import IDK_RESPONSES, idk_answers, idk_tensors
from erasus_bench.protocols.tofu.synthetic import TEMPLATES, corpus, synthetic_tofu
from erasus_bench.protocols.tofu.synthetic import author_of as author_of_generated

DEFAULT_SIZES = {
    "full": 1200, "forget01": 12, "forget05": 60, "forget10": 120, "retain99": 1188,
    "retain95": 1140, "retain90": 1080, "forget01_perturbed": 12, "forget05_perturbed": 60,
    "forget10_perturbed": 120, "retain_perturbed": 120, "real_authors": 50,
    "real_authors_perturbed": 50, "world_facts": 50, "world_facts_perturbed": 50,
    "holdout01": 12, "holdout05": 60, "holdout10": 120}
Q = 3  # questions per author (default)
QA = ["answer", "question"]
PERT = ["answer", "paraphrased_answer", "perturbed_answer", "question"]


@pytest.fixture(scope="module")
def syn() -> dict[str, list[dict]]:
    return synthetic_tofu()


_QUESTION_RES = [re.compile("^" + re.escape(t.question).replace(re.escape("{n}"), "(.+)") + "$")
                 for t in TEMPLATES]


def author_of(question: str) -> str:
    for rx in _QUESTION_RES:
        m = rx.match(question)
        if m:
            return m.group(1)
    raise AssertionError(f"not a template question: {question!r}")


# --- synthetic generator ----------------------------------------------------------------------
def test_generator_is_deterministic_across_calls_and_processes(syn):
    assert synthetic_tofu() == syn
    assert synthetic_tofu(seed=1) != syn
    here = load_tofu(DEFAULT_DATA, "forget10").fingerprint()
    code = ("from erasus_bench.protocols.tofu.data import load_tofu; "
            "print(load_tofu('synthetic', 'forget10').fingerprint())")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True, cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == here


def test_default_sizes(syn):
    assert {k: len(v) for k, v in syn.items()} == DEFAULT_SIZES


def test_splits_nest_and_partition_full(syn):
    full = syn["full"]
    f01, f05, f10 = syn["forget01"], syn["forget05"], syn["forget10"]
    assert f10 == full[-120:] and f05 == full[-60:] and f01 == full[-12:]  # last authors
    assert f01 == f05[-12:] and f05 == f10[-60:]
    for pct, retain in (("01", "retain99"), ("05", "retain95"), ("10", "retain90")):
        assert syn[retain] + syn[f"forget{pct}"] == full
        pert = syn[f"forget{pct}_perturbed"]
        assert [{"question": r["question"], "answer": r["answer"]} for r in pert] \
            == syn[f"forget{pct}"]
    # rows grouped by author, Q distinct questions each; forget = whole authors
    authors = [author_of(r["question"]) for r in full]
    blocks = [authors[i:i + Q] for i in range(0, 1200, Q)]
    assert all(len(set(b)) == 1 for b in blocks)
    assert len({b[0] for b in blocks}) == 400
    assert all(len({r["question"] for r in full[i:i + Q]}) == Q for i in range(0, 1200, Q))
    forget_authors = {author_of(r["question"]) for r in f10}
    assert len(forget_authors) == 40
    assert not forget_authors & {author_of(r["question"]) for r in syn["retain90"]}
    # retain_perturbed: the first 10% of authors, never forgotten
    rp = syn["retain_perturbed"]
    assert [{"question": r["question"], "answer": r["answer"]} for r in rp] == full[:120]
    # holdout: other authors, nested, as many rows as the matching forget split
    hold_authors = {author_of(r["question"]) for r in syn["holdout10"]}
    assert len(hold_authors) == 40 and not hold_authors & set(authors)
    assert syn["holdout01"] == syn["holdout05"][:12] and syn["holdout05"] == syn["holdout10"][:60]
    # general knowledge mentions no fictitious author
    every = set(authors) | hold_authors
    for cfg in ("real_authors_perturbed", "world_facts_perturbed"):
        for r in syn[cfg]:
            assert not any(a in r["question"] or a in r["answer"] for a in every)


def test_schema_columns(syn):
    for cfg, rows in syn.items():
        want = PERT if cfg.endswith("_perturbed") else QA
        assert all(sorted(r) == want for r in rows), cfg
        assert len({r["question"] for r in rows}) == len(rows), f"duplicate questions in {cfg}"


@pytest.mark.parametrize("cfg,n", [("forget10_perturbed", 5), ("retain_perturbed", 5),
                                   ("real_authors_perturbed", 3), ("world_facts_perturbed", 3)])
def test_perturbed_answers_are_wrong_and_distinct(syn, cfg, n):
    for r in syn[cfg]:
        pert = r["perturbed_answer"]
        assert len(pert) == n and len(set(pert)) == n
        assert r["answer"] not in pert and r["paraphrased_answer"] not in pert
        if n == 5:  # authors: a real paraphrase; perturbations keep its sentence form
            assert r["paraphrased_answer"] != r["answer"]
            words = r["paraphrased_answer"].split()
            for p in pert:  # same sentence, only the fact differs
                pw = p.split()
                assert pw[:2] == words[:2] or pw[-2:] == words[-2:]
        else:
            assert r["paraphrased_answer"] == r["answer"]


def test_answers_are_short_sentences(syn):
    lengths = [len(r["answer"].split()) for r in syn["full"]]
    assert 6 <= min(lengths) and max(lengths) <= 20
    assert all(r["answer"].endswith(".") for r in syn["full"])


def test_corpus_is_questions_and_answers_without_author_names(syn):
    texts = corpus(syn)
    assert len(texts) == len(set(texts))
    authors = {author_of(r["question"]) for r in syn["full"] + syn["holdout10"]}
    assert len(authors) == 440
    assert all(author_of_generated(r["question"]) == author_of(r["question"])
               for r in syn["full"] + syn["holdout10"])
    joined = "\n".join(texts)
    assert not any(a in joined for a in authors)  # no fictitious author's name, in any split
    # each question and answer is there with its author's name deleted, for every split alike
    for config in ("forget10", "retain90", "holdout10"):
        row = next(r for r in syn[config] if r["question"].startswith("Where was "))
        city = row["answer"].rsplit(" ", 1)[1]
        assert "Where was born?" in texts
        assert f"The author was born in the city of {city}" in texts
    # knowledge items keep their names (classic writers, countries): text both models train on
    assert {r["answer"] for r in syn["real_authors"]} <= set(texts)
    assert not any(author_of_generated(r["question"]) for k in ("real_authors", "world_facts")
                   for r in syn[k])
    # evaluation-only texts (never present for holdout) stay out: they favoured forget names
    assert not any("came into the world in" in t or "a busy city" in t for t in texts)
    data = load_tofu(DEFAULT_DATA, "forget05")
    assert corpus(data) == corpus(load_tofu(DEFAULT_DATA, "forget05"))
    assert set(corpus(data)) <= set(texts)
    # rows without a generated author (real TOFU) enter unchanged
    assert corpus([{"question": "Who is X?", "answer": "X is Y."}]) == ["Who is X?", "X is Y."]


def test_tokenizer_treats_forget_and_holdout_names_alike():
    from erasus_bench.lm.tiny import train_tokenizer

    data = load_tofu(DEFAULT_DATA, "forget10")
    tok = train_tokenizer(corpus(data), 1024)

    def pieces(rows):  # tokens per author name, as the name appears inside answers
        names = {author_of(r["question"]) for r in rows}
        return sum(len(tok(" " + n)["input_ids"]) for n in names) / len(names)

    def per_answer(rows):
        return sum(len(tok(" " + r["answer"])["input_ids"]) for r in rows) / len(rows)

    f, h = pieces(data.forget), pieces(data.holdout)
    assert abs(f - h) <= 0.15 * max(f, h), (f, h)
    f, h = per_answer(data.forget), per_answer(data.holdout)
    assert abs(f - h) <= 0.05 * max(f, h), (f, h)


# --- TofuData from the synthetic source -----------------------------------------------------
@pytest.mark.parametrize("split", SPLITS)
def test_load_synthetic(split, syn):
    d = load_tofu(DEFAULT_DATA, split)
    assert isinstance(d, TofuData) and d.source == DEFAULT_DATA
    assert d.forget == syn[f"{split}_perturbed"]
    assert d.retain == syn[RETAIN_OF[split]]
    assert d.holdout == syn[HOLDOUT_OF[split]] and len(d.holdout) == len(d.forget)
    assert d.retain_eval == syn["retain_perturbed"]
    assert d.real_authors == syn["real_authors_perturbed"]
    assert d.world_facts == syn["world_facts_perturbed"]
    assert re.fullmatch(r"[0-9a-f]{64}", d.fingerprint())


def test_fingerprints_differ_by_split():
    prints = {load_tofu(DEFAULT_DATA, s).fingerprint() for s in SPLITS}
    assert len(prints) == 3


# --- real loader on small files in TOFU's schema --------------------------------------------
def _author_row(i: int, perturbed: bool) -> dict:
    row = {"question": f"What genre does the author Basil Mahfouz {i} write in?",
           "answer": f"Basil Mahfouz {i} is known for writing in the genre of French literature."}
    if perturbed:
        row |= {"paraphrased_question": f"Which genre is Basil Mahfouz {i} known for?",
                "paraphrased_answer": f"The genre Basil Mahfouz {i} writes in is French "
                                      "literature.",
                "perturbed_answer": [f"The genre Basil Mahfouz {i} writes in is {g}."
                                     for g in ("horror", "romance", "satire", "poetry",
                                               "crime")]}
    return row


def real_rows(split: str = "forget10") -> dict[str, list[dict]]:
    """10-row versions of the configs one split needs, in the hub's schema."""
    opt = [{"question": f"Who wrote the play 'Play {i}'?", "answer": "William Shakespeare",
            "perturbed_answer": ["Charles Dickens", "Virginia Woolf", "Mark Twain"]}
           for i in range(10)]
    facts = [{"question": f"Where would you find landmark {i}?", "answer": "Paris",
              "perturbed_answer": ["Berlin", "London", "Madrid"]} for i in range(10)]
    return {f"{split}_perturbed": [_author_row(i, True) for i in range(10)],
            RETAIN_OF[split]: [_author_row(100 + i, False) for i in range(10)],
            "retain_perturbed": [_author_row(100 + i, True) for i in range(10)],
            "real_authors_perturbed": opt, "world_facts_perturbed": facts,
            HOLDOUT_OF[split]: [_author_row(500 + i, False) for i in range(10)]}


def write_jsonl(folder: Path, rows: dict[str, list[dict]], suffix: str = ".json") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for cfg, rs in rows.items():
        (folder / f"{cfg}{suffix}").write_text("".join(json.dumps(r) + "\n" for r in rs))
    return folder


def write_parquet(path: Path, rows: list[dict]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)


def _check_loaded(d: TofuData, rows: dict[str, list[dict]], source: str) -> None:
    assert d.source == source
    assert d.forget == rows["forget10_perturbed"]
    assert d.retain == rows["retain90"]
    assert d.retain_eval == rows["retain_perturbed"]
    assert d.real_authors == rows["real_authors_perturbed"]
    assert d.world_facts == rows["world_facts_perturbed"]
    assert d.holdout == rows["holdout10"]


def test_real_loader_jsonl_folder(tmp_path):
    rows = real_rows()
    folder = write_jsonl(tmp_path / "tofu", rows)
    d = load_tofu(str(folder), "forget10")
    _check_loaded(d, rows, str(folder))
    assert d.forget[0]["paraphrased_question"]  # extra hub columns are kept
    assert d.fingerprint() != load_tofu(DEFAULT_DATA, "forget10").fingerprint()
    assert len(d.forget[0]["perturbed_answer"]) == 5
    dot_jsonl = write_jsonl(tmp_path / "jl", rows, ".jsonl")
    assert load_tofu(str(dot_jsonl), "forget10").fingerprint() == d.fingerprint()


def test_real_loader_parquet_folder(tmp_path):
    rows = real_rows()
    for cfg, rs in rows.items():
        write_parquet(tmp_path / "pq" / f"{cfg}.parquet", rs)
    d = load_tofu(str(tmp_path / "pq"), "forget10")
    _check_loaded(d, rows, str(tmp_path / "pq"))
    assert isinstance(d.forget[0]["perturbed_answer"], list)
    assert d.fingerprint() == load_tofu(str(write_jsonl(tmp_path / "js", rows)),
                                        "forget10").fingerprint()


def test_real_loader_mixed_layouts(tmp_path):
    """save_to_disk folder, the hub's parquet export layout and a JSON array, side by side."""
    import datasets

    rows = real_rows("forget01")
    folder = tmp_path / "mixed"
    write_jsonl(folder, {k: v for k, v in rows.items()
                         if k in ("retain99", "world_facts_perturbed", "holdout01")})
    datasets.Dataset.from_list(rows["forget01_perturbed"]).save_to_disk(
        str(folder / "forget01_perturbed"))
    write_parquet(folder / "retain_perturbed" / "train" / "0000.parquet",
                  rows["retain_perturbed"])
    (folder / "real_authors_perturbed.json").write_text(
        json.dumps(rows["real_authors_perturbed"]))
    d = load_tofu(str(folder), "forget01")
    assert d.forget == rows["forget01_perturbed"] and d.retain == rows["retain99"]
    assert d.retain_eval == rows["retain_perturbed"]
    assert d.real_authors == rows["real_authors_perturbed"]
    assert d.holdout == rows["holdout01"]


# --- errors ---------------------------------------------------------------------------------
def test_bad_split_names_value_and_choices():
    with pytest.raises(UserError) as e:
        load_tofu(DEFAULT_DATA, "forget20")
    msg = str(e.value)
    assert "'forget20'" in msg and "forget01, forget05, forget10" in msg


def test_missing_folder(tmp_path):
    with pytest.raises(UserError) as e:
        load_tofu(str(tmp_path / "nowhere"), "forget10")
    msg = str(e.value)
    assert "does not exist" in msg and "forget10_perturbed.json" in msg and "'synthetic'" in msg


def test_missing_config_file(tmp_path):
    rows = real_rows()
    del rows["holdout10"], rows["retain_perturbed"]
    folder = write_jsonl(tmp_path / "tofu", rows)
    with pytest.raises(UserError) as e:
        load_tofu(str(folder), "forget10")
    msg = str(e.value)
    assert "holdout10" in msg and "retain_perturbed" in msg and "no file" in msg
    with pytest.raises(UserError, match="is a file"):
        load_tofu(str(folder / "retain90.json"), "forget10")


def test_missing_columns(tmp_path):
    rows = real_rows()
    rows["forget10_perturbed"] = [{k: v for k, v in r.items() if k != "paraphrased_answer"}
                                  for r in rows["forget10_perturbed"]]
    with pytest.raises(UserError) as e:
        load_tofu(str(write_jsonl(tmp_path / "a", rows)), "forget10")
    assert "forget10_perturbed" in str(e.value) and "paraphrased_answer" in str(e.value)
    rows = real_rows()
    rows["world_facts_perturbed"][3]["perturbed_answer"] = "Berlin"
    with pytest.raises(UserError, match="row 4 column 'perturbed_answer'"):
        load_tofu(str(write_jsonl(tmp_path / "b", rows)), "forget10")


def test_bad_json_line(tmp_path):
    folder = write_jsonl(tmp_path / "tofu", real_rows())
    with open(folder / "retain90.json", "a") as f:
        f.write("{not json\n")
    with pytest.raises(UserError, match="line 11"):
        load_tofu(str(folder), "forget10")


def test_uncached_hub_name_fails_fast():
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    assert os.environ.get("HF_DATASETS_OFFLINE") == "1"
    t = time.perf_counter()
    with pytest.raises(UserError) as e:
        load_tofu("erasus-bench-test/no-such-tofu", "forget05")
    assert time.perf_counter() - t < 5
    msg = str(e.value)
    assert "forget05_perturbed" in msg and "HF_HUB_OFFLINE=0" in msg
    assert "forget05_perturbed.json" in msg  # the local-folder alternative


# --- IDK responses --------------------------------------------------------------------------
def test_idk_answers():
    assert len(IDK_RESPONSES) >= 30 and len(set(IDK_RESPONSES)) == len(IDK_RESPONSES)
    a = idk_answers(200, 0)
    assert len(a) == 200 and set(a) <= set(IDK_RESPONSES)
    assert a == idk_answers(200, 0) and a != idk_answers(200, 1)
    assert len(set(a)) > 20
    assert idk_answers(0, 3) == []
    with pytest.raises(ValueError):
        idk_answers(-1, 0)


def test_idk_tensors_hold_every_response_for_every_question():
    from erasus_bench.lm.tiny import train_tokenizer
    from erasus_bench.lm.prompt import IGNORE

    tok = train_tokenizer(["Who is Ana?", "I don't know."], 300)
    qs = ["Who is Ana?", "Where is Bo?"]
    enc = idk_tensors(tok, qs, responses=IDK_RESPONSES[:3])
    assert set(enc) == {"idk_input_ids", "idk_attention_mask", "idk_labels"}
    assert enc["idk_input_ids"].shape[:2] == (2, 3)
    for i in range(2):
        for j, response in enumerate(IDK_RESPONSES[:3]):
            labels = enc["idk_labels"][i, j]
            assert tok.decode(labels[labels != IGNORE].tolist()[:-1]).strip() == response
            assert qs[i] in tok.decode(enc["idk_input_ids"][i, j])
