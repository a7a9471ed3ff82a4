"""AltPO, IdkNLL and PDU on hand cases: a 2-token "table" LM whose next-token logits depend on
the position only, so every loss is a few logs written out below."""
from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from erasus_bench.lm.prompt import IGNORE
from erasus_bench.methods.causal_lm import CausalLMAdapter
from erasus_bench.methods.examples import Examples
from erasus_bench.methods.strategies import pdu as pdu_module
from erasus_bench.methods.strategies._token import logit_margin_loss
from erasus_bench.methods.strategies.altpo import AltPO, split_answers, with_alternates
from erasus_bench.methods.strategies.idk_dpo import IdkDPO
from erasus_bench.methods.strategies.idk_nll import IdkNLL
from erasus_bench.methods.strategies.pdu import PDU, DualVariable
from erasus_bench.methods.task import UnlearnTask
from erasus_bench.registry import STRATEGIES

LN3 = math.log(3.0)
X = IGNORE


class TableLM(nn.Module):
    """Logits ``table[t]`` at position ``t`` whatever the input (vocabulary {0, 1})."""

    def __init__(self, rows: list[list[float]]) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.tensor(rows))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                output_hidden_states: bool = False) -> SimpleNamespace:
        b, t = input_ids.shape
        return SimpleNamespace(logits=self.table[:t].unsqueeze(0).expand(b, t, -1))


# model: position 0 uniform (1/2, 1/2); position 1 p = (3/4, 1/4); position 2 logits (2, -2)
MODEL = [[0.0, 0.0], [LN3, 0.0], [2.0, -2.0]]
REFERENCE = [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]  # uniform everywhere


def batch(rows: list[tuple[list[int], list[int]]], prefix: str = "") -> dict:
    """``input_ids``/``attention_mask``/``labels`` (under ``prefix``) of (ids, labels) rows of
    one width; a label of ``X`` marks a prompt or padding token, ids of -1 are padding."""
    ids = torch.tensor([[max(i, 0) for i in r] for r, _ in rows])
    mask = torch.tensor([[int(i >= 0) for i in r] for r, _ in rows])
    labels = torch.tensor([lab for _, lab in rows])
    return {prefix + "input_ids": ids, prefix + "attention_mask": mask, prefix + "labels": labels}


def table_task(forget: dict, retain: dict | None = None, seed: int = 0) -> UnlearnTask:
    return UnlearnTask(model=TableLM(MODEL), original=TableLM(REFERENCE).requires_grad_(False),
                       forget=Examples(forget), retain=Examples(retain or forget),
                       adapter=CausalLMAdapter(), seed=seed)


def test_altpo_forget_loss_by_hand():
    # row 1: true answer (1, 1), alternate (0, 0); row 2: alternate = true answer (1, 1)
    forget = {**batch([([0, 1, 1], [X, 1, 1]), ([0, 1, 1], [X, 1, 1])]),
              **batch([([0, 0, 0], [X, 0, 0]), ([0, 1, 1], [X, 1, 1])], "alt_")}
    task = table_task(forget)
    # row 1: log p(true) = ln(1/2) + ln(1/4), ref ln(1/4): r_true = -ln 2;
    #        log p(alt) = ln(1/2) + ln(3/4), ref ln(1/4): r_alt = ln(3/2); margin ln 3,
    #        -(2/beta) log sigmoid(beta * ln 3) at beta 1 = -2 ln(3/4)
    # row 2: margin 0: -2 ln(1/2)
    expected = (-2 * math.log(3 / 4) - 2 * math.log(1 / 2)) / 2  # = ln(8/3)
    with torch.no_grad():
        got = AltPO(beta=1.0).forget_loss(task, task.model, task.forget[[0, 1]])
    assert float(got) == pytest.approx(expected, rel=1e-6)
    assert expected == pytest.approx(math.log(8 / 3))


def test_altpo_rows_pair_each_question_with_each_alternate():
    forget = Examples(batch([([5, 6, 1, 9], [X, X, 1, 9]), ([7, 4, 9, -1], [X, 4, 9, X])]))
    prompts, ends = split_answers(forget)
    assert prompts == [[5, 6], [7]] and ends == [9, 9]
    out = with_alternates(forget, prompts, ends, [[[3], [2, 3]], [[8], []]], pad=0)
    assert out.tensors["alt_input_ids"].tolist() == [[5, 6, 3, 9, 0], [5, 6, 2, 3, 9],
                                                     [7, 8, 9, 0, 0], [7, 9, 0, 0, 0]]
    assert out.tensors["alt_attention_mask"].tolist() == [[1, 1, 1, 1, 0], [1, 1, 1, 1, 1],
                                                          [1, 1, 1, 0, 0], [1, 1, 0, 0, 0]]
    assert out.tensors["alt_labels"].tolist() == [[X, X, 3, 9, X], [X, X, 2, 3, 9],
                                                  [X, 8, 9, X, X], [X, 9, X, X, X]]
    # each question's own (true) answer, once per alternate
    assert out.tensors["input_ids"].tolist() == [[5, 6, 1, 9]] * 2 + [[7, 4, 9, 0]] * 2


def test_idk_nll_forget_loss_by_hand():
    # "I don't know" answers: row 1 tokens (0, 0), row 2 the single token 1 then padding
    forget = {**batch([([0, 1, 1], [X, 1, 1]), ([0, 1, 1], [X, 1, 1])]),
              **batch([([0, 0, 0], [X, 0, 0]), ([0, 1, -1], [X, 1, X])], "idk_")}
    task = table_task(forget)
    # row 1: mean(-ln(1/2), -ln(3/4)) = ln(8/3) / 2; row 2: -ln(1/2) = ln 2
    expected = (math.log(8 / 3) / 2 + math.log(2)) / 2
    with torch.no_grad():
        got = IdkNLL().forget_loss(task, task.model, task.forget[[0, 1]])
    assert float(got) == pytest.approx(expected, rel=1e-6)


def test_idk_nll_draws_idk_dpo_answers():
    """Same pool and the same per-fetch draws as IdkDPO under one seed (K = 3 candidates)."""
    cands = [batch([([0, k % 2, 1], [X, k % 2, 1]) for k in range(3)], "idk_")
             for _ in range(4)]
    idk = {k: torch.stack([c[k] for c in cands]) for k in cands[0]}  # [N=4, K=3, T]
    forget = {**batch([([0, 1, 1], [X, 1, 1])] * 4), **idk}
    task = table_task(forget, seed=5)
    fetches = [task.forget[[0, 1, 2, 3]]] * 6
    draws = [[b["idk_input_ids"] for b in cls().forget_batches(task, iter(fetches))]
             for cls in (IdkNLL, IdkDPO)]
    assert all(torch.equal(a, b) for a, b in zip(*draws))
    assert len({tuple(d.flatten().tolist()) for d in draws[0]}) > 1  # fresh draws per fetch
    with pytest.raises(ValueError, match="idk_input_ids"):
        IdkNLL(steps=1).unlearn(table_task(batch([([0, 1, 1], [X, 1, 1])])))


def test_pdu_forget_loss_by_hand():
    # answer tokens predicted at positions 0 and 1 (row 1) and 1 (row 2); position 2's logits
    # (2, -2), which predict no answer token, stay out
    forget = batch([([0, 1, 1], [X, 1, 1]), ([0, 0, 1], [X, X, 1])])
    task = table_task(forget)
    # (max - mean)^2: position 0: 0; position 1: (ln3 - ln3/2)^2 = ln3^2 / 4
    expected = (0 + LN3 ** 2 / 4 + LN3 ** 2 / 4) / 3
    with torch.no_grad():
        out, b = task.adapter.forward(task.model, task.forget[[0, 1]])
        got = logit_margin_loss(out.logits, b["labels"])
    assert float(got) == pytest.approx(expected, rel=1e-6)


def test_pdu_dual_ascent_by_hand():
    dual = DualVariable(value=1.0, step_size=5.0, start=2)
    seen = []
    for t, gap in enumerate([0.2, 0.2, 0.1, -0.1, -0.3]):
        dual.update(t, gap)
        seen.append(dual.value)
    # warm-up (steps 0, 1) leaves 1; then 1 + 5 * 0.1 = 1.5, 1.5 - 0.5 = 1.0, max(0, 1 - 1.5)
    assert seen == pytest.approx([1.0, 1.0, 1.5, 1.0, 0.0])


@pytest.mark.parametrize("primal_dual", [True, False])
def test_pdu_objective_uses_the_multiplier_before_each_update(primal_dual, monkeypatch):
    """With a learning rate of 0 the model and both losses stay fixed: step t's objective is
    f + lam_t * g, lam moving by 5 g after each step from step round(0.5 * 4) = 2 on."""
    forget = batch([([0, 1, 1], [X, 1, 1])])
    retain = batch([([0, 0, 0], [X, 0, 0])])
    f = LN3 ** 2 / 8  # (0 + ln3^2 / 4) / 2
    g = math.log(8 / 3) / 2 - 0.3  # retain NLL mean(ln 2, ln(4/3)) - eps
    totals: list[float] = []

    def record(model, optimizer, steps, loss_fn):
        for t in range(steps):
            totals.append(float(loss_fn(t).detach()))
        return model

    monkeypatch.setattr(pdu_module, "optimize", record)
    PDU(steps=4, batch_size=1, lr=0.0, optimizer="sgd", alpha=2.0, retain_loss_eps=0.3,
        dual_step_size=5.0, dual_warmup=0.5, primal_dual=primal_dual
        ).unlearn(table_task(forget, retain))
    lam = [2.0, 2.0, 2.0, 2.0 + 5 * g] if primal_dual else [2.0] * 4
    assert totals == pytest.approx([f + lt * g for lt in lam], rel=1e-6)


def test_registered_where_their_data_exist():
    applies = {e.name: e.applies_to for e in STRATEGIES.entries()}
    # IdkNLL and AltPO need questions with answers (IDK answers exist for TOFU only); PDU's
    # reference runs TOFU and MUSE
    assert applies["idk_nll"] == ("causal_lm",) and applies["altpo"] == ("causal_lm",)
    assert applies["pdu"] == ("causal_lm", "lm_corpus")
    assert "dpo" not in applies  # idk_dpo is open-unlearning's DPO
