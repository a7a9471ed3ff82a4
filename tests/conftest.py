"""Shared fixtures: a real `general` setting (digits MLP) trained once per test session."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
if os.environ.get("PYTEST_XDIST_WORKER"):  # one process per core: one torch thread each
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One model cache for the whole session, shared by the xdist workers (models are trained
    once; the cache writes atomically, so two workers training the same model both succeed)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the workers' common folder
    path = root / "model-cache"
    path.mkdir(exist_ok=True)
    os.environ["ERASUS_BENCH_CACHE"] = str(path)
    return str(path)


class FakeTrainingRun:
    """The TrainingRun interface (``erasus_bench.methods.training_run``), dict-backed: for
    testing strategies that read training-time artifacts without a protocol."""

    def __init__(self, train, pool_pos, seed: int, recipe=None) -> None:
        self.train, self.pool_pos, self.seed, self.recipe = train, pool_pos, seed, recipe
        self.store: dict = {}
        self.builds = 0

    def artifact(self, name: str, params: dict, build):
        key = f"{name}:{sorted(params.items())}"
        if key not in self.store:
            self.builds += 1
            self.store[key] = build()
        return self.store[key]


@pytest.fixture
def fake_training_run() -> type[FakeTrainingRun]:
    """The class of a dict-backed fake TrainingRun: ``fake_training_run(train, pool_pos, seed)``."""
    return FakeTrainingRun


@pytest.fixture(scope="session")
def general_config() -> dict:
    from erasus_bench.protocols.general.protocol import GeneralProtocol

    return GeneralProtocol().resolve_config({})


@pytest.fixture(scope="session")
def general_setting(cache_dir: str, general_config: dict):
    """Seed-0 setting of the default `general` protocol (random 10% forget set)."""
    from erasus_bench.harness.runner import get_setting

    return get_setting("general", general_config, 0, cache_dir)


@pytest.fixture(scope="session")
def tofu_dataset(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small synthetic TOFU in the hub's file layout (one JSON-lines file per config): 20
    authors x 5 QA, so the tiny model memorises it in seconds."""
    import json

    from erasus_bench.protocols.tofu.synthetic import synthetic_tofu

    folder = tmp_path_factory.mktemp("tofu-small")
    configs = synthetic_tofu(num_authors=20, qa_per_author=5, holdout_authors=4,
                             real_authors=10, world_facts=10)
    for name, rows in configs.items():
        (folder / f"{name}.json").write_text("\n".join(json.dumps(r) for r in rows))
    return str(folder)


@pytest.fixture(scope="session")
def tofu_config(tofu_dataset: str) -> dict:
    from erasus_bench.protocols.tofu.protocol import TofuProtocol

    return TofuProtocol().resolve_config({"dataset": tofu_dataset})


@pytest.fixture(scope="session")
def tofu_setting(cache_dir: str, tofu_config: dict):
    """Seed-0 setting of `tofu` on the small dataset (tiny GPT-2 base and gold)."""
    from erasus_bench.harness.runner import get_setting

    return get_setting("tofu", tofu_config, 0, cache_dir)


@pytest.fixture(scope="session")
def wmdp_dataset(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small slice of the synthetic WMDP data in the hub schema and file layout: 16 bio
    questions, 8 per MMLU stand-in subject, the bio forget corpus and a retain corpus named
    ``wikitext`` (the general documents), as JSON-lines files."""
    import json

    from erasus_bench.protocols.wmdp.synthetic import generate

    folder = tmp_path_factory.mktemp("wmdp-small")
    domains = generate()
    bio = domains["bio"][:16]
    general = [r for s in sorted({r["subject"] for r in domains["general"]})
               for r in [g for g in domains["general"] if g["subject"] == s][:8]]

    def write(path, rows):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))

    hub = ("question", "choices", "answer")
    write(folder / "wmdp-bio.jsonl", [{k: r[k] for k in hub} for r in bio])
    for s in {r["subject"] for r in general}:
        write(folder / "mmlu" / f"{s}.jsonl",
              [{k: r[k] for k in hub} for r in general if r["subject"] == s])
    write(folder / "bio-forget-corpus.jsonl", [{"text": r["document"]} for r in bio])
    write(folder / "wikitext.jsonl", [{"text": r["document"]} for r in general])
    return str(folder)


@pytest.fixture(scope="session")
def wmdp_bio_config(wmdp_dataset: str) -> dict:
    from erasus_bench.protocols.wmdp.protocol import WmdpBioProtocol

    return WmdpBioProtocol().resolve_config({"dataset": wmdp_dataset})


@pytest.fixture(scope="session")
def wmdp_bio_setting(cache_dir: str, wmdp_bio_config: dict):
    """Seed-0 setting of `wmdp-bio` on the small dataset (tiny GPT-2 base and gold)."""
    from erasus_bench.harness.runner import get_setting

    return get_setting("wmdp-bio", wmdp_bio_config, 0, cache_dir)


@pytest.fixture(scope="session")
def muse_dataset(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small slice of the synthetic MUSE-News data in the hub's configs and splits (as
    ``<config>/<split>.jsonl``; privleak/holdout as the hub's parquet export; the retain QA
    under its older name ``retain2_qa``): 2 articles per deletion request and retain block."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from erasus_bench.protocols.muse.synthetic import generate

    data, n = generate(), 2
    folder = tmp_path_factory.mktemp("muse-small")
    kept = {c: {s: rows[:n] for s, rows in splits.items()} for c, splits in data.items()
            if c not in ("knowmem", "train")}
    kept["scal"] = {"forget_1": kept["sust"]["forget_1"],
                    "forget_2": kept["sust"]["forget_1"] + kept["sust"]["forget_2"]}
    kept["sust"] = {k: kept["sust"][k] for k in ("forget_1", "forget_2")}
    kept["train"] = {"forget": kept["scal"]["forget_2"], "retain1": kept["raw"]["retain1"],
                     "retain2": kept["raw"]["retain2"]}
    kept["raw"]["forget"] = kept["sust"]["forget_1"]
    kept["privleak"]["forget"] = kept["raw"]["forget"]

    def about(rows: list[dict], articles: list[dict]) -> list[dict]:
        return [r for r in rows if any(f"Question: {r['question']}\nAnswer: {r['answer']}"
                                       in a["text"] for a in articles)]

    qa = data["knowmem"]
    kept["knowmem"] = {"forget_qa": about(qa["forget_qa"], kept["raw"]["forget"]),
                       "forget_qa_icl": qa["forget_qa_icl"],
                       "retain2_qa": about(qa["retain_qa"], kept["raw"]["retain2"]),
                       "retain2_qa_icl": qa["retain_qa_icl"]}
    for config, splits in kept.items():
        for split, rows in splits.items():
            (folder / config).mkdir(parents=True, exist_ok=True)
            if (config, split) == ("privleak", "holdout"):
                pq.write_table(pa.Table.from_pylist(rows),
                               folder / config / f"{split}-00000-of-00001.parquet")
                continue
            (folder / config / f"{split}.jsonl").write_text(
                "".join(json.dumps(r) + "\n" for r in rows))
    return str(folder)


@pytest.fixture(scope="session")
def muse_config(muse_dataset: str) -> dict:
    from erasus_bench.protocols.muse.protocol import MuseProtocol

    return MuseProtocol().resolve_config({"dataset": muse_dataset})


@pytest.fixture(scope="session")
def muse_setting(cache_dir: str, muse_config: dict):
    """Seed-0 setting of `muse` on the small dataset (tiny GPT-2 base and gold)."""
    from erasus_bench.harness.runner import get_setting

    return get_setting("muse", muse_config, 0, cache_dir)
