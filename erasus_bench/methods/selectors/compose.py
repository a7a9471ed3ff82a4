"""Composed coresets, the design's ``Coreset.intersect`` / ``Coreset.union``: ``a&b`` keeps the
examples every member picks, topped up to k by mean rank; ``a|b`` takes the examples any member
picks, trimmed to k by mean rank (ranks from each member's full ranking, Borda as ``voting``)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from erasus_bench.methods.selectors.base import Selector
from erasus_bench.methods.names import OPERATORS, members
from erasus_bench.methods.selectors.voting import borda
from erasus_bench.methods.task import SelectionContext
from erasus_bench.registry import SELECTORS

def combine(rankings: Sequence[np.ndarray], k: int, op: str) -> np.ndarray:
    """``k`` indices: the intersection (or union) of the rankings' top-k sets in mean-rank
    order, topped up (or trimmed) to ``k`` in mean-rank order."""
    n = len(rankings[0])
    k = min(k, n)
    tops = [set(np.asarray(r)[:k].tolist()) for r in rankings]
    chosen = set.intersection(*tops) if op == "intersect" else set.union(*tops)
    order = borda(rankings, n).tolist()
    first = [i for i in order if i in chosen]
    return np.asarray((first + [i for i in order if i not in chosen])[:k], dtype=np.int64)


class Composite(Selector):
    """``intersect`` or ``union`` of ``parts``' top-k sets (``combine``). Its ``select(k)`` is
    not the head of one ranking, so a composite is never a member of another."""

    def __init__(self, op: str, parts: Sequence[str]) -> None:
        self.op, self.parts = op, tuple(parts)
        self.uses_early_models = any(SELECTORS.get(p).uses_early_models for p in parts)

    def select(self, ctx: SelectionContext, k: int) -> np.ndarray:
        if len(ctx.forget) == 0:
            return np.empty(0, dtype=np.int64)
        return combine([SELECTORS.get(p)().rank(ctx) for p in self.parts], k, self.op)


def make_selector(name: str) -> Selector:
    """The registered selector ``name``, or the composition ``a&b`` / ``a|b`` of registered
    ones."""
    parts = members(name)
    if len(parts) == 1:
        return SELECTORS.get(name)()
    op = OPERATORS["&" if "&" in name else "|"]
    for p in parts:
        SELECTORS.entry(p)  # unknown members: the registry's error with its choices
    return Composite(op, parts)
