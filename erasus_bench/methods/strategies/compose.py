"""Strategies made of other strategies (the design's StrategyPipeline, Ensemble and ``auto``):
how a composite names its members, and how a member runs inside it with its own values."""
from __future__ import annotations

from typing import Any

from torch import nn

from erasus_bench.errors import UserError
from erasus_bench.methods.names import PIPE, stages
from erasus_bench.methods.task import UnlearnTask
from erasus_bench.registry import STRATEGIES

def strategy_class(name: str) -> tuple[type, dict[str, Any]]:
    """The class of strategy ``name`` and the values its name fixes: ``a>b`` is the registered
    ``pipeline`` with ``stages="a>b"``; any other name is looked up in the registry."""
    if PIPE not in name:
        return STRATEGIES.get(name), {}
    for p in stages(name):
        STRATEGIES.entry(p)  # unknown stages: the registry's error with its choices
    return STRATEGIES.get("pipeline"), {"stages": name}


def member_list(text: str, sep: str) -> list[str]:
    """``"a+b"`` -> ["a", "b"], each a registered, non-composite strategy."""
    names = text.split(sep)
    for n in names:
        if STRATEGIES.get(n).composite:
            raise UserError(f"strategy {n!r} is itself composite; members of {text!r} must be "
                            "plain strategies")
    return names


def run_member(name: str, hparams: dict[str, Any], task: UnlearnTask, steps: int | None
               ) -> nn.Module:
    """Run member ``name`` on ``task`` (its model modified in place) with its own ``hparams``
    and, when it is iterative and ``steps`` is given, that many steps."""
    cls = STRATEGIES.get(name)
    hp = {k: v for k, v in hparams.items() if k != "epochs"}
    if steps is not None and "steps" in cls.default_hparams():
        hp["steps"] = max(1, steps)
    out = cls(**hp).unlearn(task)
    if out is not task.model:  # a member that builds a new module: copy its weights back
        if type(out) is not type(task.model):
            raise UserError(f"strategy {name!r} returns a {type(out).__name__}, not the "
                            f"model's {type(task.model).__name__}; it cannot be composed")
        task.model.load_state_dict(out.state_dict())
    return task.model


def member_steps(name: str, hparams: dict[str, Any], task: UnlearnTask, epochs: float) -> int:
    """Steps of member ``name`` for ``epochs`` passes over ``task``'s coreset (0 when it is
    not iterative)."""
    cls = STRATEGIES.get(name)
    if "steps" not in cls.default_hparams():
        return 0
    hp = {k: v for k, v in hparams.items() if k != "epochs"}
    return cls(**hp).steps_for_epochs(task, epochs)


def split(total: int, first: float, n: int) -> list[int]:
    """``total`` steps split over ``n`` parts: ``first`` of them to the first part, the rest
    evenly over the others (rounded; every part at least one step)."""
    if n == 1:
        return [max(1, total)]
    head = round(total * first)
    rest = total - head
    return [max(1, head)] + [max(1, round(rest / (n - 1)))] * (n - 1)
