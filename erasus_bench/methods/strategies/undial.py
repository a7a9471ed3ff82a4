"""UNDIAL, self-distillation with adjusted logits (Dong et al., NAACL 2025, "UNDIAL:
Self-Distillation with Adjusted Logits for Robust Unlearning in Large Language Models"), as
open-unlearning's ``unlearn/undial.py``."""
from __future__ import annotations

import torch
from torch import nn

from erasus_bench.methods.examples import Batch
from erasus_bench.methods.strategies._preference import lm_adapter
from erasus_bench.methods.strategies._token import undial_loss
from erasus_bench.methods.strategies._token_forget import TokenForget
from erasus_bench.methods.strategies.base import register_strategy
from erasus_bench.methods.task import LM_MODALITIES, UnlearnTask


@register_strategy("undial", description="UNDIAL: distil from the original model with the true "
                   "token's logit lowered by beta", modalities=LM_MODALITIES)
class UNDIAL(TokenForget):
    """``gamma * CE(student, softmax(teacher - beta * onehot(true token)))`` with the original
    model as teacher; defaults from open-unlearning's ``configs/trainer/UNDIAL.yaml`` (beta 10,
    gamma 1, alpha 0: no retain term, lr 1e-4). Deliberate deviation: the loss is averaged over
    the answer tokens only; the reference averages over every position, prompt and padding
    included, and indexes the vocabulary with the -100 of unlabelled positions."""

    paper = "Dong et al. 2025"

    def __init__(self, steps: int = 150, batch_size: int = 16, lr: float = 1e-4,
                 optimizer: str = "adam", beta: float = 10.0, alpha: float = 0.0,
                 gamma: float = 1.0) -> None:
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.beta = beta
        self.alpha = alpha
        self.gamma = gamma

    def forget_term(self, task: UnlearnTask, model: nn.Module, batch: Batch) -> torch.Tensor:
        ad = lm_adapter(task.adapter, self.name)
        out, b = ad.forward(model, batch)
        with torch.no_grad():
            teacher, _ = ad.forward(task.original, batch)
        return undial_loss(out.logits, teacher.logits.to(out.logits.device), b["labels"],
                           self.beta)
