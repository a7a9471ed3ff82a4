"""Weighted gradient ascent, WGA (Wang et al., ICLR 2025, "Rethinking LLM Unlearning Objectives:
A Gradient Perspective and Go Beyond"), as open-unlearning's ``unlearn/wga.py``."""
from __future__ import annotations

import torch
from torch import nn

from erasus_bench.methods.examples import Batch
from erasus_bench.methods.strategies._preference import lm_adapter
from erasus_bench.methods.strategies._token import wga_loss
from erasus_bench.methods.strategies._token_forget import TokenForget
from erasus_bench.methods.strategies.base import register_strategy
from erasus_bench.methods.task import LM_MODALITIES, UnlearnTask


@register_strategy("wga", description="WGA: gradient ascent with each answer token's NLL "
                   "weighted by its probability^beta, plus retain NLL", modalities=LM_MODALITIES)
class WGA(TokenForget):
    """``gamma * -mean(p^beta * nll) + alpha * NLL(retain)`` over the answer tokens, weights
    detached; defaults from open-unlearning's ``configs/trainer/WGA.yaml`` (beta 1, alpha 1,
    gamma 1, retain NLL, lr 1e-5; its AdamW with weight decay is plain Adam here, as for NPO)."""

    paper = "Wang et al. 2025"

    def __init__(self, steps: int = 150, batch_size: int = 16, lr: float = 1e-5,
                 optimizer: str = "adam", beta: float = 1.0, alpha: float = 1.0,
                 gamma: float = 1.0) -> None:
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.beta = beta
        self.alpha = alpha
        self.gamma = gamma

    def forget_term(self, task: UnlearnTask, model: nn.Module, batch: Batch) -> torch.Tensor:
        out, b = lm_adapter(task.adapter, self.name).forward(model, batch)
        return wga_loss(out.logits, b["labels"], self.beta)
