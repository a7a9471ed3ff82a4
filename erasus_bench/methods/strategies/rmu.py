"""Representation Misdirection for Unlearning (Li et al., ICML 2024, "The WMDP Benchmark:
Measuring and Reducing Malicious Use With Unlearning").

Reference settings:

* open-unlearning (``src/trainer/unlearn/rmu.py``, ``configs/trainer/RMU.yaml``, used for TOFU):
  steering_coeff 2, alpha 1, gamma 1, activations of ``model.layers.7`` (block 7 of
  Llama-3.2-1B's 16), ``trainable_params_regex: [".*"]`` (every parameter; only the embeddings
  and blocks 0-7 get a gradient), both terms averaged over answer tokens only
  (``labels != -100``); lr 1e-5, AdamW with weight decay 0.01
  (``configs/experiment/unlearn/tofu/default.yaml``). Its config says the values need tuning
  per model and dataset.
* the WMDP code (``centerforaisafety/wmdp``, ``rmu/unlearn.py``, Zephyr-7B, 32 blocks):
  activations of layer 7, only ``layers 5-7 mlp.down_proj`` trained, steering 6.5, alpha 1200,
  every token of the forget / retain corpora.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import contextmanager

import torch
from torch import nn

from erasus_bench.lm.prompt import IGNORE
from erasus_bench.methods.causal_lm import CausalLMAdapter
from erasus_bench.methods.examples import Batch
from erasus_bench.methods.strategies._common import (EXTRA_SALT, make_optimizer, optimize,
                                                     streams)
from erasus_bench.methods.strategies._preference import lm_adapter
from erasus_bench.methods.strategies.base import Strategy, register_strategy
from erasus_bench.methods.task import LM_MODALITIES, UnlearnTask

ALL_PARAMS = (".*",)  # open-unlearning's TOFU setting


@contextmanager
def _capture(block: nn.Module):
    """Record the hidden states a transformer block outputs (first element of a tuple output)."""
    seen: list[torch.Tensor] = []

    def hook(module: nn.Module, args: object, output: object) -> None:
        seen.append(output[0] if isinstance(output, (tuple, list)) else output)

    handle = block.register_forward_hook(hook)
    try:
        yield seen
    finally:
        handle.remove()


def block_output(adapter: CausalLMAdapter, model: nn.Module, batch: Batch, layer: int
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """The output of transformer block ``layer`` (0-based; the input of block ``layer + 1``)
    [B, T, D] in float32, and the mask of the tokens RMU scores [B, T]: the labelled (answer)
    tokens, as open-unlearning's ``labels != -100`` (every token of a text whose labels cover
    it all)."""
    with _capture(adapter.blocks(model)[layer]) as seen:
        _, b = adapter.forward(model, batch)
    return seen[0].float(), b["labels"] != IGNORE


def activation_mse(h: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Squared distance per hidden unit (``||h - target||^2 / D``), averaged over each example's
    masked tokens, then over the batch (open-unlearning's ``compute_activation_loss``; an
    example without masked tokens counts 0 instead of dividing by zero)."""
    per_token = (h - target).pow(2).mean(-1)
    m = mask.to(per_token.dtype)
    return ((per_token * m).sum(1) / m.sum(1).clamp_min(1)).mean()


def steered_layer(n_blocks: int, layer: int | None) -> int:
    """The block whose output RMU steers: ``layer`` (negatives count from the end) or, for
    ``None``, ``(n_blocks - 1) // 2`` (7 for Llama-3.2-1B's 16 blocks, open-unlearning's
    ``model.layers.7``; 1 for the tiny model's 4)."""
    if layer is None:
        layer = (n_blocks - 1) // 2
    if not -n_blocks <= layer < n_blocks:
        raise ValueError(f"rmu layer {layer} out of range for a model with {n_blocks} blocks")
    return layer % n_blocks


def trained_parameters(model: nn.Module, params: Sequence[str]) -> list[str]:
    """Names of the parameters RMU updates: those that fully match any regex in ``params``
    (open-unlearning's ``trainable_params_regex``); an error when none does."""
    if isinstance(params, str):
        params = [params]
    patterns = [re.compile(p) for p in params]
    names = [n for n, _ in model.named_parameters() if any(p.fullmatch(n) for p in patterns)]
    if not names:
        some = ", ".join(n for n, _ in list(model.named_parameters())[:4])
        raise ValueError(f"rmu params {list(params)} match no parameter (names look like "
                         f"{some}, ...)")
    return names


@register_strategy("rmu", description="RMU: steer forget activations at one layer to a scaled "
                   "random vector, keep retain activations", modalities=LM_MODALITIES)
class RMU(Strategy):
    """``steps`` optimizer steps on ``gamma * MSE(h(x_f), c*u) + alpha * MSE(h(x_r), h_0(x_r))``
    where ``h`` is the output of block ``layer`` (``None`` = ``(n_blocks - 1) // 2``), ``h_0``
    that of the frozen ``task.original``, ``u`` a fixed random unit vector (uniform entries,
    normalised; seeded from the task) and ``c`` the steering coefficient; MSE is per hidden unit,
    averaged over each example's answer tokens (``labels != -100``), then over the batch. Only
    the parameters whose names fully match a regex of ``params`` are updated.

    Defaults follow open-unlearning's ``configs/trainer/RMU.yaml`` (steering 2, alpha 1, gamma 1,
    every parameter trainable, the block below the middle: ``model.layers.7`` of 16) and its TOFU
    lr 1e-5; unlike it the optimizer is Adam without weight decay (see ``npo``'s module
    docstring). For the tiny 4-block GPT-2 the same rule gives block 1 and all parameters (only
    the embeddings and blocks 0-1 receive gradients). The WMDP code's choice would be e.g.
    ``params=[r"transformer\\.h\\.[01]\\.mlp\\.c_proj\\.weight"]`` on GPT-2. The coefficients
    depend on the activation scale of the model (TOFU's ``hparams.py`` sets them for the tiny
    model)."""

    paper = "Li et al. 2024"

    def __init__(self, steps: int = 150, batch_size: int = 16, lr: float = 1e-5,
                 optimizer: str = "adam", layer: int | None = None,
                 params: Sequence[str] = ALL_PARAMS, steering_coeff: float = 2.0,
                 alpha: float = 1.0, gamma: float = 1.0) -> None:
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.layer = layer
        self.params = params
        self.steering_coeff = steering_coeff
        self.alpha = alpha
        self.gamma = gamma

    def control_vector(self, task: UnlearnTask, dim: int) -> torch.Tensor:
        """``c * u``: the steering coefficient times a seeded random unit vector [dim]."""
        u = torch.rand(dim, generator=task.generator(EXTRA_SALT))
        return self.steering_coeff * u / u.norm()

    def loss_terms(self, adapter: CausalLMAdapter, model: nn.Module, frozen: nn.Module,
                   forget: Batch, retain: Batch, layer: int, target: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor]:
        """(steering term on ``forget``, activation-matching term on ``retain``), both over
        answer tokens only; unweighted."""
        h_f, m_f = block_output(adapter, model, forget, layer)
        h_r, m_r = block_output(adapter, model, retain, layer)
        with torch.no_grad():
            h_0, _ = block_output(adapter, frozen, retain, layer)
        return (activation_mse(h_f, target.to(h_f.device), m_f),
                activation_mse(h_r, h_0.to(h_r.device), m_r))

    def unlearn(self, task: UnlearnTask) -> nn.Module:
        model, frozen, ad = task.model, task.original, lm_adapter(task.adapter, "rmu")
        layer = steered_layer(len(ad.blocks(model)), self.layer)
        trained = set(trained_parameters(model, self.params))
        forget, retain = streams(task, self.batch_size)
        targets: list[torch.Tensor] = []  # c*u, drawn once the hidden size is known

        def loss(t: int) -> torch.Tensor:
            if not targets:
                with torch.no_grad():
                    h, _ = block_output(ad, frozen, task.forget[[0]], layer)
                targets.append(self.control_vector(task, h.shape[-1]))
            steer, keep = self.loss_terms(ad, model, frozen, next(forget), next(retain), layer,
                                          targets[0])
            return self.gamma * steer + self.alpha * keep

        flags = [p.requires_grad for p in model.parameters()]
        try:
            for name, p in model.named_parameters():
                p.requires_grad_(name in trained)
            return optimize(model, make_optimizer(model, self.optimizer, self.lr), self.steps,
                            loss)
        finally:
            for p, flag in zip(model.parameters(), flags):
                p.requires_grad_(flag)
