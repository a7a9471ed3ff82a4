"""Alternate Preference Optimization, AltPO (Mekala et al., COLING 2025, "Alternate Preference
Optimization for Unlearning Factual Knowledge in Large Language Models"): DPO preferring the
model's own alternate answers to the forget questions over their true answers."""
from __future__ import annotations

import dataclasses

import torch
from torch import nn

from erasus_bench.lm.generate import sample_continuations
from erasus_bench.lm.prompt import IGNORE
from erasus_bench.methods.causal_lm import LM_KEYS
from erasus_bench.methods.examples import Batch, Examples
from erasus_bench.methods.strategies._common import EXTRA_SALT
from erasus_bench.methods.strategies._preference import lm_adapter, prefer_over_forget
from erasus_bench.methods.strategies.base import register_strategy
from erasus_bench.methods.strategies.npo import NPO
from erasus_bench.methods.task import UnlearnTask

ALT = "alt_"
TOP_K = 50  # transformers' sampling default, left in place by the reference's generate.yaml


def split_answers(examples: Examples) -> tuple[list[list[int]], list[int]]:
    """Each example's prompt (its tokens before the first answer token) and the token that ends
    its answer (``encode_qa``'s EOS)."""
    prompts, ends = [], []
    for ids, labels in zip(examples.tensors["input_ids"], examples.tensors["labels"]):
        answer = (labels != IGNORE).nonzero().flatten()
        if not len(answer):
            raise ValueError("altpo needs question/answer examples (labels on the answer)")
        prompts.append(ids[:int(answer[0])].tolist())
        ends.append(int(labels[answer[-1]]))
    return prompts, ends


def with_alternates(examples: Examples, prompts: list[list[int]], ends: list[int],
                    alternates: list[list[list[int]]], pad: int) -> Examples:
    """One row per (example i, alternate j), in that order: example i's own tensors and, under
    the ``alt_`` prefix, its prompt followed by alternate j and its end token (labels on those),
    right-padded with ``pad``."""
    k = len(alternates[0])
    rows = [(p, a + [e]) for p, e, alts in zip(prompts, ends, alternates) for a in alts]
    width = max(len(p) + len(a) for p, a in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
    for r, (p, a) in enumerate(rows):
        n = len(p) + len(a)
        ids[r, :n] = torch.tensor(p + a)
        mask[r, :n] = 1
        labels[r, len(p):n] = torch.tensor(a)
    own = {key: examples.tensors[key].repeat_interleave(k, 0) for key in LM_KEYS}
    return Examples({**own, ALT + "input_ids": ids, ALT + "attention_mask": mask,
                     ALT + "labels": labels})


def stop_and_pad(model: nn.Module, ends: list[int]) -> tuple[list[int], int]:
    """The tokens that end a sampled answer (the model's EOS ids and the examples' answer ends)
    and a padding id (the model's, else an end token)."""
    eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    eos = model.config.eos_token_id if eos is None else eos
    stops = [*(eos if isinstance(eos, list) else [] if eos is None else [eos]), *ends]
    pad = model.config.pad_token_id
    return stops, stops[0] if pad is None else pad


@register_strategy("altpo", description="AltPO: DPO preferring the original model's own "
                   "sampled alternate answers over the forget answer, plus retain NLL",
                   modalities=("causal_lm",))
class AltPO(NPO):
    """First, ``alternates`` answers per forget question are sampled from the original model
    (``task.original``, temperature ``temperature``, top-k 50, at most ``max_new_tokens``
    tokens; seeded from the task's generator; inside ``unlearn``, so timed and counted with the
    method). The forget set becomes one row per (question, alternate) pair, as the reference's
    ``alt5`` files, and ``steps`` optimizer steps run on ``gamma * L_DPO + alpha * NLL(retain)``
    with ``L_DPO = -(2/beta) * mean log sigmoid(beta * (r_alt - r_true))`` (IdkDPO's loss with
    the alternate as the preferred answer). References: open-unlearning's
    ``community/methods/AltPO`` (``generate.py``/``generate.yaml``: 5 samples per question from
    the model to be unlearned at temperature 1, max 200 new tokens, seed 0; ``run.sh``: its DPO
    trainer, ``QAwithAlternateDataset``, 2 epochs over the 5x rows) and the authors' code
    (``forget.py``, ``dataloader.py``: ``subdpo`` is that DPO). Defaults: ``configs/trainer/
    DPO.yaml`` (beta 0.1, alpha 1, gamma 1), lr 1e-5 (open-unlearning's TOFU default, the low end
    of the AltPO grid 1e-5..5e-5), Adam instead of AdamW. Deliberate deviation: the reference
    asks an instruction-tuned model, shown the question and its true answer, to "write another
    answer ... that changes all facts"; strategies see token ids, not text, and the default
    tiny model follows no instructions, so here the original model is sampled on the question
    prompt alone (its own answer distribution, which can return the true answer; the reference
    does not filter either), and generation stops at EOS rather than at "Question:" strings."""

    paper = "Mekala et al. 2025"

    def __init__(self, steps: int = 150, batch_size: int = 16, lr: float = 1e-5,
                 optimizer: str = "adam", beta: float = 0.1, alpha: float = 1.0,
                 gamma: float = 1.0, alternates: int = 5, max_new_tokens: int = 200,
                 temperature: float = 1.0) -> None:
        super().__init__(steps, batch_size, lr, optimizer, beta, alpha, gamma)
        self.alternates = alternates
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature

    def forget_loss(self, task: UnlearnTask, model: nn.Module, batch: Batch) -> torch.Tensor:
        """The DPO term on one forget batch (which carries the ``alt_*`` tensors)."""
        ad = lm_adapter(task.adapter, self.name)
        return prefer_over_forget(ad, model, task.original, batch, ALT, self.beta)

    def alternate_set(self, task: UnlearnTask) -> Examples:
        """The forget examples with sampled alternate answers, one row per pair."""
        prompts, ends = split_answers(task.forget)
        stops, pad = stop_and_pad(task.original, ends)
        seed = int(torch.randint(0, 2 ** 62, (1,), generator=task.generator(EXTRA_SALT)))
        samples = sample_continuations(task.original, prompts, self.alternates,
                                       self.max_new_tokens, self.temperature, TOP_K, seed,
                                       stops, pad)
        return with_alternates(task.forget, prompts, ends, samples, pad)

    def unlearn(self, task: UnlearnTask) -> nn.Module:
        lm_adapter(task.adapter, self.name)
        return super().unlearn(dataclasses.replace(task, forget=self.alternate_set(task)))
