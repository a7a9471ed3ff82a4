"""Uniform random coreset: the control every informed selector must beat
(standard baseline in coreset studies, e.g. Guo et al. 2022, "DeepCore")."""
from __future__ import annotations

import numpy as np
import torch

from erasus_bench.methods.selectors.base import Selector, register_selector
from erasus_bench.methods.task import SelectionContext


@register_selector("random", description="k forget examples uniformly at random (control)")
class Random(Selector):
    """``k`` indices without replacement, from ``ctx.generator()`` (seeded by the cell seed)."""

    paper = "control"

    def select(self, ctx: SelectionContext, k: int) -> np.ndarray:
        n = len(ctx.forget)
        perm = torch.randperm(n, generator=ctx.generator())
        return perm[:min(k, n)].numpy().astype(np.int64)
