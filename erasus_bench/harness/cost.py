"""Counting the compute of a selection or an unlearning run: examples, passes, optimizer steps.

Counts are in examples (a forward of a batch of 64 is 64 forward passes), so a method that
takes a forget and a retain batch per step, or distils from a teacher, is visibly costlier than
one that takes one batch. Backward passes are the forwards whose graph a gradient reached
(through any parameter-owning submodule), whether by ``backward()`` or ``autograd.grad``.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_post_hook

from erasus_bench.harness.store import COST_FIELDS


@dataclass
class Cost:
    """``examples``: example-forwards through the model being changed; ``forward_passes`` /
    ``backward_passes``: example-passes through every watched model (teachers included)."""

    examples: int = 0
    optimizer_steps: int = 0
    forward_passes: int = 0
    backward_passes: int = 0

    def __add__(self, other: Cost) -> Cost:
        return Cost(*(getattr(self, f) + getattr(other, f) for f in COST_FIELDS))

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _batch_size(args: tuple, kwargs: dict[str, Any]) -> int:
    for value in (*args, kwargs.get("input_ids"), kwargs.get("inputs_embeds"), kwargs.get("x")):
        if isinstance(value, torch.Tensor) and value.dim() > 0:
            return int(value.shape[0])
    return 1


def _first_tensor(output: Any) -> torch.Tensor | None:
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    return None


class _Call:
    """One forward call of a watched model: its batch size and whether a gradient reached it."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.backward = False


_RUNNING: list[list[bool]] = []  # the ``active`` flag of every counter now counting


@contextmanager
def uncounted() -> Iterator[None]:
    """Pause every running counter over the block (training-time work, e.g. building a training
    artifact, done inside a selection or an unlearning run)."""
    saved = [flag[0] for flag in _RUNNING]
    for flag in _RUNNING:
        flag[0] = False
    try:
        yield
    finally:
        for flag, was in zip(_RUNNING, saved):
            flag[0] = was


@contextmanager
def count_cost(students: Sequence[nn.Module], others: Sequence[nn.Module] = ()
               ) -> Iterator[Cost]:
    """Count compute while the block runs. ``students`` are the models being changed (or
    scored), ``others`` teachers and references; deep copies made in the block keep counting."""
    cost = Cost()
    active = [True]
    calls: list[_Call] = []
    handles = [register_optimizer_step_post_hook(
        lambda *_: setattr(cost, "optimizer_steps", cost.optimizer_steps + active[0]))]

    def watch(model: nn.Module, is_student: bool) -> None:
        current: list[_Call] = []

        def pre(_module: nn.Module, args: tuple, kwargs: dict[str, Any]) -> None:
            if not active[0]:
                return
            call = _Call(_batch_size(args, kwargs))
            current[:] = [call]
            calls.append(call)
            cost.forward_passes += call.n
            if is_student:
                cost.examples += call.n

        def leaf(_module: nn.Module, _args: tuple, output: Any) -> None:
            out = _first_tensor(output)
            if not (active[0] and current and out is not None and out.requires_grad):
                return
            call = current[0]
            out.register_hook(lambda grad: setattr(call, "backward", True))

        handles.append(model.register_forward_pre_hook(pre, with_kwargs=True))
        for module in model.modules():
            if any(True for _ in module.parameters(recurse=False)):
                handles.append(module.register_forward_hook(leaf))

    for model in students:
        watch(model, is_student=True)
    for model in others:
        watch(model, is_student=False)
    _RUNNING.append(active)
    try:
        yield cost
    finally:
        _RUNNING[:] = [flag for flag in _RUNNING if flag is not active]
        active[0] = False
        for h in handles:
            h.remove()
        cost.backward_passes = sum(c.n for c in calls if c.backward)
