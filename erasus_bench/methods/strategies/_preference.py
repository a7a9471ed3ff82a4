"""Preference-optimisation losses shared by NPO, IdkDPO and AltPO (as in open-unlearning's
``compute_dpo_loss``): sequence log-likelihoods of answers and the DPO objective over them."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from erasus_bench.methods.causal_lm import CausalLMAdapter
from erasus_bench.methods.examples import Batch


def lm_adapter(adapter: object, strategy: str) -> CausalLMAdapter:
    """``adapter`` when it serves causal LMs, else a clear error (the LM-only strategies need
    ``sequence_nll``, ``blocks``)."""
    if getattr(adapter, "modality", None) != "causal_lm":
        raise ValueError(f"{strategy} needs a causal-LM task, got a "
                         f"{getattr(adapter, 'modality', type(adapter).__name__)} adapter")
    return adapter  # type: ignore[return-value]


def log_ratio(adapter: CausalLMAdapter, model: nn.Module, reference: nn.Module, batch: Batch,
              prefix: str = "") -> torch.Tensor:
    """``log p_model(a|q) - log p_ref(a|q)`` per example [B], with ``log p`` the summed
    answer-token log-likelihood; the reference term carries no gradient."""
    nll, _ = adapter.sequence_nll(model, batch, prefix)
    with torch.no_grad():
        ref_nll, _ = adapter.sequence_nll(reference, batch, prefix)
    return ref_nll.to(nll.device) - nll


def dpo_loss(win_log_ratio: torch.Tensor | float, lose_log_ratio: torch.Tensor | float,
             beta: float) -> torch.Tensor:
    """DPO (Rafailov et al., 2023) scaled by ``2/beta``:
    ``-(2/beta) * mean log sigmoid(beta * (win_log_ratio - lose_log_ratio))``. With no winner
    (``win_log_ratio = 0``) this is the NPO loss (Zhang et al., 2024)."""
    margin = torch.as_tensor(win_log_ratio) - torch.as_tensor(lose_log_ratio)
    return -(2.0 / beta) * F.logsigmoid(beta * margin).mean()


def prefer_over_forget(adapter: CausalLMAdapter, model: nn.Module, reference: nn.Module,
                       batch: Batch, win_prefix: str, beta: float) -> torch.Tensor:
    """DPO with the ``win_prefix``-ed answers of ``batch`` (an "I don't know" answer, an
    alternate answer) preferred over its own (forget) answers, reference ``reference``."""
    win = log_ratio(adapter, model, reference, batch, prefix=win_prefix)
    lose = log_ratio(adapter, model, reference, batch)
    return dpo_loss(win, lose, beta)
