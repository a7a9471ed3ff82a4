"""Compute counting: examples, forward/backward passes and optimizer steps, by hand."""
from __future__ import annotations

import copy

import torch
from torch import nn

from erasus_bench.harness.cost import count_cost


def test_counts_match_a_hand_count() -> None:
    torch.manual_seed(0)
    student = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    teacher = copy.deepcopy(student).requires_grad_(False)
    opt = torch.optim.SGD(student.parameters(), lr=0.1)
    x = torch.randn(5, 3)
    with count_cost([student], [teacher]) as cost:
        for _ in range(3):  # 3 steps of a batch of 5, each distilled from the teacher
            opt.zero_grad()
            with torch.no_grad():
                target = teacher(x)
            ((student(x) - target) ** 2).mean().backward()
            opt.step()
        with torch.no_grad():
            student(x[:2])  # scored without gradients: a forward, no backward
        loss = student(x[:1]).sum()  # a gradient by autograd.grad counts as a backward
        torch.autograd.grad(loss, list(student.parameters()))
        bad = copy.deepcopy(teacher)  # a copy made inside the block keeps counting
        bad(x)
    assert cost.optimizer_steps == 3
    assert cost.examples == 3 * 5 + 2 + 1
    assert cost.forward_passes == 3 * 5 * 2 + 2 + 1 + 5
    assert cost.backward_passes == 3 * 5 + 1
    student(x)  # after the block nothing is counted
    assert cost.forward_passes == 3 * 5 * 2 + 2 + 1 + 5


def test_backward_through_a_frozen_prefix_still_counts() -> None:
    # only the last layer trains (as RMU trains one block): the gradient reaches it alone
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    model[0].requires_grad_(False)
    with count_cost([model]) as cost:
        model(torch.randn(6, 3)).sum().backward()
    assert (cost.examples, cost.backward_passes) == (6, 6)
