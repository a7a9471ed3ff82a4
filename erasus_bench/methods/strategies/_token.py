"""Token-level forget losses of open-unlearning's LLM methods (``src/trainer/utils.py``,
``unlearn/ceu.py``, ``unlearn/pdu.py``), on unshifted logits [B, T, V] and labels [B, T]
(``IGNORE`` where a token is not an answer token): each position predicts the next token, as in a
causal LM."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from erasus_bench.lm.prompt import IGNORE


def shifted(logits: torch.Tensor, labels: torch.Tensor
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Next-token logits [B, T-1, V] (float32), their targets [B, T-1] and the answer mask."""
    target = labels[:, 1:]
    return logits[:, :-1].float(), target, target != IGNORE


def token_nll(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-answer-token NLL [M] (the M answer positions, row-major) and their logits [M, V]."""
    lg, target, mask = shifted(logits, labels)
    return F.cross_entropy(lg[mask], target[mask], reduction="none"), lg[mask]


def wga_loss(logits: torch.Tensor, labels: torch.Tensor, beta: float) -> torch.Tensor:
    """WGA (Wang et al., ICLR 2025, "Rethinking LLM Unlearning Objectives: A Gradient
    Perspective and Go Beyond"): gradient ascent with each
    token's NLL weighted by its (detached) probability to the power beta: -mean(p^beta * nll)."""
    nll, _ = token_nll(logits, labels)
    return -((-nll).exp().detach() ** beta * nll).mean()


def satimp_loss(logits: torch.Tensor, labels: torch.Tensor, beta1: float, beta2: float
                ) -> torch.Tensor:
    """SatImp (Yang et al., ICML 2025, "Exploring Criteria of Loss Reweighting to Enhance LLM
    Unlearning"): weights p^beta1 (saturation) times (1 - p)^beta2 (importance), detached:
    -mean(w * nll)."""
    nll, _ = token_nll(logits, labels)
    p = (-nll).exp().detach()
    return -(p ** beta1 * (1 - p) ** beta2 * nll).mean()


def ceu_loss(logits: torch.Tensor, labels: torch.Tensor, skip_first: int = 1) -> torch.Tensor:
    """CE-U ("CE-U: Cross Entropy Unlearning", arXiv:2503.01224, 2025): cross-entropy to the model's
    own (detached) distribution with the true token's logit set to -inf, over the answer tokens
    after the first ``skip_first`` of each answer (the paper's footnote trick)."""
    keep = labels != IGNORE
    first = keep & (keep.cumsum(-1) <= skip_first)
    lg, target, mask = shifted(logits, labels.masked_fill(first, IGNORE))
    valid, tokens = lg[mask], target[mask]
    soft = torch.softmax(valid.detach().scatter(-1, tokens[:, None], float("-inf")), dim=-1)
    return F.cross_entropy(valid, soft)


def undial_loss(logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor,
                beta: float) -> torch.Tensor:
    """UNDIAL (Dong et al., NAACL 2025, "UNDIAL: Self-Distillation with Adjusted Logits for
    Robust Unlearning in Large Language Models"): cross-entropy of the student to
    softmax(teacher logits - beta on the true token), over the answer tokens."""
    lg, target, mask = shifted(logits, labels)
    teacher = teacher_logits[:, :-1].float().detach()[mask]
    adjusted = teacher - beta * F.one_hot(target[mask], teacher.shape[-1]).float()
    return F.cross_entropy(lg[mask], torch.softmax(adjusted, dim=-1))


def logit_margin_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """PDU's forget loss (Entesari et al., 2025, "Constrained Entropic Unlearning: A Primal-Dual
    Framework for Large Language Models"): the squared gap between the largest and the mean
    logit, ``(max_v z_v - mean_v z_v)^2``, averaged over the answer tokens; zero exactly when the
    next-token distribution is uniform."""
    lg, _, mask = shifted(logits, labels)
    valid = lg[mask]
    return ((valid.max(-1).values - valid.mean(-1)) ** 2).mean()
