"""Helpers shared by several strategies: the step loop, data streams, epoch schedules,
distillation KL, the diagonal Fisher and random relabelling."""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

import torch
import torch.nn.functional as F
from torch import nn

from erasus_bench.errors import unknown_choice
from erasus_bench.methods.adapter import ModelAdapter
from erasus_bench.methods.examples import Batch, Examples
from erasus_bench.methods.task import UnlearnTask

FORGET_SALT = 1  # generator salts: forget stream, retain stream, other randomness
RETAIN_SALT = 2
EXTRA_SALT = 3
MOMENTUM = 0.9  # SGD momentum (as in the methods' reference code)
OPTIMIZERS = ("sgd", "adam", "adamw")
T = TypeVar("T")


def streams(task: UnlearnTask, batch_size: int) -> tuple[Iterator[Batch], Iterator[Batch]]:
    """Endless shuffled (forget, retain) batch streams, each from its own seeded generator."""
    return (task.forget.stream(batch_size, task.generator(FORGET_SALT)),
            task.retain.stream(batch_size, task.generator(RETAIN_SALT)))


def pass_steps(examples: Examples, batch_size: int) -> int:
    """Batches in one pass over ``examples`` (as ``Examples.stream`` cuts them)."""
    return math.ceil(len(examples) / min(batch_size, len(examples))) if len(examples) else 0


def epoch_schedule(epoch: Callable[[int], Sequence[T]], steps: int) -> list[T]:
    """Epochs ``epoch(0), epoch(1), ...`` (each the reference's per-step plan of one epoch, e.g.
    which data source each step reads) laid out in order and truncated to exactly ``steps``."""
    plan: list[T] = []
    e = 0
    while len(plan) < steps:
        one = list(epoch(e))
        if not one:
            raise ValueError(f"epoch {e} of the schedule has no steps")
        plan += one
        e += 1
    return plan[:steps]


def make_optimizer(model: nn.Module, name: str, lr: float) -> torch.optim.Optimizer:
    """``"sgd"`` (with momentum), ``"adam"`` or ``"adamw"`` (torch's default weight decay 0.01,
    as the WMDP RMU code) over the model's trainable parameters."""
    params = [p for p in model.parameters() if p.requires_grad]
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=MOMENTUM)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr)
    raise unknown_choice("optimizer", name, OPTIMIZERS)


def optimize(model: nn.Module, optimizer: torch.optim.Optimizer, steps: int,
             loss_fn: Callable[[int], torch.Tensor],
             grad_mask: list[torch.Tensor] | None = None) -> nn.Module:
    """Run ``steps`` optimizer steps on ``loss_fn(step)`` in train mode; return the model in eval
    mode. ``grad_mask`` (one 0/1 tensor per optimizer parameter) restricts which weights move."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    model.train()
    for t in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss_fn(t).backward()
        if grad_mask is not None:
            for p, m in zip(params, grad_mask):
                if p.grad is not None:
                    p.grad.mul_(m)
        optimizer.step()
    return model.eval()


def kl_per_example(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                   temperature: float) -> torch.Tensor:
    """KL(teacher || student) of temperature-softened outputs, times T^2 (Hinton et al., 2015),
    one value per example: summed over the last (class/vocabulary) axis, averaged over any
    axes in between (tokens of [B, T, V] LM logits)."""
    log_s = F.log_softmax(student_logits / temperature, dim=-1)
    log_t = F.log_softmax(teacher_logits / temperature, dim=-1)
    kl = (log_t.exp() * (log_t - log_s)).sum(-1) * temperature ** 2
    return kl.reshape(kl.shape[0], -1).mean(1)


def fisher_diagonal(model: nn.Module, adapter: ModelAdapter, examples: Examples
                    ) -> list[torch.Tensor]:
    """Diagonal empirical Fisher: per-example squared loss gradients (true labels), averaged over
    ``examples``; one tensor per trainable parameter, computed in eval mode."""
    params = [p for p in model.parameters() if p.requires_grad]
    fisher = [torch.zeros_like(p) for p in params]
    was_training = model.training
    model.eval()
    for i in range(len(examples)):
        loss = adapter.per_example_loss(model, examples[[i]]).sum()
        for f, g in zip(fisher, torch.autograd.grad(loss, params, allow_unused=True)):
            if g is not None:
                f.addcmul_(g, g)
    model.train(was_training)
    return [f / max(len(examples), 1) for f in fisher]


def random_wrong_labels(y: torch.Tensor, num_classes: int, generator: torch.Generator
                        ) -> torch.Tensor:
    """A uniformly random label different from ``y`` for every example."""
    shift = torch.randint(1, num_classes, y.shape, generator=generator)
    return (y + shift) % num_classes


def random_labels(y: torch.Tensor, num_classes: int, generator: torch.Generator) -> torch.Tensor:
    """A label drawn uniformly over all ``num_classes`` classes (the true one included) per
    example."""
    return torch.randint(0, num_classes, y.shape, generator=generator)


def require_num_classes(task: UnlearnTask) -> int:
    """The task's class count (relabelling strategies need it)."""
    if task.num_classes is None or task.num_classes < 2:
        raise ValueError("this strategy needs task.num_classes >= 2 (a classifier task)")
    return task.num_classes
