"""The base model's training run (methods.training_run): its replay is the cached base model,
its pool positions index the setting's unlearning pool, artifacts are built once and their
seconds are training-time cost, not selection or unlearning time."""
from __future__ import annotations

import copy

import numpy as np
import torch

from erasus_bench.harness.cache import ModelCache
from erasus_bench.harness.runner import same_weights, unlearn
from erasus_bench.harness.spec import CellSpec
from erasus_bench.methods.examples import Examples
from erasus_bench.methods.training_run import TrainingRun
from erasus_bench.protocols.general.protocol import GeneralProtocol
from erasus_bench.registry import PROTOCOLS, STRATEGIES


def test_replay_is_the_cached_base_model_and_calls_the_observer_every_step(
        general_setting) -> None:
    run = general_setting.training_run
    seen: list[tuple[int, int, int]] = []
    model = run.replay(lambda epoch, step, pos, logits, y, before, after: seen.append(
        (epoch, step, len(pos))))
    assert same_weights(model, general_setting.base)
    recipe = GeneralProtocol.recipe
    per_epoch = -(-len(run.train) // recipe.batch_size)
    assert len(seen) == recipe.epochs * per_epoch
    assert [s for _, s, _ in seen] == list(range(len(seen)))
    assert sum(n for e, _, n in seen if e == 0) == len(run.train)  # one pass per epoch


def test_pool_positions_index_the_unlearning_pool(general_setting, cache_dir: str,
                                                  general_config: dict) -> None:
    run = general_setting.training_run
    pool = general_setting.unlearn_pool()
    assert torch.equal(run.train.subset(run.pool_pos).tensors["x"], pool.tensors["x"])
    request = PROTOCOLS.get("general")().request_setting(general_config, 0,
                                                         ModelCache(cache_dir), 2, 2)
    part = request.unlearn_pool()
    assert len(part) < len(request.forget)
    assert torch.equal(request.training_run.train.subset(request.training_run.pool_pos)
                       .tensors["x"], part.tensors["x"])


def test_an_artifact_is_built_once_per_name_and_params(tmp_path) -> None:
    data = Examples({"x": torch.zeros(3, 1)})
    run = TrainingRun(data, np.arange(2), 0, {"run": 1}, tmp_path, lambda observer: None)
    calls: list[int] = []

    def build() -> dict:
        calls.append(1)
        return {"value": np.arange(3)}

    first = run.artifact("a", {"p": 1}, build)
    built = run.built_s
    again = TrainingRun(data, np.arange(2), 0, {"run": 1}, tmp_path, lambda observer: None)
    assert np.array_equal(again.artifact("a", {"p": 1}, build)["value"], first["value"])
    assert len(calls) == 1 and built > 0 and again.built_s == 0.0
    run.artifact("a", {"p": 2}, build)
    TrainingRun(data, np.arange(2), 0, {"run": 2}, tmp_path, lambda o: None).artifact(
        "a", {"p": 1}, build)
    assert len(calls) == 3  # other params, other training run: built anew


def test_building_an_artifact_is_training_time_not_unlearning_cost(general_setting,
                                                                   general_config: dict,
                                                                   tmp_path) -> None:
    """With an empty artifact directory the first amnesiac cell replays base training
    (seconds): that time is reported as training_artifacts_s and left out of unlearn_s, and the
    replay's optimizer steps are not counted as the method's."""
    fresh = TrainingRun(general_setting.training_run.train, general_setting.training_run.pool_pos,
                        0, general_setting.training_run.key, tmp_path,
                        general_setting.training_run.trainer)
    setting = copy.copy(general_setting)
    setting.training_run = fresh
    hp = PROTOCOLS.get("general")().hparams("amnesiac",
                                            STRATEGIES.get("amnesiac").default_hparams())
    spec = CellSpec("general", general_config, "amnesiac", "random", 0.1, 0, hp)
    first = unlearn(spec, setting)
    assert first.timings["training_artifacts_s"] > 0 and first.timings["unlearn_s"] > 0
    assert first.cost["optimizer_steps"] == hp["steps"]
    second = unlearn(spec, setting)
    assert second.timings["training_artifacts_s"] == 0.0
    assert same_weights(first.model, second.model)
