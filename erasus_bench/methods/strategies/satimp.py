"""SatImp (Yang et al., ICML 2025, "Exploring Criteria of Loss Reweighting to Enhance LLM
Unlearning"), as open-unlearning's ``unlearn/satimp.py``."""
from __future__ import annotations

import torch
from torch import nn

from erasus_bench.methods.examples import Batch
from erasus_bench.methods.strategies._preference import lm_adapter
from erasus_bench.methods.strategies._token import satimp_loss
from erasus_bench.methods.strategies._token_forget import TokenForget
from erasus_bench.methods.strategies.base import register_strategy
from erasus_bench.methods.task import LM_MODALITIES, UnlearnTask


@register_strategy("satimp", description="SatImp: gradient ascent with token weights "
                   "p^beta1 (1 - p)^beta2, plus retain NLL", modalities=LM_MODALITIES)
class SatImp(TokenForget):
    """``gamma * -mean(p^beta1 (1 - p)^beta2 * nll) + alpha * NLL(retain)`` over the answer
    tokens, weights detached; defaults from open-unlearning's ``configs/trainer/SatImp.yaml``
    (beta1 5, beta2 1, gamma 0.1, alpha 1, retain NLL, lr 1e-5; plain Adam here)."""

    paper = "Yang et al. 2025 (SatImp)"

    def __init__(self, steps: int = 150, batch_size: int = 16, lr: float = 1e-5,
                 optimizer: str = "adam", beta1: float = 5.0, beta2: float = 1.0,
                 alpha: float = 1.0, gamma: float = 0.1) -> None:
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.beta1 = beta1
        self.beta2 = beta2
        self.alpha = alpha
        self.gamma = gamma

    def forget_term(self, task: UnlearnTask, model: nn.Module, batch: Batch) -> torch.Tensor:
        out, b = lm_adapter(task.adapter, self.name).forward(model, batch)
        return satimp_loss(out.logits, b["labels"], self.beta1, self.beta2)
