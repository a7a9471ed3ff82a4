"""Composed method names, parsed without importing any method (so without torch): coresets
``a&b`` (intersection) and ``a|b`` (union), pipelines ``a>b``."""
from __future__ import annotations

from erasus_bench.errors import UserError

OPERATORS = {"&": "intersect", "|": "union"}
PIPE = ">"


def members(name: str) -> list[str]:
    """The selectors a (possibly composed) selector name is made of: ``a&b`` -> [a, b]."""
    ops = [op for op in OPERATORS if op in name]
    if len(ops) > 1:
        raise UserError(f"selector {name!r} mixes '&' and '|'; compose with one operator")
    parts = name.split(ops[0]) if ops else [name]
    if any(not p for p in parts):
        raise UserError(f"selector {name!r} has an empty member")
    return parts


def stages(name: str) -> list[str]:
    """The strategies a (possibly pipelined) strategy name runs: ``a>b`` -> [a, b]."""
    parts = name.split(PIPE)
    if any(not p for p in parts):
        raise UserError(f"strategy {name!r} has an empty stage; write e.g. "
                        "'gradient_ascent>finetune'")
    return parts
