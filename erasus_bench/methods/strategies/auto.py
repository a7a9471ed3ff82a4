"""``auto``: a strategy chosen by a documented rule from the protocol's modality and the
coreset's size (the design's ``auto``), then run with that strategy's own tuned values."""
from __future__ import annotations

from typing import Any

from torch import nn

from erasus_bench.methods.strategies.base import Strategy, register_strategy
from erasus_bench.methods.strategies.compose import member_steps, run_member
from erasus_bench.methods.task import UnlearnTask

# the modality's strategy of choice: SCRUB for classifiers (Kurmanji et al. 2023 found it
# strong on both class and selective forgetting), NPO for question/answer LMs (the TOFU
# baseline open-unlearning's benchmarks lead with), RMU for hazardous-knowledge corpora (the
# WMDP paper's method)
BY_MODALITY = {"classifier": "scrub", "causal_lm": "npo", "lm_corpus": "rmu"}
# with fewer coreset examples than one batch of the choice, min-max / steering objectives have
# too little forget signal per step; the plain retain-anchored ascent is taken instead
SMALL = "grad_diff"


def choose(modality: str, coreset_size: int, batch_size: int) -> str:
    """The rule: ``SMALL`` when the coreset is smaller than one batch, else the modality's
    choice."""
    return SMALL if coreset_size < batch_size else BY_MODALITY[modality]


@register_strategy("auto", description="SCRUB (classifiers), NPO (QA LMs) or RMU (corpora); "
                   "grad_diff for a coreset smaller than one batch")
class Auto(Strategy):
    """Runs the strategy ``choose`` names for the modality and the coreset size, with that
    strategy's tuned values (``members``) and ``steps``. Tuned: ``steps`` x a multiplier
    ``lr_scale`` of the chosen strategy's learning rate (nine trials, as lr x steps for
    the others)."""

    composite = True
    paper = "design: auto"

    def __init__(self, modality: str = "classifier", steps: int = 150, lr_scale: float = 1.0,
                 members: dict[str, dict[str, Any]] | None = None) -> None:
        self.modality = modality
        self.steps = steps
        self.lr_scale = lr_scale
        self.members = members

    @classmethod
    def member_names(cls, hparams: dict[str, Any], modality: str) -> list[str]:
        return [BY_MODALITY[modality], SMALL]

    @classmethod
    def search(cls, hparams: dict[str, Any]) -> dict[str, list[Any]]:
        knob = "steps" if "steps" in hparams else "epochs"
        return {"lr_scale": [0.333, 1.0, 3.0],
                knob: [max(1, round(hparams[knob] * m)) for m in (0.5, 1, 2)]}

    def _chosen(self, task: UnlearnTask) -> tuple[str, dict[str, Any]]:
        members = self.members or {}
        big = BY_MODALITY[self.modality]
        name = choose(self.modality, len(task.forget),
                      int(members.get(big, {}).get("batch_size", 1)))
        hp = dict(members.get(name, {}))
        if "lr" in hp:
            hp["lr"] = hp["lr"] * self.lr_scale
        return name, hp

    def steps_for_epochs(self, task: UnlearnTask, epochs: float) -> int:
        name, hp = self._chosen(task)
        return max(1, member_steps(name, hp, task, epochs))

    def unlearn(self, task: UnlearnTask) -> nn.Module:
        name, hp = self._chosen(task)
        return run_member(name, hp, task, self.steps)
