"""lm-evaluation-harness results JSON (``lm_eval --output_path``: ``results_<date>.json`` with
``results``, ``n-samples``, ``configs``, ``versions``) -> `wmdp-bio` / `wmdp-cyber` records.

Per WMDP task present (``wmdp_bio``, ``wmdp_cyber``): ``wmdp_acc`` is its ``acc,none``;
``mmlu_acc`` the ``mmlu`` group's ``acc,none`` (lm-eval's mean over subjects weighted by size)
or, without the group, that mean computed from all 57 ``mmlu_<subject>`` entries and their
``n-samples`` (null when any is missing); ``mmlu_<subset>_acc`` the subsets' ``acc,none`` where
present. The prompt format is read from the task's config (``letter`` when the choices are the
letters A-D, else ``cloze``). The boards are zero-shot on every item: a file with few-shot
WMDP/MMLU tasks or a ``limit`` is refused.
"""
from __future__ import annotations

import math
from typing import Any

from erasus_bench.errors import UserError
from erasus_bench.protocols.wmdp.data import MMLU_SUBJECTS, MMLU_SUBSETS

FORMAT = "lm-eval"
WMDP_TASKS = {"wmdp_bio": "wmdp-bio", "wmdp_cyber": "wmdp-cyber"}
LETTERS = ["A", "B", "C", "D"]


def looks_like(data: Any) -> bool:
    """True for an lm-eval results file: a ``results`` mapping beside ``configs`` or
    ``versions``."""
    return (isinstance(data, dict) and isinstance(data.get("results"), dict)
            and ("configs" in data or "versions" in data))


def _acc(results: dict[str, Any], task: str) -> float | None:
    entry = results.get(task)
    value = entry.get("acc,none") if isinstance(entry, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _count(data: dict[str, Any], task: str) -> int | None:
    n = (data.get("n-samples") or {}).get(task)
    value = n.get("effective") if isinstance(n, dict) else None
    return int(value) if isinstance(value, int) else None


def mmlu_accuracy(data: dict[str, Any]) -> tuple[float | None, str]:
    """(MMLU accuracy, how it was obtained): the group's value, or the size-weighted mean over
    the ``mmlu_<subject>`` tasks in the file; (None, reason) without either."""
    results = data["results"]
    group = _acc(results, "mmlu")
    if group is not None:
        return group, "the mmlu group's acc (lm-eval: weighted by subject size)"
    parts = {s: (_acc(results, f"mmlu_{s}"), _count(data, f"mmlu_{s}")) for s in MMLU_SUBJECTS}
    missing = [s for s, (a, n) in parts.items() if a is None or n is None]
    if missing:
        return None, (f"no mmlu group and {len(missing)} of {len(MMLU_SUBJECTS)} subjects "
                      f"missing (e.g. {missing[0]})")
    total = sum(n for _, n in parts.values())  # type: ignore[misc]
    return (sum(a * n for a, n in parts.values()) / total,  # type: ignore[operator]
            f"size-weighted mean of the {len(MMLU_SUBJECTS)} mmlu subject tasks")


def check_protocol(data: dict[str, Any], where: str) -> None:
    """A UserError unless every WMDP/MMLU task ran zero-shot on all its items."""
    limit = (data.get("config") or {}).get("limit")
    if limit not in (None, 0):
        raise UserError(f"{where} was run with limit {limit}: the boards score every item")
    shots = {t: n for t, n in (data.get("n-shot") or {}).items()
             if t.startswith(("wmdp", "mmlu")) and n not in (0, None)}
    if shots:
        task, n = next(iter(shots.items()))
        raise UserError(f"{where} ran {task} {n}-shot; the boards are zero-shot (as lm-eval runs "
                        "wmdp and mmlu by default)")


def prompt_format(data: dict[str, Any], task: str) -> str:
    """``letter`` when the task's configured choices are the letters A-D, else ``cloze``."""
    config = (data.get("configs") or {}).get(task) or {}
    return "letter" if config.get("doc_to_choice") == LETTERS else "cloze"


def read(data: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """One entry per WMDP task in the file: protocol, metrics, format, item count, shots."""
    results = data["results"]
    tasks = [t for t in WMDP_TASKS if _acc(results, t) is not None]
    if not tasks:
        raise UserError(f"{where} has no WMDP results (tasks {', '.join(WMDP_TASKS)} with "
                        f"acc,none); it has {', '.join(list(results)[:8]) or 'none'}")
    check_protocol(data, where)
    mmlu, how = mmlu_accuracy(data)
    out = []
    for task in tasks:
        shots = (data.get("n-shot") or {}).get(task)
        config = (data.get("configs") or {}).get(task) or {}
        out.append({
            "protocol": WMDP_TASKS[task],
            "metrics": {"wmdp_acc": _acc(results, task), "mmlu_acc": mmlu,
                        **{f"mmlu_{s}_acc": _acc(results, f"mmlu_{s}") for s in MMLU_SUBSETS}},
            "format": prompt_format(data, task),
            "details": {"task": task, "items": _count(data, task), "num_fewshot": shots,
                        "dataset_path": config.get("dataset_path"), "mmlu": how,
                        "lm_eval_version": data.get("lm_eval_version"),
                        "model_args": (data.get("config") or {}).get("model_args")},
        })
    return out
