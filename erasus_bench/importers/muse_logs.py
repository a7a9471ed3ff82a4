"""Published MUSE results -> `muse` records: the original ``eval.py`` output (``swj0419/
muse_bench``: a CSV with one row per model, columns ``name`` and any of ``verbmem_f``,
``privleak``, ``knowmem_f``, ``knowmem_r``, on MUSE's x100 scale, PrivLeak against MUSE's
published retrained-model AUC) and open-unlearning's ``MUSE_EVAL.json`` (per-item values:
``forget_verbmem_ROUGE``, ``forget_knowmem_ROUGE``, ``retain_knowmem_ROUGE`` with
``value_by_index[i].rougeL_f1`` on a 0-1 scale with the Porter stemmer, and ``mia_min_k`` with
the Min-40% scores of the forget and holdout documents)."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from erasus_bench.errors import UserError
from erasus_bench.metrics import muse as M

CSV_FORMAT = "muse-csv"
OU_FORMAT = "open-unlearning-muse"
CSV_METRICS = ("verbmem_f", "knowmem_f", "knowmem_r", "privleak")
OU_ROUGE = {"verbmem_f": "forget_verbmem_ROUGE", "knowmem_f": "forget_knowmem_ROUGE",
            "knowmem_r": "retain_knowmem_ROUGE"}
PER_ITEM = {"verbmem_f": "verbmem", "knowmem_f": "knowmem_f", "knowmem_r": "knowmem_r"}
ORIGINAL = ("target", "original", "finetuned", "full")
RETRAIN = ("retrain", "retain", "gold")


def csv_rows(path: str | Path) -> list[dict[str, str]] | None:
    """The rows of a MUSE ``eval.py`` CSV, or None when the file is not one."""
    p = Path(path)
    if p.suffix.lower() != ".csv":
        return None
    try:
        with open(p, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    cols = set(rows[0]) if rows else set()
    return rows if "name" in cols and cols & set(CSV_METRICS) else None


def looks_like_ou(data: Any) -> bool:
    """True for open-unlearning's MUSE_EVAL.json (a MUSE ROUGE entry at the top level)."""
    return isinstance(data, dict) and any(k in data for k in OU_ROUGE.values())


def row_label(name: str) -> str:
    """Reference-model names -> our reference rows (target -> original, retrain -> retrain)."""
    low = name.lower()
    return "original" if low in ORIGINAL else "retrain" if low in RETRAIN else name


def from_csv(rows: list[dict[str, str]], where: str) -> list[tuple[str, dict[str, float | None]]]:
    """(row label, metrics) per CSV row; a cell that is not a number is a UserError."""
    out = []
    for i, row in enumerate(rows, 2):
        metrics: dict[str, float | None] = {}
        for k in CSV_METRICS:
            text = (row.get(k) or "").strip()
            try:
                metrics[k] = float(text) if text else None
            except ValueError:
                raise UserError(f"{where} line {i}: {k} {text!r} is not a number") from None
        out.append((row["name"], metrics))
    return out


def _items(entry: Any, key: str, where: str) -> list[float]:
    """The per-item ``key`` values of an open-unlearning metric entry, in index order."""
    by_index = (entry or {}).get("value_by_index")
    if not isinstance(by_index, dict):
        raise UserError(f"{where}: no value_by_index for a MUSE metric (an open-unlearning "
                        "MUSE_EVAL.json keeps per-item values)")
    try:
        return [float(by_index[i][key]) for i in sorted(by_index, key=int)]
    except (KeyError, TypeError, ValueError):
        raise UserError(f"{where}: value_by_index items lack a numeric {key!r}") from None


def from_ou(data: dict[str, Any], where: str, auc_retrain: float
            ) -> tuple[dict[str, float | None], dict[str, list], dict[str, Any]]:
    """Metrics (x100, MUSE's PrivLeak recomputed from the per-item Min-K scores against
    ``auc_retrain``), per-item values and generations, and what was logged."""
    metrics: dict[str, float | None] = {}
    per: dict[str, list] = {}
    for name, key in OU_ROUGE.items():
        if key not in data:
            metrics[name] = None
            continue
        values = _items(data[key], "rougeL_f1", f"{where} {key}")
        per[f"{PER_ITEM[name]}_rougeL"] = values
        per[f"{PER_ITEM[name]}_generation"] = [
            str(v.get("generation", "")) for _, v in sorted(data[key]["value_by_index"].items(),
                                                           key=lambda kv: int(kv[0]))]
        metrics[name] = 100.0 * sum(values) / len(values) if values else None
    mia = data.get("mia_min_k")
    metrics["privleak"] = None
    if isinstance(mia, dict) and "forget" in mia and "holdout" in mia:
        forget = _items(mia["forget"], "score", f"{where} mia_min_k.forget")
        holdout = _items(mia["holdout"], "score", f"{where} mia_min_k.holdout")
        per.update(privleak_forget_min_k=forget, privleak_holdout_min_k=holdout,
                   privleak_auc_retrain=[auc_retrain])
        metrics["privleak"] = M.privleak(M.forget_holdout_auc(forget, holdout), auc_retrain)
    logged = {k: data[k].get("agg_value") for k in (*OU_ROUGE.values(), "privleak")
              if isinstance(data.get(k), dict)}
    return metrics, per, logged


def ou_auc(path: str | Path, data: dict[str, Any]) -> float:
    """MUSE's forget-vs-holdout AUC of a (retrained model's) MUSE_EVAL.json."""
    mia = data.get("mia_min_k") if isinstance(data, dict) else None
    if not isinstance(mia, dict):
        raise UserError(f"gold log {str(path)!r} has no mia_min_k per-item scores")
    where = f"gold log {str(path)!r}"
    return M.forget_holdout_auc(_items(mia.get("forget"), "score", where),
                                _items(mia.get("holdout"), "score", where))

