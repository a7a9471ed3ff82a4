"""SISA (Bourtoule et al. 2021): the shard/slice plan, the reference's epoch schedule, the vote
aggregation, and exactness: unlearning equals SISA training without the deleted points."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from erasus_bench.harness.cost import count_cost
from erasus_bench.methods.classifier import ClassifierAdapter
from erasus_bench.methods.examples import Examples
from erasus_bench.methods.strategies.sisa import (
    Sisa,
    SisaEnsemble,
    SisaState,
    first_affected,
    partition,
    slice_epochs,
    train_sisa,
)
from erasus_bench.methods.task import UnlearnTask
from erasus_bench.methods.training_run import BaseRecipe
from erasus_bench.protocols.general.model import Recipe, build_model


def test_slice_epochs_follow_the_reference_schedule() -> None:
    assert slice_epochs(1, 60) == [60]
    assert slice_epochs(2, 10) == [6, 7]  # a = 2 * 10 / 3 = 6.67: int(6.67), int(13.3) - 6
    assert slice_epochs(3, 3) == [1, 2, 1]  # a = 1.5: 1, 3 - 1, 4 - 3


def test_partition_cuts_disjoint_near_equal_shards_and_slices() -> None:
    plan = partition(10, 3, 2, seed=0)
    assert [[len(sl) for sl in shard] for shard in plan] == [[2, 2], [2, 1], [2, 1]]
    flat = np.concatenate([sl for shard in plan for sl in shard])
    assert sorted(flat) == list(range(10))
    assert first_affected(plan[0], np.array([plan[0][1][0], 99])) == 1
    assert first_affected(plan[1], np.array([plan[0][0][0]])) is None


class Const(nn.Module):
    """A constituent whose logits are fixed."""

    def __init__(self, logits: list[float]) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.tensor(logits))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits.expand(len(x), -1)


def test_ensemble_is_a_smoothed_majority_vote() -> None:
    members = [Const([2.0, 0.0, 1.0]), Const([3.0, 1.0, 0.0]), Const([0.0, 0.5, 4.0])]
    state = SisaState([], [], np.zeros(0, dtype=np.int64))
    out = SisaEnsemble(members, state)(torch.zeros(1, 4))
    # votes 0, 0, 2 of three constituents, plus one pseudo-vote spread over the 3 classes
    assert torch.allclose(out.softmax(-1), torch.tensor([[7 / 12, 1 / 12, 4 / 12]]))
    out.sum().backward()  # straight-through: the constituents still get gradients
    assert all(m.logits.grad is not None for m in members)
    tie = SisaEnsemble([Const([0.0, 1.0]), Const([1.0, 0.0])], state)(torch.zeros(1, 3))
    assert tie.argmax(-1).item() == 0  # ties to the lower class, as np.argmax


@pytest.fixture
def tiny():
    gen = torch.Generator().manual_seed(0)
    n, d, c = 40, 4, 3
    train = Examples({"x": torch.randn(n, d, generator=gen),
                      "y": torch.randint(0, c, (n,), generator=gen)})
    r = Recipe(hidden=8)
    return train, c, BaseRecipe(lambda seed: build_model(4, c, r, seed), r.batch_size,
                                r.weight_decay, r.key())


def sisa_task(train: Examples, c: int, model: nn.Module, run, coreset_pos: np.ndarray
              ) -> UnlearnTask:
    task = UnlearnTask(model=model, original=copy.deepcopy(model).eval(),
                       forget=train.subset(run.pool_pos[coreset_pos]), retain=train,
                       adapter=ClassifierAdapter(), seed=0, num_classes=c)
    task.training_run, task.coreset_pos = run, coreset_pos
    return task


def weights(m: nn.Module) -> list[torch.Tensor]:
    return [p.detach() for p in m.parameters()]


def test_unlearning_equals_sisa_trained_without_the_coreset(tiny, fake_training_run) -> None:
    train, c, recipe = tiny
    strategy = Sisa(shards=2, slices=3, shard_epochs=3, lr=1e-2)
    plan = partition(len(train), 2, 3, seed=0)
    # the pool: the last slice of shard 0 and the first of shard 1
    pool = np.concatenate([plan[0][2], plan[1][0]])
    run = fake_training_run(train, pool, seed=0, recipe=recipe)
    coreset_pos = np.array([0, 1])  # two points of shard 0's last slice
    base = recipe.init_model(5)
    task = sisa_task(train, c, copy.deepcopy(base), run, coreset_pos)
    with count_cost([task.model]) as cost:
        model = strategy.unlearn(task)
    before = run.store[next(iter(run.store))]
    removed = run.pool_pos[coreset_pos]
    fresh = train_sisa(train, plan, removed, 3, 1e-2, recipe, 0)
    for member, ckpts in zip(model.members, fresh.checkpoints):
        member_ref = recipe.init_model(0)
        member_ref.load_state_dict(ckpts[-1]["model"])
        assert all(torch.equal(a, b) for a, b in zip(weights(member), weights(member_ref)))
    assert model.sisa.checkpoints[1] is before.checkpoints[1]  # shard 1 untouched
    assert all(a is b for a, b in zip(model.sisa.checkpoints[0][:3], before.checkpoints[0][:3]))
    # only slice 2 of shard 0 retrained: 1 epoch (slice_epochs(3, 3)[2]) over slices 0-2 of
    # shard 0 (20 points) less the 2 deleted, one batch (the artifact's build is not watched)
    assert cost.examples == cost.backward_passes == 18
    # a second request continues from the ensemble: exact for the union of deletions
    again = sisa_task(train, c, model, run, np.array([len(plan[0][2])]))  # shard 1, slice 0
    model2 = strategy.unlearn(again)
    fresh2 = train_sisa(train, plan, np.union1d(removed, run.pool_pos[again.coreset_pos]), 3,
                        1e-2, recipe, 0)
    for member, ckpts in zip(model2.members, fresh2.checkpoints):
        assert all(torch.equal(member.state_dict()[k], v) for k, v in ckpts[-1]["model"].items())
    assert run.builds == 1
