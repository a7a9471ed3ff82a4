"""A pipeline of strategies run one after another on the same model (the design's
StrategyPipeline; e.g. gradient ascent to forget, then fine-tuning on retain to repair, the
"forget then repair" pattern of Golatkar et al. 2020 and Kurmanji et al. 2023)."""
from __future__ import annotations

from typing import Any

from torch import nn

from erasus_bench.methods.strategies.base import Strategy, register_strategy
from erasus_bench.methods.strategies.compose import (PIPE, member_list, member_steps,
                                                     run_member, split)
from erasus_bench.methods.task import UnlearnTask


@register_strategy("pipeline", description="stages run one after another on one model, each "
                   "with its own tuned values and a share of the budget ('a>b' on the command "
                   "line; default gradient_ascent>finetune)")
class Pipeline(Strategy):
    """``stages`` (``a>b>...``) run in order, each from the model the previous one left, each
    with its own tuned values (``members``, filled by the protocol); the ``steps`` budget is
    split: ``share`` of it to the first stage, the rest evenly over the later ones. In the
    epochs regime the budget is the sum of the stages' own steps for those epochs, split the
    same way. Non-iterative stages run once. Tuned: ``share`` x ``steps``."""

    composite = True
    paper = "design: StrategyPipeline"

    def __init__(self, stages: str = "gradient_ascent>finetune", share: float = 0.5,
                 steps: int = 150, members: dict[str, dict[str, Any]] | None = None) -> None:
        self.stages = stages
        self.share = share
        self.steps = steps
        self.members = members

    @classmethod
    def member_names(cls, hparams: dict[str, Any], modality: str) -> list[str]:
        return list(dict.fromkeys(member_list(hparams["stages"], PIPE)))

    @classmethod
    def search(cls, hparams: dict[str, Any]) -> dict[str, list[Any]]:
        knob = "steps" if "steps" in hparams else "epochs"
        return {"share": [0.25, 0.5, 0.75],
                knob: [max(1, round(hparams[knob] * m)) for m in (0.5, 1, 2)]}

    def _iterative(self) -> list[str]:
        from erasus_bench.registry import STRATEGIES

        return [s for s in member_list(self.stages, PIPE)
                if "steps" in STRATEGIES.get(s).default_hparams()]

    def steps_for_epochs(self, task: UnlearnTask, epochs: float) -> int:
        members = self.members or {}
        return max(1, sum(member_steps(s, members.get(s, {}), task, epochs)
                          for s in member_list(self.stages, PIPE)))

    def unlearn(self, task: UnlearnTask) -> nn.Module:
        members = self.members or {}
        iterative = self._iterative()
        budget = iter(split(self.steps, self.share, len(iterative)))
        for stage in member_list(self.stages, PIPE):
            run_member(stage, members.get(stage, {}), task,
                       next(budget) if stage in iterative else None)
        return task.model
