"""Which metrics to trust: open-unlearning's meta-evaluation (Dorna et al., arXiv 2506.12618,
section 4.1, eqs. 1-4): faithfulness as the AUC separating models that saw the forget set from
models that did not, robustness to relearning and to quantization, all on metrics oriented so
that higher means more knowledge of the forget set."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DENOMINATOR_FLOOR = 1e-8  # below it the reference leaves R undefined and calls Q 1


def faithfulness(saw: Sequence[float], unseen: Sequence[float]) -> float:
    """AUC of "more knowledge" separating the models that saw the forget set from those that
    did not: P(saw > unseen) + P(tie) / 2 over every pair (the Mann-Whitney statistic)."""
    p, n = np.asarray(saw, float)[:, None], np.asarray(unseen, float)[None, :]
    return float(((p > n).sum() + 0.5 * (p == n).sum()) / (p.size * n.size))


def relearn_robustness(unlearned: tuple[float, float], retrained: tuple[float, float]
                       ) -> float | None:
    """R = (m_ret before - after) / (m_unl before - after), clipped to [0, 1], from (before,
    after relearning) of an unlearned model and of the retrained one; None where the
    unlearned model's metric did not move."""
    denom = unlearned[0] - unlearned[1]
    if abs(denom) < DENOMINATOR_FLOOR:
        return None
    return float(min(1.0, max(0.0, (retrained[0] - retrained[1]) / denom)))


def quant_robustness(before: float, after: float) -> float:
    """Q = after / before of a model quantized, clipped to [0, 1]; 1 for a zero before."""
    if abs(before) < DENOMINATOR_FLOOR:
        return 1.0
    return float(min(1.0, max(0.0, after / before)))


def harmonic_mean(a: float | None, b: float | None) -> float | None:
    """HM(R, Q), the aggregated robustness (0 when either is 0; None when either is)."""
    if a is None or b is None:
        return None
    return 0.0 if a + b == 0 else 2 * a * b / (a + b)


def knowledge(value: float, sign: int) -> float:
    """A metric in [0, 1] oriented so that higher is more knowledge: itself (``sign`` +1) or
    1 - value (``sign`` -1)."""
    return value if sign > 0 else 1.0 - value
