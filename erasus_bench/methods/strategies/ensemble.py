"""An ensemble of strategies whose unlearned models are averaged weight by weight (a "model
soup", Wortsman et al., ICML 2022: every member starts from the same base model)."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from erasus_bench.methods.strategies.base import Strategy, register_strategy
from erasus_bench.methods.strategies.compose import member_list, member_steps, run_member, split
from erasus_bench.methods.task import UnlearnTask

SEP = "+"


def average_states(states: list[dict[str, torch.Tensor]], weights: list[float]
                   ) -> dict[str, torch.Tensor]:
    """The ``weights``-weighted average of floating-point tensors (others from the first
    state)."""
    out = {}
    for key, first in states[0].items():
        if first.is_floating_point():
            out[key] = sum(w * s[key] for w, s in zip(weights, states))
        else:
            out[key] = first.clone()
    return out


@register_strategy("ensemble", description="members unlearn from the same base model; their "
                   "weights are averaged (default gradient_ascent+grad_diff)")
class Ensemble(Strategy):
    """Each of ``members`` (``a+b+...``) unlearns the base model with its own tuned values and
    an even share of the ``steps`` budget; the result is the weighted average of their
    weights (not of their logits: the output is one model of the base architecture), with
    ``weight`` on the first member and the rest shared evenly. Tuned: ``weight`` x ``steps``."""

    composite = True
    paper = "Wortsman et al. 2022 (weight averaging)"

    def __init__(self, strategies: str = "gradient_ascent+grad_diff", weight: float = 0.5,
                 steps: int = 150, members: dict[str, dict[str, Any]] | None = None) -> None:
        self.strategies = strategies
        self.weight = weight
        self.steps = steps
        self.members = members

    @classmethod
    def member_names(cls, hparams: dict[str, Any], modality: str) -> list[str]:
        return list(dict.fromkeys(member_list(hparams["strategies"], SEP)))

    @classmethod
    def search(cls, hparams: dict[str, Any]) -> dict[str, list[Any]]:
        knob = "steps" if "steps" in hparams else "epochs"
        return {"weight": [0.25, 0.5, 0.75],
                knob: [max(1, round(hparams[knob] * m)) for m in (0.5, 1, 2)]}

    def steps_for_epochs(self, task: UnlearnTask, epochs: float) -> int:
        members = self.members or {}
        return max(1, sum(member_steps(s, members.get(s, {}), task, epochs)
                          for s in member_list(self.strategies, SEP)))

    def unlearn(self, task: UnlearnTask) -> nn.Module:
        names = member_list(self.strategies, SEP)
        members = self.members or {}
        n = len(names)
        steps = split(self.steps, 1.0 / n, n)
        weights = [self.weight] + [(1.0 - self.weight) / (n - 1)] * (n - 1) if n > 1 else [1.0]
        start = {k: v.clone() for k, v in task.model.state_dict().items()}
        states = []
        for name, s in zip(names, steps):
            task.model.load_state_dict(start)  # every member from the base model, in place
            run_member(name, members.get(name, {}), task, s)
            states.append({k: v.detach().clone() for k, v in task.model.state_dict().items()})
        task.model.load_state_dict(average_states(states, weights))
        return task.model
