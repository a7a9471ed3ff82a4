"""Published evaluation logs -> run records (``erasus-bench import``).

TOFU logs in two formats: the legacy TOFU aggregated log (``tofu_legacy``) and
open-unlearning's ``TOFU_EVAL.json`` (``open_unlearning``); and lm-evaluation-harness results
files (``lm_eval_results``) of WMDP/MMLU runs, as `wmdp-bio` / `wmdp-cyber` records. Every TOFU
metric is recomputed (legacy) or taken by name (open-unlearning) with the definitions in
:mod:`erasus_bench.metrics.tofu`; forget quality is recomputed from per-item forget truth ratios
against a gold (retain-model) log when one is given.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from erasus_bench.errors import UserError, unknown_choice
from erasus_bench.harness.spec import ROW_LABEL
from erasus_bench.importers import lm_eval_results, open_unlearning, tofu_legacy
from erasus_bench.metrics import tofu as M

READERS = {tofu_legacy.FORMAT: tofu_legacy, open_unlearning.FORMAT: open_unlearning}
FORMATS = ("auto", *READERS)
SPLITS = ("forget01", "forget05", "forget10")
GOLD_OF = {"forget01": "retain99", "forget05": "retain95", "forget10": "retain90"}
DATA = "locuslab/TOFU"
PROTOCOL = "tofu"
# every metric an imported TOFU record carries (null where the log has no value for it)
METRIC_NAMES = (
    "model_utility", "forget_quality", "forget_truth_ratio", "forget_Q_A_Prob",
    "forget_Q_A_ROUGE", *M.MODEL_UTILITY_KEYS, "extraction_strength", "exact_memorization",
    "mia_loss", "mia_zlib", "mia_min_k", "mia_min_k_plus_plus", "privleak",
)
# labels of published reference models -> our reference rows
ORIGINAL_ALIASES = ("finetuned", "full", "original")
RETRAIN_ALIASES = ("retain", "retrain", *GOLD_OF.values())
ROUGE_TOLERANCE = 1e-6
BENCHMARK = {
    tofu_legacy.FORMAT: "TOFU (Maini et al. 2024), legacy locuslab/tofu evaluation log (first "
                        "300 rows per split); metrics recomputed from its per-item losses with "
                        "open-unlearning definitions",
    open_unlearning.FORMAT: "TOFU (Maini et al. 2024), open-unlearning TOFU_EVAL.json; metric "
                            "values as logged, forget quality recomputed against the gold log",
}


def read_json(path: str | Path, what: str = "log file") -> Any:
    """The parsed JSON at ``path``; a missing, unreadable or non-JSON file is a UserError."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{what} {str(path)!r} does not exist or is not a file")
    try:
        with open(p, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UserError(f"{what} {str(path)!r} is not readable JSON ({e})") from None


def file_sha256(path: str | Path) -> str:
    """The hex SHA-256 of a file's bytes (records name the files they were imported from)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def detect_format(data: Any, where: str) -> str:
    """``tofu-legacy`` or ``open-unlearning`` from the log's keys; anything else is a UserError."""
    if tofu_legacy.looks_like(data):
        return tofu_legacy.FORMAT
    if open_unlearning.looks_like(data):
        return open_unlearning.FORMAT
    keys = ", ".join(map(str, list(data)[:8])) if isinstance(data, dict) else type(data).__name__
    raise UserError(
        f"{where} is not a TOFU evaluation log (found: {keys}). Valid formats: tofu-legacy "
        f"(keys {', '.join(k for k, _ in tofu_legacy.SPLITS.values())}), open-unlearning "
        f"(TOFU_EVAL.json: {{metric: {{agg_value, value_by_index}}}}), lm-eval (results JSON "
        f"of wmdp/mmlu tasks: results, configs)")


def read_log(path: str | Path, fmt: str = "auto", what: str = "log file") -> dict[str, Any]:
    """Parse one log: its format, metrics, per-item forget truth ratios, ROUGE-L lists and the
    ROUGE-L recomputation from its generations, plus the file's sha256."""
    if fmt not in FORMATS:
        raise unknown_choice("format", fmt, FORMATS)
    data = read_json(path, what)
    where = f"{what} {str(path)!r}"
    detected = detect_format(data, where)
    if fmt != "auto" and fmt != detected:
        raise UserError(f"{where} is in the {detected} format, not {fmt} (use --format "
                        f"{detected} or auto)")
    out = READERS[detected].read(data, where)
    out["path"] = str(path)
    out["sha256"] = file_sha256(path)
    return out


def strategy_label(label: str | None, path: str | Path, split: str) -> str:
    """The record's strategy: ``--strategy`` as given (reference-model labels mapped to our
    reference rows: retain/retain90 -> retrain, finetuned/full -> original) or, without one,
    the log's file name (its folder's for open-unlearning's fixed TOFU_EVAL.json)."""
    if label is None:
        p = Path(path)
        stem = p.stem
        if stem.upper() in ("TOFU_EVAL", "EVAL") or stem.startswith("eval_log"):
            stem = p.resolve().parent.name
        first = re.split(r"[_.\- ]", stem, maxsplit=1)[0]
        if first.lower() in ORIGINAL_ALIASES or first.lower() in RETRAIN_ALIASES:
            label = first
        else:
            label = re.sub(r"_eval(_logs?|_log_aggregated)?$", "", stem, flags=re.IGNORECASE)
            label = re.sub(r"[^A-Za-z0-9_.+-]+", "_", label).strip("_.+-") or "imported"
    if not ROW_LABEL.match(label):
        raise UserError(f"--strategy {label!r} is invalid: use letters, digits and _ . + - "
                        f"(it becomes part of a file name)")
    low = label.lower()
    if low in ORIGINAL_ALIASES:
        return "original"
    if low in RETRAIN_ALIASES:
        if low in GOLD_OF.values() and low != GOLD_OF[split]:
            raise UserError(f"--strategy {label!r} is the gold model of "
                            f"{next(s for s, g in GOLD_OF.items() if g == low)}, not of "
                            f"--split {split} (its gold model is {GOLD_OF[split]})")
        return "retrain"
    return label


def build_record(log: dict[str, Any], *, strategy: str, model: str, split: str,
                 gold: dict[str, Any] | None = None, command: str | None = None
                 ) -> tuple[dict[str, Any], list[str]]:
    """The run record (``erasus-bench/record/1``) of an imported log, and notes for the user."""
    from erasus_bench.harness.spec import CellSpec
    from erasus_bench.harness.store import created_now, new_record

    notes: list[str] = []
    metrics: dict[str, float | None] = {k: log["metrics"].get(k) for k in METRIC_NAMES}
    metrics["forget_quality"] = None
    if gold is None:
        notes.append("forget_quality is null: no --gold log given")
    elif not log["forget_truth_ratios"]:
        notes.append("forget_quality is null: the log has no per-item forget truth ratios")
    else:
        metrics["forget_quality"] = M.forget_quality(log["forget_truth_ratios"],
                                                     gold["forget_truth_ratios"])
    logged_privleak = log["logged"].get("privleak")
    auc, gold_auc = log["metrics"].get("mia_min_k"), (gold or {}).get("metrics", {}).get(
        "mia_min_k")
    if auc is not None and gold_auc is not None:
        metrics["privleak"] = M.privleak(auc, gold_auc)
    elif logged_privleak is not None:
        metrics["privleak"] = logged_privleak
        notes.append("privleak is the logged value (computed by open-unlearning against its own "
                     "retain logs, or ref AUC 0.5 without them)")
    metrics = {k: (None if v is None else float(v)) for k, v in metrics.items()}
    spec = CellSpec(protocol=PROTOCOL, protocol_config={"split": split, "dataset": DATA,
                                                        "model": model},
                    strategy=strategy, selector=None, fraction=None, seed=0, hparams={})
    sha = {log["path"]: log["sha256"], **({gold["path"]: gold["sha256"]} if gold else {})}
    source: dict[str, Any] = {
        "format": log["format"], "files": list(sha), "sha256": sha,
        "gold": ({"file": gold["path"], "format": gold["format"]} if gold else None),
        "items": log["counts"],
        "rouge_check": rouge_summary(log["rouge"]),
    }
    if log["logged"]:
        source["logged"] = log["logged"]
    bad = source["rouge_check"]["max_abs_diff"]
    if bad is not None and bad > ROUGE_TOLERANCE:
        notes.append(f"ROUGE-L recall recomputed from the logged generations differs from the "
                     f"logged value by up to {bad:.3g}")
    n_forget = log["counts"].get("forget")
    record = new_record(spec, {
        "data": f"{DATA} ({split} with retain, real authors, world facts)",
        "data_is_default": False,
        "model": model,
        "benchmark": BENCHMARK[log["format"]],
        "forget": split + (f" ({n_forget} items in the log)" if n_forget else ""),
    }, command)
    record.update(metrics=metrics, per_example=log["per_example"], source=source,
                  created=created_now())
    return record, notes


def rouge_summary(rouge: dict[str, dict[str, list[Any]]]) -> dict[str, Any]:
    """Items whose ROUGE-L recall was recomputed from logged generations, and the largest
    absolute difference to the logged value (None when the log has no generations)."""
    diffs = [abs(a - b) for r in rouge.values() for a, b in zip(r["logged"], r["recomputed"])]
    return {"items": len(diffs), "max_abs_diff": max(diffs) if diffs else None}


def record_file(results_dir: str | Path, record: dict[str, Any]) -> Path:
    """Where the store keeps ``record`` (``results/<protocol>/<variant>/<strategy>__s0__<hash>
    .json`` for an imported row)."""
    from erasus_bench.harness.spec import CellSpec
    from erasus_bench.harness.store import record_path

    c = record["config"]
    return record_path(Path(results_dir), CellSpec(
        protocol=record["protocol"], protocol_config=c["protocol_config"],
        strategy=c["strategy"], selector=c["selector"], fraction=c["fraction"], seed=c["seed"],
        hparams=c["hparams"]))


def import_log(path: str | Path, *, model: str, fmt: str = "auto", strategy: str | None = None,
               gold: str | Path | None = None, split: str = "forget10",
               results_dir: str | Path = "results", command: str | None = None
               ) -> tuple[Path, dict[str, Any], list[str]]:
    """Import one evaluation log: validate, compute, write its record atomically; return the
    record's path, the record and notes for the user."""
    from erasus_bench.harness.store import write_atomic

    if split not in SPLITS:
        raise unknown_choice("split", split, SPLITS)
    if fmt not in FORMATS:
        raise unknown_choice("format", fmt, FORMATS)
    if not model or not ROW_LABEL.match(model.replace("/", "-")):
        raise UserError(f"--model {model!r} is invalid: give the model's name, e.g. "
                        f"Llama-2-7b-chat-hf")
    label = strategy_label(strategy, path, split)
    log = read_log(path, fmt)
    gold_log = None
    if gold is not None:
        gold_log = read_log(gold, "auto", what="gold log")
        if not gold_log["forget_truth_ratios"]:
            raise UserError(f"gold log {str(gold)!r} has no per-item forget truth ratios "
                            f"(open-unlearning: forget_truth_ratio.value_by_index); it cannot "
                            f"serve as the forget-quality reference")
    record, notes = build_record(log, strategy=label, model=model, split=split,
                                 gold=gold_log, command=command)
    out = record_file(results_dir, record)
    write_atomic(out, record)
    return out, record, notes


def import_lm_eval(path: str | Path, *, model: str, strategy: str | None = None,
                   results_dir: str | Path = "results", command: str | None = None
                   ) -> list[tuple[Path, dict[str, Any]]]:
    """Import an lm-eval results JSON: one record per WMDP task in it (protocol `wmdp-bio` /
    `wmdp-cyber`, dataset ``cais/wmdp``, model ``model``, the prompt format it used). A base
    model's file (``--strategy`` original/base/finetuned) also gives the reference row of a
    pretrained model: chance (0.25) on WMDP with the base model's MMLU. Returns (path, record)
    of each record written."""
    from erasus_bench.harness.spec import CellSpec
    from erasus_bench.harness.store import created_now, new_record, write_atomic
    from erasus_bench.protocols.wmdp import CHANCE
    from erasus_bench.protocols.wmdp.data import HUB_NAME as WMDP_HUB
    from erasus_bench.registry import PROTOCOLS

    if not model or not ROW_LABEL.match(model.replace("/", "-")):
        raise UserError(f"--model {model!r} is invalid: give the model's name, e.g. "
                        f"HuggingFaceH4/zephyr-7b-beta")
    data = read_json(path)
    where = f"log file {str(path)!r}"
    if not lm_eval_results.looks_like(data):
        raise UserError(f"{where} is not an lm-eval results file (keys results and configs)")
    label = strategy or re.sub(r"[^A-Za-z0-9_.+-]+", "_", Path(path).stem).strip("_.+-")
    if not ROW_LABEL.match(label or ""):
        raise UserError(f"--strategy {label!r} is invalid: use letters, digits and _ . + -")
    low = label.lower()
    if low in RETRAIN_ALIASES:
        raise UserError(f"--strategy {label!r}: a pretrained model has no retrained gold on WMDP;"
                        " its reference row (chance, the base model's MMLU) comes with the base "
                        "model's file (--strategy original)")
    label = "original" if low in (*ORIGINAL_ALIASES, "base") else label
    sha = file_sha256(path)
    written = []
    for entry in lm_eval_results.read(data, where):
        proto = PROTOCOLS.get(entry["protocol"])()
        config = proto.resolve_config({"dataset": WMDP_HUB, "model": model,
                                       "format": entry["format"]})
        rows = [(label, entry["metrics"])]
        if label == "original":
            rows.append(("retrain", {**entry["metrics"], "wmdp_acc": CHANCE}))
        for row, metrics in rows:
            spec = CellSpec(entry["protocol"], config, row, None, None, 0)
            record = new_record(spec, {
                **proto.provenance(config),
                "benchmark": f"WMDP-{entry['protocol'][5:]} and MMLU as logged by "
                             f"lm-evaluation-harness ({entry['format']} format)"}, command)
            record.update(
                metrics={**metrics, "unlearn_time": None, "speedup": None},
                source={"format": lm_eval_results.FORMAT, "files": [str(path)],
                        "sha256": {str(path): sha}, **entry["details"],
                        **({"derived": "chance reference of the imported base model"}
                           if row == "retrain" else {})},
                created=created_now())
            out = record_file(results_dir, record)
            write_atomic(out, record)
            written.append((out, record))
    return written


def import_muse(path: str | Path, *, model: str, corpus: str = "news",
                strategy: str | None = None, gold: str | Path | None = None,
                results_dir: str | Path = "results", command: str | None = None
                ) -> list[tuple[Path, dict[str, Any]]]:
    """Import MUSE results as `muse` records: an ``eval.py`` CSV (one record per row, its
    ``name`` the row label: target -> original, retrain -> retrain) or an open-unlearning
    ``MUSE_EVAL.json`` (one record, label ``--strategy`` or the folder name; ROUGE on MUSE's x100
    scale, the variant ``stemmer=true`` since open-unlearning stems; PrivLeak recomputed from
    its per-item Min-K scores against ``gold``'s AUC, or MUSE's published retrained-model AUC).
    Returns (path, record) of each record written."""
    from erasus_bench.harness.spec import CellSpec
    from erasus_bench.harness.store import created_now, new_record, write_atomic
    from erasus_bench.importers import muse_logs as ML
    from erasus_bench.metrics.muse import AUC_RETRAIN
    from erasus_bench.protocols.muse.data import HUB
    from erasus_bench.protocols.muse.protocol import MuseProtocol

    if not model or not ROW_LABEL.match(model.replace("/", "-")):
        raise UserError(f"--model {model!r} is invalid: give the model's name, e.g. "
                        f"muse-bench/MUSE-News_target")
    if corpus not in HUB:
        raise unknown_choice("corpus", corpus, tuple(HUB))
    where = f"log file {str(path)!r}"
    rows = ML.csv_rows(path)
    proto = MuseProtocol()
    if rows is not None:
        entries = [(ML.row_label(name), m, {}, {}) for name, m in ML.from_csv(rows, where)]
        fmt, stemmer = ML.CSV_FORMAT, False
        if strategy is not None:
            raise UserError("--strategy does not apply to a MUSE CSV: its name column labels "
                            "the rows")
    else:
        data = read_json(path)
        if not ML.looks_like_ou(data):
            raise UserError(f"{where} is neither a MUSE eval.py CSV (columns name, verbmem_f, "
                            f"privleak, knowmem_f, knowmem_r) nor an open-unlearning "
                            f"MUSE_EVAL.json (keys {', '.join(ML.OU_ROUGE.values())})")
        reference = (ML.ou_auc(gold, read_json(gold, "gold log")) if gold is not None
                     else AUC_RETRAIN[corpus])
        metrics, per, logged = ML.from_ou(data, where, reference)
        label = strategy or Path(path).resolve().parent.name
        label = ML.row_label(re.sub(r"[^A-Za-z0-9_.+-]+", "_", label).strip("_.+-") or "imported")
        entries = [(label, metrics, per, {"logged": logged,
                                          "privleak_reference": "gold log" if gold is not None
                                          else "MUSE's published retrained-model AUC"})]
        fmt, stemmer = ML.OU_FORMAT, True
    config = proto.resolve_config({"dataset": HUB[corpus], "corpus": corpus, "model": model,
                                   "stemmer": stemmer})
    files = [str(path), *([str(gold)] if gold is not None else [])]
    written = []
    for label, metrics, per, extra in entries:
        if not ROW_LABEL.match(label):
            raise UserError(f"row label {label!r} is invalid: use letters, digits and _ . + -")
        spec = CellSpec("muse", config, label, None, None, 0)
        record = new_record(spec, {**proto.provenance(config),
                                   "benchmark": f"MUSE as logged ({fmt}); " + (
                                       "ROUGE x100 without stemmer, PrivLeak against MUSE's "
                                       "published retrained-model AUC" if fmt == ML.CSV_FORMAT
                                       else "open-unlearning ROUGE (stemmer on) x100, PrivLeak "
                                            "recomputed with MUSE's formula")}, command)
        record.update(metrics={**metrics, "unlearn_time": None, "speedup": None},
                      per_example=per,
                      source={"format": fmt, "files": files,
                              "sha256": {f: file_sha256(f) for f in files}, **extra},
                      created=created_now())
        out = record_file(results_dir, record)
        write_atomic(out, record)
        written.append((out, record))
    return written

