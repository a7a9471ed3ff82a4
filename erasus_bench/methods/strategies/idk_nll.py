"""IdkNLL, the "I don't know" fine-tuning baseline of TOFU (Maini et al., COLM 2024, "TOFU: A Task
of Fictitious Unlearning for LLMs", its preference-optimisation baseline): plain NLL toward an
"I don't know" answer on every forget question, plus the retain NLL."""
from __future__ import annotations

import torch
from torch import nn

from erasus_bench.methods.examples import Batch
from erasus_bench.methods.strategies._preference import lm_adapter
from erasus_bench.methods.strategies.base import register_strategy
from erasus_bench.methods.strategies.idk_dpo import IDK, IdkDPO, one_idk_answer
from erasus_bench.methods.task import UnlearnTask


@register_strategy("idk_nll", description="fine-tune the forget questions toward 'I don't "
                   "know' answers (NLL), plus retain NLL", modalities=("causal_lm",))
class IdkNLL(IdkDPO):
    """``steps`` optimizer steps on ``gamma * NLL(idk answer | forget question) + alpha *
    NLL(retain batch)``, each NLL the mean over examples of the mean answer-token NLL. The "I
    don't know" answers are IdkDPO's: the same pool (``protocols/tofu/idk.py``) and a fresh
    draw per example on every fetch from the task's seeded generator; the true forget answers
    are never read. References: TOFU's ``dataloader.py`` (``forget_loss == "idk"``, answers drawn
    from ``data/idontknow.jsonl`` per fetch; one forward pass over the concatenated idk and
    retain batches, so its two terms are weighted by their token counts), the AltPO authors'
    code (``dataloader.py``, ``loss_type == "idk"``: ``NLL(idk) + retain_wt * NLL(retain)``, as
    here with gamma 1, alpha = retain_wt). open-unlearning has no IdkNLL trainer in its code
    (it published ``IdkNLL`` TOFU checkpoints, trained with lr and alpha); its GradDiff-style
    weights (gamma 1, alpha 1) and TOFU lr 1e-5 (``experiment/unlearn/tofu/idk.yaml``) are the
    defaults here, with Adam instead of AdamW (see ``npo.py``)."""

    paper = "Maini et al. 2024"

    def __init__(self, steps: int = 150, batch_size: int = 16, lr: float = 1e-5,
                 optimizer: str = "adam", alpha: float = 1.0, gamma: float = 1.0) -> None:
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.alpha = alpha
        self.gamma = gamma

    def forget_loss(self, task: UnlearnTask, model: nn.Module, batch: Batch) -> torch.Tensor:
        """The NLL of the forget batch's (drawn) "I don't know" answers."""
        ad = lm_adapter(task.adapter, self.name)
        one_idk_answer(batch, self.name)
        total, count = ad.sequence_nll(model, batch, prefix=IDK)
        return (total / count.clamp_min(1)).mean()
