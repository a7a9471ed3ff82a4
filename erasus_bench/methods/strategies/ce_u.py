"""CE-U, cross-entropy unlearning ("CE-U: Cross Entropy Unlearning", arXiv:2503.01224, 2025), as
open-unlearning's ``unlearn/ceu.py``."""
from __future__ import annotations

import torch
from torch import nn

from erasus_bench.methods.examples import Batch
from erasus_bench.methods.strategies._preference import lm_adapter
from erasus_bench.methods.strategies._token import ceu_loss
from erasus_bench.methods.strategies._token_forget import TokenForget
from erasus_bench.methods.strategies.base import register_strategy
from erasus_bench.methods.task import LM_MODALITIES, UnlearnTask


@register_strategy("ce_u", description="CE-U: cross-entropy to the model's own distribution "
                   "without the true token", modalities=LM_MODALITIES)
class CEU(TokenForget):
    """``gamma * CE(logits, softmax(logits with the true token at -inf))`` over the answer tokens
    after each answer's first ``skip_first``; no retain term (``alpha`` 0), as the reference's
    ``compute_loss``. lr 1e-5 is open-unlearning's shared TOFU rate (no CE-U config there)."""

    paper = "Yang et al. 2025 (CE-U)"

    def __init__(self, steps: int = 150, batch_size: int = 16, lr: float = 1e-5,
                 optimizer: str = "adam", skip_first: int = 1, alpha: float = 0.0,
                 gamma: float = 1.0) -> None:
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.skip_first = skip_first
        self.alpha = alpha
        self.gamma = gamma

    def forget_term(self, task: UnlearnTask, model: nn.Module, batch: Batch) -> torch.Tensor:
        out, b = lm_adapter(task.adapter, self.name).forward(model, batch)
        return ceu_loss(out.logits, b["labels"], self.skip_first)
