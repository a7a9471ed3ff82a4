"""The no-coreset baseline: every forget example (the harness runs ``full`` at fraction 1.0 only).
Not a selection method from the literature; it is the reference all coresets are compared to."""
from __future__ import annotations

import numpy as np

from erasus_bench.methods.selectors.base import Selector, register_selector
from erasus_bench.methods.task import SelectionContext


@register_selector("full", description="every forget example (no coreset; run at fraction 1.0)")
class Full(Selector):
    """Returns all ``len(ctx.forget)`` indices, in order, whatever ``k`` is.

    The harness only pairs ``full`` with fraction 1.0, so ``k == len(ctx.forget)`` there; ``k`` is
    deliberately ignored rather than clamped, so ``full`` can never silently become a prefix.
    """

    paper = "baseline"

    def select(self, ctx: SelectionContext, k: int) -> np.ndarray:
        return np.arange(len(ctx.forget), dtype=np.int64)
