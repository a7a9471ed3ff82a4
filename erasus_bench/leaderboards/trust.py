"""The "which metrics to trust" table of a variant from its metric-trust records
(``harness.trust``, ``metrics.trust``): per metric, faithfulness over the pool models and
robustness to relearning and quantization over the full-forget-set models of each seed."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from erasus_bench.harness.precision import read_value
from erasus_bench.metrics import trust as T

SAW, UNSEEN, LIKELIHOOD = "trust_saw", "trust_unseen", "forget_likelihood"
TRUST_TEXT = ("Open-unlearning's meta-evaluation (arXiv 2506.12618, eqs. 1-4), each metric oriented "
              "so that higher means more knowledge of the forget set. Faithfulness: AUC of the "
              "metric separating pool models trained with the forget set from models trained "
              "without it (the base recipe at several learning rates and epoch counts; 0.5 is "
              "chance). Relearning R = min((retrain before - after) / (unlearned before - "
              "after), 1) after fine-tuning on the whole forget set; quantization Q = min(after "
              "/ before, 1) at 4 bits; each the mean over every strategy's full-forget-set "
              "model and seed, robustness their harmonic mean. Deviation: no filtering of "
              "under-unlearned or low-utility models (the reference filters them).")


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
    return {"rows": rows, "text": TRUST_TEXT}


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None
