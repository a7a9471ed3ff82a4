"""Data for the `tofu` protocol: the embedded synthetic authors (default, offline) or the real
TOFU (``locuslab/TOFU`` by hub name, or a local folder with one file per config).

TOFU configs and columns used here (each config has one split, ``train``):

=============================  =================================================================
config                         columns
=============================  =================================================================
full, forgetXX, retainYY       question, answer
forgetXX_perturbed,            question, answer, paraphrased_answer, perturbed_answer (list of
retain_perturbed               5 answers with wrong facts); the hub files may also carry
                               paraphrased_question (read by third-party TOFU evaluators; not
                               used here)
real_authors_perturbed,        question, answer, perturbed_answer (list of 3 wrong options); no
world_facts_perturbed          paraphrased_answer, so their "correct" answer is ``answer``
holdout01/05/10                question, answer (other fictitious authors, never in ``full``)
=============================  =================================================================

Sources: ``locuslab/tofu:data/real_authors_perturbed.json`` and ``world_facts_perturbed.json``
(JSON-lines rows ``{"question", "answer", "perturbed_answer": [3 strings]}``);
open-unlearning's dataset configs (``configs/data/datasets/TOFU_QA_*.yaml``, ``TOFU_MIA.yaml``:
keys question/answer/paraphrased_answer/perturbed_answer, ``holdout10`` as the MIA
non-members with question/answer); legacy ``locuslab/tofu:config/eval_everything.yaml``
(``base_answer_key`` answer for real authors / world facts). Sizes of the hub configs: full
4000, forget01/05/10 40/200/400, retain99/95/90 3960/3800/3600, forgetXX_perturbed as forgetXX,
retain_perturbed 400, real_authors(_perturbed) 100, world_facts(_perturbed) 117. Not confirmed:
whether the hub's non-perturbed ``real_authors``/``world_facts`` also have option1..option4
(they are not read here).

``forgetXX`` has the same rows as ``forgetXX_perturbed``, so the forget training rows are
``TofuData.forget`` (its ``question``/``answer``).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from erasus_bench.errors import UserError, unknown_choice
from erasus_bench.protocols.local_rows import find_rows, is_hub_name, read_rows, short

DEFAULT_DATA = "synthetic"
HUB_NAME = "locuslab/TOFU"
SPLITS = ("forget01", "forget05", "forget10")
RETAIN_OF = {"forget01": "retain99", "forget05": "retain95", "forget10": "retain90"}
HOLDOUT_OF = {"forget01": "holdout01", "forget05": "holdout05", "forget10": "holdout10"}

QA = ("question", "answer")
PERTURBED = ("question", "answer", "paraphrased_answer", "perturbed_answer")
OPTIONS = ("question", "answer", "perturbed_answer")


@dataclass
class TofuData:
    """The rows one protocol run needs, each a list of dicts in TOFU's schema."""

    forget: list[dict]  # forgetXX_perturbed (question, answer, paraphrased_answer, 5 perturbed)
    retain: list[dict]  # retainYY (question, answer): training data of the gold model
    retain_eval: list[dict]  # retain_perturbed
    real_authors: list[dict]  # real_authors_perturbed: question, answer, perturbed_answer[3]
    world_facts: list[dict]  # world_facts_perturbed
    holdout: list[dict]  # holdoutXX (question, answer)
    source: str  # "synthetic" or the hub name / folder

    def tables(self) -> dict[str, list[dict]]:
        """The row lists by field name (everything but ``source``)."""
        return {"forget": self.forget, "retain": self.retain, "retain_eval": self.retain_eval,
                "real_authors": self.real_authors, "world_facts": self.world_facts,
                "holdout": self.holdout}

    def fingerprint(self) -> str:
        """sha256 of the canonical JSON of all rows (keys sorted; independent of ``source``)."""
        blob = json.dumps(self.tables(), sort_keys=True, ensure_ascii=False,
                          separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def needed_configs(split: str) -> dict[str, tuple[str, ...]]:
    """TOFU config name -> required columns, for one forget split (field order of TofuData)."""
    return {f"{split}_perturbed": PERTURBED, RETAIN_OF[split]: QA,
            "retain_perturbed": PERTURBED, "real_authors_perturbed": OPTIONS,
            "world_facts_perturbed": OPTIONS, HOLDOUT_OF[split]: QA}


def load_tofu(source: str, split: str) -> TofuData:
    """The rows for forget split ``split`` from ``source``: ``"synthetic"`` (embedded
    generator), a local folder with one file per config, or a ``datasets`` hub name."""
    if split not in SPLITS:
        raise unknown_choice("TOFU forget split", split, SPLITS)
    if not isinstance(source, str) or not source.strip():
        raise UserError(f"empty TOFU data source; give {DEFAULT_DATA!r}, a hub name such as "
                        f"{HUB_NAME!r}, or a local folder")
    needed = needed_configs(split)
    if source == DEFAULT_DATA:
        from erasus_bench.protocols.tofu.synthetic import synthetic_tofu

        configs = synthetic_tofu()
        tables = {c: configs[c] for c in needed}
    else:
        path = Path(source).expanduser()
        if path.exists():
            tables = _load_folder(path, source, needed)
        elif is_hub_name(source):
            tables = _load_hub(source, needed)
        else:
            raise UserError(f"TOFU data folder {source!r} does not exist; give "
                            f"{DEFAULT_DATA!r}, a hub name such as {HUB_NAME!r}, or a folder "
                            f"with {_file_list(needed)}")
    for config, cols in needed.items():
        _check(tables[config], config, cols, source)
    forget, retain, retain_eval, ra, wf, holdout = (tables[c] for c in needed)
    return TofuData(forget, retain, retain_eval, ra, wf, holdout, source)


def _file_list(needed) -> str:
    return ", ".join(f"{c}.json" for c in needed)


def _how_to(needed, name: str = HUB_NAME) -> str:
    configs = ", ".join(repr(c) for c in needed)
    return (f"download it once with network access, e.g. HF_HUB_OFFLINE=0 HF_DATASETS_OFFLINE=0 "
            f"python -c \"import datasets; [datasets.load_dataset('{name}', c) for c in "
            f"({configs})]\" (then rerun offline), or pass a local folder with "
            f"{_file_list(needed)} (JSON-lines as on the hub; .jsonl, .parquet or a "
            f"save_to_disk folder per config also work), or use {DEFAULT_DATA!r}")


# --- local folder ---------------------------------------------------------------------------
def _load_folder(path: Path, source: str, needed) -> dict[str, list[dict]]:
    if not path.is_dir():
        raise UserError(f"TOFU data source {source!r} is a file; give a folder with "
                        f"{_file_list(needed)}")
    found = {c: find_rows(path, c) for c in needed}
    missing = [c for c, p in found.items() if p is None]
    if missing:
        raise UserError(f"TOFU folder {source!r} has no file for config(s) "
                        f"{', '.join(missing)} (looked for <config>.json, .jsonl, .parquet "
                        f"or a <config>/ folder); it needs {_file_list(needed)}")
    return {c: read_rows(p, c) for c, p in found.items()}  # type: ignore[arg-type]


# --- hub ------------------------------------------------------------------------------------
def _load_hub(name: str, needed) -> dict[str, list[dict]]:
    from erasus_bench.lm.load import set_offline_defaults

    set_offline_defaults()  # before datasets is imported: no retries against an absent hub
    import datasets

    tables = {}
    for config in needed:  # fail on the first one that is not available
        try:
            ds = datasets.load_dataset(name, config, split="train")
        except Exception as e:  # offline / unknown repo / unknown config / network
            raise UserError(f"could not load TOFU config {config!r} of {name!r} "
                            f"({type(e).__name__}: {short(e)}). {name!r} is not a local "
                            f"folder and the hub is offline by default (HF_HUB_OFFLINE=1, "
                            f"HF_DATASETS_OFFLINE=1): {_how_to(needed, name)}") from None
        tables[config] = ds.to_list()
    return tables


# --- checks ---------------------------------------------------------------------------------
def _check(rows: list[dict], config: str, cols: tuple[str, ...], source: str) -> None:
    if not rows:
        raise UserError(f"TOFU config {config!r} from {source!r} has no rows")
    present = [c for c in rows[0]]
    missing = [c for c in cols if c not in rows[0]]
    if missing:
        raise UserError(f"TOFU config {config!r} from {source!r} lacks column(s) "
                        f"{', '.join(missing)}; it has {', '.join(present)}; needs "
                        f"{', '.join(cols)}")
    for i, r in enumerate(rows):
        for c in cols:
            v = r.get(c)
            ok = (isinstance(v, list) and len(v) > 0 and all(isinstance(x, str) for x in v)) \
                if c == "perturbed_answer" else isinstance(v, str)
            if not ok:
                want = "a non-empty list of strings" if c == "perturbed_answer" else "a string"
                raise UserError(f"TOFU config {config!r} from {source!r}: row {i + 1} column "
                                f"{c!r} should be {want}, got {type(v).__name__}")
