"""SimNPO (Fan et al., 2024, "Simplicity Prevails: Rethinking Negative Preference Optimization
for LLM Unlearning"): reference-free NPO on the length-normalised answer likelihood."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from erasus_bench.methods.examples import Batch
from erasus_bench.methods.strategies._preference import lm_adapter
from erasus_bench.methods.strategies.base import register_strategy
from erasus_bench.methods.strategies.npo import NPO
from erasus_bench.methods.task import LM_MODALITIES, UnlearnTask


@register_strategy("simnpo", description="SimNPO: reference-free NPO on the per-token answer "
                   "NLL, plus retain NLL", modalities=LM_MODALITIES)
class SimNPO(NPO):
    """``steps`` optimizer steps on ``gamma * L_SimNPO(forget batch) + alpha * NLL(retain batch)``
    with ``L_SimNPO = -(2/beta) * mean log sigmoid(beta * (nll/|a| - delta))``, ``nll/|a|`` the
    mean answer-token NLL (as open-unlearning computes it; the paper's margin gamma equals
    ``beta * delta``). Loss weights follow open-unlearning's ``configs/trainer/SimNPO.yaml``
    (delta 0, beta 4.5, gamma 0.125, alpha 1, retain NLL) and lr its TOFU experiments' 1e-5; its
    optimizer is AdamW with weight decay 0.01 (``experiment/unlearn/tofu/default.yaml``), here
    Adam without weight decay (see ``npo``'s module docstring)."""

    paper = "Fan et al. 2024 (SimNPO)"

    def __init__(self, steps: int = 150, batch_size: int = 16, lr: float = 1e-5,
                 optimizer: str = "adam", beta: float = 4.5, delta: float = 0.0,
                 alpha: float = 1.0, gamma: float = 0.125) -> None:
        super().__init__(steps, batch_size, lr, optimizer, beta, alpha, gamma)
        self.delta = delta

    def forget_loss(self, task: UnlearnTask, model: nn.Module, batch: Batch) -> torch.Tensor:
        """The SimNPO term on one forget batch."""
        nll, count = lm_adapter(task.adapter, "simnpo").sequence_nll(model, batch)
        margin = nll / count.clamp_min(1) - self.delta
        return -(2.0 / self.beta) * F.logsigmoid(self.beta * margin).mean()
