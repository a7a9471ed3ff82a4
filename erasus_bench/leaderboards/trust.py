"""The "which metrics to trust" table of a variant from its metric-trust records
(``harness.trust``, ``metrics.trust``): per metric, faithfulness over the pool models and
robustness to relearning and quantization over the full-forget-set models of each seed."""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from erasus_bench.harness.precision import read_value
from erasus_bench.metrics import trust as T

SAW, UNSEEN, LIKELIHOOD = "trust_saw", "trust_unseen", "forget_likelihood"
# what each pool variant of the LM protocols means (lm.trust); classifiers name lr and epochs
POOL_TEXT = {"base": "the base/gold recipe", "double_lr": "twice its learning rate",
             "shorter": "half its epochs, stopping at 10x its target NLL where it has one"}
TRUST_TEXT = ("Open-unlearning's meta-evaluation (arXiv 2506.12618, eqs. 1-4), each metric "
              "oriented so that higher means more knowledge of the forget set. Faithfulness: AUC "
              "of the metric separating pool models trained with the forget set from models "
              "trained without it (0.5 is chance; the pool recipes are listed below the table). "
              "Relearning R = min((retrain before - after) / (unlearned before - after), 1) "
              "after fine-tuning on the whole forget set; quantization Q = min(after / before, "
              "1) at 4 bits; each the mean over every strategy's full-forget-set model and seed, "
              "robustness their harmonic mean. Deviation: no filtering of under-unlearned or "
              "low-utility models (the reference filters them).")


def trust_table(recs: Sequence[dict[str, Any]], display: Callable[[str], str]
                ) -> dict[str, Any] | None:
    """``{"rows": [{"metric", "display", "faithfulness", "relearn", "quantize",
    "robustness", "n_saw", "n_unseen", "n_models"}], "text"}`` from a variant's ok trust
    records; None without any."""
    ok = [r for r in recs if r.get("status") == "ok" and r.get("trust")]
    if not ok:
        return None
    signs: dict[str, int] = {}
    for r in ok:
        signs.update(r["trust"].get("knowledge") or {})
    pool: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in ok:
        if r["trust"].get("role") == "pool":
            pool[r["config"]["strategy"]].append(r)
    retrain = {r["config"]["seed"]: r for r in ok
               if r["trust"].get("role") == "robustness" and r["config"]["strategy"] == "retrain"}
    methods = [r for r in ok if r["trust"].get("role") == "robustness"
               and r["config"]["strategy"] != "retrain"]
    rows = []
    for name, sign in signs.items():
        def k(metrics: dict[str, Any]) -> float | None:
            v = metrics.get(name)
            return None if v is None else T.knowledge(read_value(v), sign)

        saw = [v for r in pool[SAW] if (v := k(r["metrics"])) is not None]
        unseen = [v for r in pool[UNSEEN] if (v := k(r["metrics"])) is not None]
        rs, qs = [], []
        for r in methods:
            gold = retrain.get(r["config"]["seed"])
            before, relearned = k(r["metrics"]), k(r["trust"]["relearn"])
            if gold is not None and None not in (before, relearned):
                g0, g1 = k(gold["metrics"]), k(gold["trust"]["relearn"])
                if None not in (g0, g1):
                    rs.append(T.relearn_robustness((before, relearned), (g0, g1)))
            quant = k(r["trust"]["quantize"])
            if None not in (before, quant):
                qs.append(T.quant_robustness(before, quant))
        r_mean = _mean([x for x in rs if x is not None])
        q_mean = _mean(qs)
        rows.append({"metric": name, "display": display(name),
                     "faithfulness": T.faithfulness(saw, unseen) if saw and unseen else None,
                     "relearn": r_mean, "quantize": q_mean,
                     "robustness": T.harmonic_mean(r_mean, q_mean),
                     "n_saw": len(saw), "n_unseen": len(unseen), "n_models": len(methods)})
    return {"rows": rows, "text": TRUST_TEXT, "pool": pool_recipes(pool[SAW] + pool[UNSEEN])}


def pool_recipes(recs: Sequence[dict[str, Any]]) -> str:
    """The pool's training variants, e.g. "lr=0.001, epochs=30; ..."."""
    order = list(POOL_TEXT)
    variants = {json.dumps(r["config"].get("hparams") or {}, sort_keys=True) for r in recs}
    out = []
    for hp in sorted(map(json.loads, variants), key=lambda h: (
            order.index(h["recipe"]) if h.get("recipe") in order else -1, sorted(h.items()))):
        out.append(POOL_TEXT.get(hp.get("recipe"), "") or ", ".join(
            f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in hp.items()))
    return "; ".join(out)


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None
