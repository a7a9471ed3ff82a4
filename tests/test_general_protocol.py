"""The `general` protocol: models that really learned, gold vs original separation, the model
cache's content addressing, and the datasets loader on local files in the real schema."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from erasus_bench.errors import UserError
from erasus_bench.harness.cache import ModelCache
from erasus_bench.harness.runner import get_setting, unlearn
from erasus_bench.harness.spec import CellSpec
from erasus_bench.protocols.general.data import load_raw
from erasus_bench.protocols.general.protocol import EARLY_RUNS, GeneralProtocol


def test_base_model_learned_and_gold_is_reference(general_setting) -> None:
    s = general_setting
    proto = GeneralProtocol()
    base = proto.evaluate(s, s.base, 0.0).metrics
    assert base["retain_acc"] == 1.0 and base["forget_acc"] == 1.0
    assert base["test_acc"] > 0.95
    gold = proto.evaluate(s, s.gold, s.gold_train_s).metrics
    assert gold["avg_gap"] == 0.0 and gold["forget_quality"] == 1.0
    assert gold["speedup"] == pytest.approx(1.0)
    # the gold model never saw the forget set: its forget accuracy is test-like, not perfect
    assert gold["forget_acc"] < 1.0 and abs(gold["forget_acc"] - gold["test_acc"]) < 0.06


def test_class_scenario_separates_original_from_gold(cache_dir: str) -> None:
    proto = GeneralProtocol()
    config = proto.resolve_config({"scenario": "class"})
    s = get_setting("general", config, 0, cache_dir)
    assert (s.forget.tensors["y"] == 0).all() and not (s.retain.tensors["y"] == 0).any()
    original = proto.evaluate(s, s.base, 0.0).metrics
    gold = proto.evaluate(s, s.gold, s.gold_train_s).metrics
    assert gold["forget_acc"] == 0.0 and gold["avg_gap"] == 0.0
    assert original["forget_acc"] == 1.0 and original["avg_gap"] > 0.3
    assert original["forget_quality"] < 1e-6
    # unlearning with gradient ascent on the full forget set moves toward gold
    spec = CellSpec("general", config, "gradient_ascent", "full", 1.0, 0,
                    proto.hparams("gradient_ascent", {}))
    model = unlearn(spec, s).model
    assert proto.evaluate(s, model, 1.0).metrics["avg_gap"] < original["avg_gap"]


def test_roles_train_as_separate_jobs_and_setup_reuses_them(tmp_path: Path) -> None:
    proto = GeneralProtocol()
    config = proto.resolve_config({})
    cache = ModelCache(tmp_path)
    gold, gold_s = proto.train(config, 1, cache, "gold")
    base, _ = proto.train(config, 1, cache, "base")
    stored = {p: p.stat().st_mtime_ns for p in (tmp_path / "models").glob("*.pt")}
    assert len(stored) == 2
    s = proto.setup(config, 1, cache)
    after = {p: p.stat().st_mtime_ns for p in (tmp_path / "models").glob("*.pt")}
    # base and gold are reused as trained; setup adds only the EL2N/GraNd score networks
    assert {p: after[p] for p in stored} == stored
    assert len(after) == 2 + len(s.early_models) == 2 + EARLY_RUNS
    assert s.gold_train_s == gold_s
    for got, want in ((s.base, base), (s.gold, gold)):
        assert all(torch.equal(a, b) for a, b in zip(got.state_dict().values(),
                                                      want.state_dict().values()))
    # base trained on everything, gold without the forget set
    metrics = proto.evaluate(s, s.gold, gold_s).metrics
    assert proto.evaluate(s, s.base, 0.0).metrics["forget_acc"] > metrics["forget_acc"]


def test_cache_is_content_addressed(tmp_path: Path) -> None:
    cache = ModelCache(tmp_path)
    calls = []

    def train() -> torch.nn.Module:
        calls.append(1)
        return torch.nn.Linear(2, 2)

    key = {"data": "abc", "recipe": {"epochs": 60, "recipe_version": 1}, "seed": 0}
    cache.get_or_train(key, torch.nn.Linear(2, 2), train)
    _, t = cache.get_or_train(key, torch.nn.Linear(2, 2), train)
    assert len(calls) == 1 and t >= 0
    changed = {**key, "recipe": {"epochs": 61, "recipe_version": 1}}
    cache.get_or_train(changed, torch.nn.Linear(2, 2), train)
    assert len(calls) == 2 and cache.path(changed) != cache.path(key)


def test_datasets_loader_on_a_local_csv(tmp_path: Path) -> None:
    rows = ["f0,f1,label"] + [f"{i % 7},{(i * 3) % 5},{'ab'[i % 2]}" for i in range(40)]
    path = tmp_path / "tab.csv"
    path.write_text("\n".join(rows) + "\n")
    raw = load_raw(str(path))
    assert raw.x.shape == (40, 2) and set(raw.y.tolist()) == {0, 1} and not raw.is_default
    assert raw.x[3].tolist() == [3.0, 4.0]


def test_datasets_loader_on_a_saved_image_dataset(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    from PIL import Image

    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 255, (4, 4), dtype=np.uint8)) for _ in range(12)]
    ds = datasets.Dataset.from_dict({"image": images, "label": [i % 3 for i in range(12)]},
                                    features=datasets.Features({
                                        "image": datasets.Image(),
                                        "label": datasets.ClassLabel(num_classes=3)}))
    ds.save_to_disk(str(tmp_path / "imgs"))
    raw = load_raw(str(tmp_path / "imgs"))
    assert raw.x.shape == (12, 16) and raw.y.tolist() == [i % 3 for i in range(12)]
    assert raw.x[0].tolist() == np.asarray(images[0], dtype=np.float32).reshape(-1).tolist()


def test_unreachable_dataset_is_a_user_error() -> None:
    with pytest.raises(UserError, match="no-such/dataset"):
        load_raw("no-such/dataset")


def test_text_options_take_the_type_of_their_default() -> None:
    """`--option KEY=VALUE` gives text: it becomes the option's type, or a clear error."""
    from erasus_bench.errors import UserError
    from erasus_bench.protocols.general.protocol import GeneralProtocol

    config = GeneralProtocol().resolve_config({"forget_fraction": "0.2", "forget_class": "3"})
    assert config["forget_fraction"] == 0.2 and config["forget_class"] == 3
    with pytest.raises(UserError, match=r"forget_class='x' is invalid: it takes int values"):
        GeneralProtocol().resolve_config({"forget_class": "x"})
