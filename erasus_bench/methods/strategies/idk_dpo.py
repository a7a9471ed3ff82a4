"""IdkDPO (Maini et al., 2024, "TOFU: A Task of Fictitious Unlearning for LLMs"): DPO (Rafailov
et al., NeurIPS 2023) preferring an "I don't know" answer over the true forget answer."""
from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn

from erasus_bench.methods.examples import Batch
from erasus_bench.methods.strategies._common import EXTRA_SALT
from erasus_bench.methods.strategies._preference import lm_adapter, prefer_over_forget
from erasus_bench.methods.strategies.base import register_strategy
from erasus_bench.methods.strategies.npo import NPO
from erasus_bench.methods.task import UnlearnTask

IDK = "idk_"
IDK_KEYS = tuple(IDK + k for k in ("input_ids", "attention_mask", "labels"))


def draw_idk(batch: Batch, generator: torch.Generator) -> Batch:
    """``batch`` with one "I don't know" answer per example: where the ``idk_*`` tensors hold K
    candidates per example ([B, K, T]) one is drawn uniformly for each example (a fresh draw on
    every fetch, as open-unlearning's ``QAwithIdkDataset.__getitem__``); [B, T] tensors (one
    fixed answer per example) pass unchanged."""
    ids = batch[IDK + "input_ids"]
    if ids.dim() == 2:
        return batch
    if ids.dim() != 3:
        raise ValueError(f"idk_input_ids should be [B, T] or [B, K, T], got {tuple(ids.shape)}")
    rows = torch.arange(ids.shape[0])
    pick = torch.randint(0, ids.shape[1], (ids.shape[0],), generator=generator)
    return {**batch, **{k: batch[k][rows, pick] for k in IDK_KEYS}}


def one_idk_answer(batch: Batch, strategy: str) -> None:
    """An error unless ``batch`` holds one "I don't know" answer per example ([B, T])."""
    if batch[IDK + "input_ids"].dim() != 2:
        raise ValueError(f"{strategy} forget_loss needs one 'I don't know' answer per example; "
                         "draw one from the candidates first (draw_idk)")


@register_strategy("idk_dpo", description="DPO with an 'I don't know' answer preferred over the "
                   "forget answer, plus retain NLL", modalities=("causal_lm",))
class IdkDPO(NPO):
    """``steps`` optimizer steps on ``gamma * L_DPO(forget batch) + alpha * NLL(retain batch)``
    with ``L_DPO = -(2/beta) * mean log sigmoid(beta * (r_idk - r_true))``, ``r = log p(a|q) -
    log p_ref(a|q)`` (summed answer log-likelihoods, reference ``task.original``) of the forget
    examples' ``idk_*`` answer (win) and their true answer (lose): NPO's loop and
    hyperparameters with a preferred answer. When the forget examples carry several candidate
    answers (``idk_*`` of shape [N, K, T]) each fetch of an example draws one from the task's
    seeded generator. Loss weights follow open-unlearning's ``configs/trainer/DPO.yaml`` (beta
    0.1, alpha 1, gamma 1, retain NLL) and lr its ``experiment/unlearn/tofu/idk.yaml`` (1e-5,
    AdamW with weight decay 0.01; here Adam without weight decay)."""

    paper = "Maini et al. 2024"

    def forget_loss(self, task: UnlearnTask, model: nn.Module, batch: Batch) -> torch.Tensor:
        """The DPO term on one forget batch (which carries the ``idk_*`` tensors)."""
        ad = lm_adapter(task.adapter, self.name)
        one_idk_answer(batch, self.name)
        return prefer_over_forget(ad, model, task.original, batch, IDK, self.beta)

    def forget_batches(self, task: UnlearnTask, batches: Iterator[Batch]) -> Iterator[Batch]:
        """Each forget batch with freshly drawn "I don't know" answers (deterministic under the
        task's seed)."""
        generator = task.generator(EXTRA_SALT)
        return (draw_idk(batch, generator) for batch in batches)

    def unlearn(self, task: UnlearnTask) -> nn.Module:
        missing = [k for k in IDK_KEYS if k not in task.forget.tensors]
        if missing:
            raise ValueError(f"{self.name} needs forget examples with 'I don't know' answers; "
                             f"missing tensors {missing} (encode them with encode_qa and store "
                             f"them under the '{IDK}' prefix)")
        return super().unlearn(task)
