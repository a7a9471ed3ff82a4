"""`general`'s per-example privacy stage (the NeurIPS 2023 unlearning challenge's evaluation):
N unlearned runs of a cell against N retrained models, scored by ``metrics.epsilon``."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from torch import nn

from erasus_bench.harness.attacks import AttackInput, StageResult
from erasus_bench.metrics import epsilon as E
from erasus_bench.protocols.base import Setting

# models a side: the challenge used 512; 16 keeps a cell's reruns near 15x its unlearning time,
# and caps the epsilon a side can show at ceil(ln 15) = 3 (6 score buckets)
N_MODELS = 16
POOL_STRIDE = 1_000_003  # retrain i of a seed trains with seed + i * POOL_STRIDE


def pool_seeds(seed: int, family: int) -> list[int]:
    """Training seeds of retrain family 0 (the gold model's seed first, the side every row is
    compared with) or 1 (the retrain row's own N runs)."""
    return [seed + (family * N_MODELS + i) * POOL_STRIDE for i in range(N_MODELS)]


def outputs(setting: Setting, model: nn.Module) -> tuple[np.ndarray, float, float]:
    """Logit-scaled confidence of each forget example, retain accuracy, test accuracy."""
    ad = setting.adapter
    f = ad.all_logits(model, setting.forget)
    acc = [float((ad.all_logits(model, ex).argmax(1) == ex.tensors["y"]).double().mean())
           for ex in (setting.retain, setting.extra["test"])]
    return (E.logit_scaled_confidence(f.double().numpy(), setting.forget.tensors["y"].numpy()),
            *acc)


def epsilon_stage(inp: AttackInput, retrain: Callable[[int], nn.Module]) -> StageResult:
    """``epsilon_score`` of the cell: its model and N-1 reruns (other unlearning seeds, same
    coreset) against the N retrains of family 0; the retrain row compares family 1 with it;
    the original row, N copies of the base model. ``retrain(seed)``: the cached retrain."""
    s = inp.setting
    retrained = [retrain(k) for k in pool_seeds(s.seed, 0)]
    if inp.row == "retrain":
        unlearned: Sequence[nn.Module] = [retrain(k) for k in pool_seeds(s.seed, 1)]
    elif inp.row == "original" or inp.rerun is None:
        unlearned = [inp.model] * N_MODELS
    else:
        unlearned = [inp.model, *(inp.rerun(i) for i in range(1, N_MODELS))]
    u = [outputs(s, m) for m in unlearned]
    r = [outputs(s, m) for m in retrained]
    forget, eps = E.forget_score(np.stack([o[0] for o in u]), np.stack([o[0] for o in r]))
    ra = (float(np.mean([o[1] for o in u])), float(np.mean([o[1] for o in r])))
    ta = (float(np.mean([o[2] for o in u])), float(np.mean([o[2] for o in r])))
    return StageResult({"epsilon_score": E.challenge_score(forget, ra, ta)}, {
        "settings": {"models_per_side": N_MODELS, "delta": E.DELTA, "epsilon_cap": E.EPSILON_CAP,
                     "thresholds_per_unit": E.THRESHOLDS_PER_UNIT,
                     "reference": "google-deepmind/unlearning_evaluation metric.py, main.py"},
        "forget_score": forget, "retain_acc": list(ra), "test_acc": list(ta),
        "epsilons": [round(float(e), 4) for e in eps]})
