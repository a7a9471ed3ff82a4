"""The token-level LLM losses of [11] (WGA, SatImp, CE-U, UNDIAL) against the formulas
computed token by token with plain loops on a small case."""
from __future__ import annotations

import math

import pytest
import torch

from erasus_bench.lm.prompt import IGNORE
from erasus_bench.methods.strategies._token import (ceu_loss, satimp_loss, undial_loss,
                                                    wga_loss)

torch.manual_seed(0)
LOGITS = torch.randn(2, 5, 7)
TEACHER = torch.randn(2, 5, 7)
# position t predicts token t+1; answers: row 0 tokens 2..4, row 1 tokens 1..3
LABELS = torch.tensor([[IGNORE, IGNORE, 3, 1, 6], [IGNORE, 2, 2, 5, IGNORE]])


def answer_positions(labels: torch.Tensor) -> list[tuple[int, int, int]]:
    """(row, position of the predicting logits, target token) of every answer token."""
    return [(b, t - 1, int(labels[b, t])) for b in range(labels.shape[0])
            for t in range(1, labels.shape[1]) if labels[b, t] != IGNORE]


def log_softmax(row: torch.Tensor) -> list[float]:
    z = math.log(sum(math.exp(v) for v in row.tolist()))
    return [v - z for v in row.tolist()]


def test_wga_and_satimp_by_hand() -> None:
    wga, sat = [], []
    for b, t, y in answer_positions(LABELS):
        nll = -log_softmax(LOGITS[b, t])[y]
        p = math.exp(-nll)
        wga.append(p ** 2.0 * nll)
        sat.append(p ** 5.0 * (1 - p) ** 1.0 * nll)
    assert wga_loss(LOGITS, LABELS, 2.0).item() == pytest.approx(-sum(wga) / len(wga), rel=1e-5)
    assert satimp_loss(LOGITS, LABELS, 5.0, 1.0).item() == pytest.approx(-sum(sat) / len(sat),
                                                                         rel=1e-5)


def test_ceu_by_hand_skips_each_answers_first_token() -> None:
    terms = []
    for b, t, y in answer_positions(LABELS)[1:3] + answer_positions(LABELS)[4:]:
        logp = log_softmax(LOGITS[b, t])
        others = [v for i, v in enumerate(LOGITS[b, t].tolist()) if i != y]
        z = math.log(sum(math.exp(v) for v in others))
        target = [0.0 if i == y else math.exp(v - z) for i, v in enumerate(LOGITS[b, t].tolist())]
        terms.append(-sum(q * lp for q, lp in zip(target, logp)))
    assert ceu_loss(LOGITS, LABELS, skip_first=1).item() == pytest.approx(
        sum(terms) / len(terms), rel=1e-5)


def test_undial_by_hand() -> None:
    terms = []
    for b, t, y in answer_positions(LABELS):
        adj = [v - (10.0 if i == y else 0.0) for i, v in enumerate(TEACHER[b, t].tolist())]
        z = math.log(sum(math.exp(v) for v in adj))
        target = [math.exp(v - z) for v in adj]
        logp = log_softmax(LOGITS[b, t])
        terms.append(-sum(q * lp for q, lp in zip(target, logp)))
    assert undial_loss(LOGITS, TEACHER, LABELS, 10.0).item() == pytest.approx(
        sum(terms) / len(terms), rel=1e-5)


def test_wga_weights_carry_no_gradient() -> None:
    """As the reference, the weight p^beta is a constant: the gradient is that of
    -mean(c * nll) with c = p^beta fixed, not of -mean(p^beta * nll) differentiated through p."""
    def grad(detach: bool) -> torch.Tensor:
        x = LOGITS.clone().requires_grad_(True)
        pos = answer_positions(LABELS)
        nll = torch.stack([-torch.log_softmax(x[b, t], -1)[y] for b, t, y in pos])
        w = (-nll).exp()
        (-((w.detach() if detach else w) * nll).mean()).backward()
        return x.grad

    x = LOGITS.clone().requires_grad_(True)
    wga_loss(x, LABELS, 1.0).backward()
    torch.testing.assert_close(x.grad, grad(detach=True))
    assert not torch.allclose(x.grad, grad(detach=False))
