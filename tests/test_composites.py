"""Composite strategies (pipeline, ensemble, auto) and selectors (weighted_fusion, auto) against
their members run by hand."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from erasus_bench.errors import UserError
from erasus_bench.methods.classifier import ClassifierAdapter
from erasus_bench.methods.examples import Examples
from erasus_bench.methods.selectors import auto as auto_selector
from erasus_bench.methods.selectors.weighted_fusion import reciprocal_rank_fusion
from erasus_bench.methods.strategies import auto as auto_strategy
from erasus_bench.methods.strategies.compose import split, strategy_class
from erasus_bench.methods.strategies.ensemble import average_states
from erasus_bench.methods.task import UnlearnTask
from erasus_bench.protocols.general.protocol import GeneralProtocol
from erasus_bench.registry import STRATEGIES

GA = {"steps": 6, "batch_size": 4, "lr": 1e-2, "optimizer": "sgd"}
FT = {"steps": 6, "batch_size": 4, "lr": 1e-2, "optimizer": "sgd"}
GD = {"steps": 6, "batch_size": 4, "lr": 1e-2, "optimizer": "sgd", "alpha": 0.5}


def task() -> UnlearnTask:
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(24, 5, generator=g), torch.randint(0, 3, (24,), generator=g)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))
    data = Examples({"x": x, "y": y})
    return UnlearnTask(model=model, original=copy.deepcopy(model).requires_grad_(False),
                       forget=data.subset(range(8)), retain=data.subset(range(8, 24)),
                       adapter=ClassifierAdapter(), seed=3, num_classes=3)


def by_hand(*stages: tuple[str, dict, int]) -> dict[str, torch.Tensor]:
    """Stages run one after another on one task, each with ``steps`` overridden."""
    t = task()
    for name, hp, steps in stages:
        t.model = STRATEGIES.get(name)(**{**hp, "steps": steps}).unlearn(t)
    return t.model.state_dict()


def test_budget_split() -> None:
    assert split(150, 0.25, 2) == [38, 112]
    assert split(10, 0.5, 3) == [5, 2, 2]
    assert split(7, 0.5, 1) == [7]


def test_pipeline_equals_its_stages_run_by_hand() -> None:
    cls, fixed = strategy_class("gradient_ascent>finetune")
    assert cls.name == "pipeline" and fixed == {"stages": "gradient_ascent>finetune"}
    t = task()
    out = cls(**fixed, share=0.25, steps=8,
              members={"gradient_ascent": GA, "finetune": FT}).unlearn(t)
    want = by_hand(("gradient_ascent", GA, 2), ("finetune", FT, 6))
    assert all(torch.equal(out.state_dict()[k], v) for k, v in want.items())
    assert not torch.equal(want["2.weight"], task().model.state_dict()["2.weight"])


@pytest.mark.parametrize("name", ["gradient_ascent>", "nope>finetune"])
def test_bad_pipeline_names_the_problem(name: str) -> None:
    with pytest.raises(UserError, match="empty stage|nope"):
        strategy_class(name)


def test_average_states_by_hand() -> None:
    a = {"w": torch.tensor([1.0, 2.0]), "n": torch.tensor(3)}
    b = {"w": torch.tensor([3.0, 6.0]), "n": torch.tensor(5)}
    out = average_states([a, b], [0.25, 0.75])
    assert torch.allclose(out["w"], torch.tensor([2.5, 5.0])) and int(out["n"]) == 3


def test_ensemble_is_the_weighted_average_of_its_members_run_alone() -> None:
    t = task()
    out = STRATEGIES.get("ensemble")(strategies="gradient_ascent+grad_diff", weight=0.25,
                                     steps=8, members={"gradient_ascent": GA,
                                                       "grad_diff": GD}).unlearn(t)
    ga = by_hand(("gradient_ascent", GA, 4))
    gd = by_hand(("grad_diff", GD, 4))
    for k, v in out.state_dict().items():
        assert torch.allclose(v, 0.25 * ga[k] + 0.75 * gd[k], atol=1e-6), k


def test_auto_rule_and_run() -> None:
    assert auto_strategy.choose("classifier", 40, 16) == "scrub"
    assert auto_strategy.choose("causal_lm", 40, 4) == "npo"
    assert auto_strategy.choose("lm_corpus", 40, 4) == "rmu"
    assert auto_strategy.choose("classifier", 8, 16) == "grad_diff"
    # 8 forget examples < scrub's batch of 16: grad_diff runs, with auto's steps and lr scale
    out = STRATEGIES.get("auto")(modality="classifier", steps=5, lr_scale=0.5, members={
        "scrub": {"batch_size": 16}, "grad_diff": {**GD, "lr": 2e-2}}).unlearn(task())
    want = by_hand(("grad_diff", GD, 5))
    assert all(torch.equal(out.state_dict()[k], v) for k, v in want.items())


def test_composites_run_their_members_tuned_values() -> None:
    protocol = GeneralProtocol()
    config = protocol.resolve_config({})
    hp, _ = protocol.resolved_hparams("gradient_ascent>finetune", config)
    assert hp["stages"] == "gradient_ascent>finetune"
    assert hp["members"]["finetune"] == protocol.resolved_hparams("finetune", config)[0]
    assert protocol.resolved_hparams("auto", config)[0]["modality"] == "classifier"


def test_reciprocal_rank_fusion_by_hand() -> None:
    # rankings (best first) [0, 1, 2] and [2, 1, 0], weights 1 and 3, c = 60:
    # score(0) = 1/61 + 3/63, score(1) = 1/62 + 3/62, score(2) = 1/63 + 3/61
    order = reciprocal_rank_fusion([np.array([0, 1, 2]), np.array([2, 1, 0])], [1.0, 3.0], 3)
    assert order.tolist() == [2, 1, 0]
    # equal weights: 0 and 2 tie (1/61 + 1/63 each) above 1 (2/62); the lower index first
    tie = reciprocal_rank_fusion([np.array([0, 1, 2]), np.array([2, 1, 0])], [1.0, 1.0], 3)
    assert tie.tolist() == [0, 2, 1]


def test_auto_selector_rule() -> None:
    assert auto_selector.choose("classifier", 126) == "gradient_norm"
    assert auto_selector.choose("causal_lm", 120) == "k_center"
    assert auto_selector.choose("lm_corpus", 12) == "random"
