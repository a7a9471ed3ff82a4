"""Amnesiac unlearning (Graves et al. 2021) on a linear model trained two steps by hand."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from erasus_bench.methods.classifier import ClassifierAdapter
from erasus_bench.methods.examples import Examples
from erasus_bench.methods.strategies.amnesiac import Amnesiac
from erasus_bench.methods.task import UnlearnTask
from erasus_bench.methods.training_run import TrainingRun

X = torch.tensor([[1.0, 0.0], [3.0, 2.0], [2.0, 2.0], [0.0, 4.0]])
BATCHES = [[0, 1], [2, 3]]  # step 0, step 1
W0 = [1.0, 1.0]
# loss = mean over the batch of w.x, so the gradient is the batch's mean x; SGD lr 0.5:
# w1 = [1, 1] - 0.5 [2, 1] = [0, 0.5]; w2 = w1 - 0.5 [1, 3] = [-0.5, -1]
W1, W2 = [0.0, 0.5], [-0.5, -1.0]


def _train(observer) -> nn.Module:
    model = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([W0]))
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    for t, pos in enumerate(BATCHES):
        before = {k: p.detach().clone() for k, p in model.named_parameters()}
        opt.zero_grad()
        out = model(X[pos])
        out.mean().backward()
        opt.step()
        if observer is not None:
            observer(0, t, np.array(pos), out.detach(), torch.zeros(2), before, model)
    return model


@pytest.mark.parametrize(("pool_pos", "coreset_pos", "want"), [
    ([3, 0], [1], [W2[0] - (W1[0] - W0[0]), W2[1] - (W1[1] - W0[1])]),  # example 0: step 0
    ([3, 0], [0], W1),  # example 3: step 1 undone
    ([3, 0], [0, 1], W0),  # both steps undone
    ([2, 3], [0, 1], W1),  # two examples of one batch: its update subtracted once
])
def test_subtracts_the_logged_update_of_each_batch_holding_a_coreset_example(
        tmp_path, pool_pos: list[int], coreset_pos: list[int], want: list[float]) -> None:
    trained = _train(None)
    assert trained.weight.tolist() == [W2]
    data = Examples({"x": X, "y": torch.zeros(4, dtype=torch.long)})
    run = TrainingRun(data, np.array(pool_pos), 0, {"hand": 1}, tmp_path, _train)
    task = UnlearnTask(model=trained, original=_train(None), forget=data.subset(pool_pos),
                       retain=data, adapter=ClassifierAdapter(), seed=0,
                       training_run=run, coreset_pos=np.array(coreset_pos))
    out = Amnesiac(steps=0).unlearn(task)  # no repair: the subtraction alone
    assert out.weight.detach().numpy().tolist() == [pytest.approx(want)]


def test_a_later_request_does_not_undo_a_step_twice(tmp_path) -> None:
    """Request 1 forgets example 0 (step 0 undone), request 2 forgets example 1 of the same
    batch: nothing more to undo, so the weights stay at w2 - (w1 - w0)."""
    data = Examples({"x": X, "y": torch.zeros(4, dtype=torch.long)})
    run = TrainingRun(data, np.array([0, 1]), 0, {"hand": 2}, tmp_path, _train)

    def request(model: nn.Module, pos: int) -> nn.Module:
        task = UnlearnTask(model=model, original=_train(None), forget=data.subset([pos]),
                           retain=data, adapter=ClassifierAdapter(), seed=0,
                           training_run=run, coreset_pos=np.array([pos]))
        return Amnesiac(steps=0).unlearn(task)

    first = request(_train(None), 0)
    assert first.unlearning_report == {"steps_undone": 1, "steps_undone_total": 1}
    second = request(first, 1)
    want = [W2[0] - (W1[0] - W0[0]), W2[1] - (W1[1] - W0[1])]
    assert second.weight.detach().numpy().tolist() == [pytest.approx(want)]
    assert second.unlearning_report == {"steps_undone": 0, "steps_undone_total": 1}
