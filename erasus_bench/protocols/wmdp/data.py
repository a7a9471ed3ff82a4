"""Data for `wmdp-bio` / `wmdp-cyber`: the hazard questions, the MMLU utility questions, and the
unlearning corpora, from the embedded generator (default, offline), the hub, or a local folder.

Hub sources, and the file a local folder holds instead (``<name>.jsonl``; also ``.json``,
``.parquet`` or a ``save_to_disk`` folder ``<name>/``):

* WMDP questions: ``cais/wmdp`` config ``wmdp-bio`` / ``wmdp-cyber``, split test, columns
  ``question``, ``choices`` (4 strings), ``answer`` (index), pinned revision ->
  ``wmdp-bio.jsonl`` / ``wmdp-cyber.jsonl``.
* MMLU: ``cais/mmlu``, one config per subject, split test, same columns ->
  ``mmlu/<subject>.jsonl``.
* forget corpus (column ``text``): ``cais/wmdp-bio-forget-corpus`` (gated: request access with
  the WMDP form and on the hub), ``cais/wmdp-corpora`` config ``cyber-forget-corpus`` ->
  ``bio-forget-corpus.jsonl`` / ``cyber-forget-corpus.jsonl``.
* retain corpus (``text``): wikitext ``wikitext-2-raw-v1`` test, passages over 50 characters
  (the RMU code's default), or ``cais/wmdp-corpora`` ``bio-retain-corpus`` /
  ``cyber-retain-corpus`` -> ``wikitext.jsonl``, ``bio-retain-corpus.jsonl``,
  ``cyber-retain-corpus.jsonl``.

With ``"synthetic"`` the questions and both corpora come from ``synthetic.generate()``: the
forget corpus is the hazard domain's documents and the retain corpus the general-knowledge
documents (``retain_corpus="general"``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from erasus_bench.errors import UserError, unknown_choice
from erasus_bench.protocols.local_rows import (LOCAL_SUFFIXES, find_rows, is_hub_name,
                                               read_rows, short)

DEFAULT_DATA = "synthetic"
HUB_NAME = "cais/wmdp"
WMDP_REVISION = "8b85378e501fe9b3fb2694b04bcd2970bc7c7235"
MMLU_HUB = "cais/mmlu"
CORPORA_HUB = "cais/wmdp-corpora"
BIO_FORGET_HUB = "cais/wmdp-bio-forget-corpus"  # gated
BIO_FORGET_FORM = ("https://docs.google.com/forms/d/e/1FAIpQLSdnQc8Qn0ozSDu3VE8HLoHPvhpukX1t1dIwE5K"
                   "5rJw9lnOjKw/viewform")
WIKITEXT = ("Salesforce/wikitext", "wikitext-2-raw-v1", "test")
MIN_CHARS = 50  # the RMU code keeps wikitext passages longer than this
SYNTHETIC_RETAIN = "general"
RETAIN_CORPORA = ("wikitext", "bio-retain-corpus", "cyber-retain-corpus")
# lm-eval's mmlu group (lm_eval/tasks/mmlu/default, v0.4.13): 57 subjects, cais/mmlu configs
MMLU_SUBJECTS = (
    "abstract_algebra", "anatomy", "astronomy", "business_ethics", "clinical_knowledge",
    "college_biology", "college_chemistry", "college_computer_science", "college_mathematics",
    "college_medicine", "college_physics", "computer_security", "conceptual_physics",
    "econometrics", "electrical_engineering", "elementary_mathematics", "formal_logic",
    "global_facts", "high_school_biology", "high_school_chemistry",
    "high_school_computer_science", "high_school_european_history", "high_school_geography",
    "high_school_government_and_politics", "high_school_macroeconomics",
    "high_school_mathematics", "high_school_microeconomics", "high_school_physics",
    "high_school_psychology", "high_school_statistics", "high_school_us_history",
    "high_school_world_history", "human_aging", "human_sexuality", "international_law",
    "jurisprudence", "logical_fallacies", "machine_learning", "management", "marketing",
    "medical_genetics", "miscellaneous", "moral_disputes", "moral_scenarios", "nutrition",
    "philosophy", "prehistory", "professional_accounting", "professional_law",
    "professional_medicine", "professional_psychology", "public_relations", "security_studies",
    "sociology", "us_foreign_policy", "virology", "world_religions")
# the four subsets the WMDP paper reports beside MMLU
MMLU_SUBSETS = ("college_biology", "virology", "college_computer_science", "computer_security")
QUESTION_COLUMNS = ("question", "choices", "answer")


@dataclass
class Questions:
    """Multiple-choice questions: their rows, or (hub) where lm-eval loads them from."""

    rows: list[dict] | None = None
    hub: dict | None = None  # dataset_path, dataset_name, dataset_kwargs


@dataclass
class WmdpData:
    """What one `wmdp-<domain>` run reads."""

    domain: str
    hazard: Questions
    mmlu: dict[str, Questions]  # subject -> questions
    forget_corpus: list[str]
    retain_corpus: list[str]
    source: str
    retain_name: str


def load_wmdp(source: str, domain: str, retain: str) -> WmdpData:
    """The questions and corpora of ``domain`` ("bio" or "cyber") from ``source``:
    ``"synthetic"``, a local folder (module docstring) or a hub name (``cais/wmdp``); ``retain``
    names the retain corpus (``"general"`` for the synthetic data, else ``RETAIN_CORPORA``)."""
    if not isinstance(source, str) or not source.strip():
        raise UserError(f"empty WMDP data source; give {DEFAULT_DATA!r}, {HUB_NAME!r} or a "
                        f"local folder")
    if source == DEFAULT_DATA:
        return _synthetic(domain, retain)
    if retain not in RETAIN_CORPORA:
        raise unknown_choice("retain_corpus", retain, RETAIN_CORPORA)
    path = Path(source).expanduser()
    if path.exists():
        return _folder(path, source, domain, retain)
    if is_hub_name(source):
        if source != HUB_NAME:
            raise UserError(f"WMDP data {source!r} is neither an existing folder nor the hub "
                            f"source {HUB_NAME!r} (read with {MMLU_HUB!r} and "
                            f"{CORPORA_HUB!r}); valid: {DEFAULT_DATA!r}, {HUB_NAME!r}, a folder")
        return _hub(domain, retain)
    raise UserError(f"WMDP data folder {source!r} does not exist; give {DEFAULT_DATA!r}, "
                    f"{HUB_NAME!r} or a folder with wmdp-{domain}.jsonl, mmlu/<subject>.jsonl, "
                    f"{domain}-forget-corpus.jsonl and {retain}.jsonl")


def _synthetic(domain: str, retain: str) -> WmdpData:
    from erasus_bench.protocols.wmdp.synthetic import generate

    if retain != SYNTHETIC_RETAIN:
        raise UserError(f"retain_corpus {retain!r} is not part of the synthetic data; valid "
                        f"choices with dataset {DEFAULT_DATA!r}: {SYNTHETIC_RETAIN}")
    domains = generate()
    general = domains["general"]
    mmlu: dict[str, Questions] = {}
    for row in general:
        mmlu.setdefault(row["subject"], Questions(rows=[])).rows.append(row)  # type: ignore
    return WmdpData(domain, Questions(rows=domains[domain]), mmlu,
                    [r["document"] for r in domains[domain]], [r["document"] for r in general],
                    DEFAULT_DATA, retain)


# --- local folder ---------------------------------------------------------------------------
def _folder(path: Path, source: str, domain: str, retain: str) -> WmdpData:
    if not path.is_dir():
        raise UserError(f"WMDP data source {source!r} is a file; give a folder")
    hazard = _questions(_required(path, f"wmdp-{domain}", source, "test"), f"wmdp-{domain}",
                        source)
    mmlu_dir = path / "mmlu"
    subjects = sorted({p.name.split(".")[0] for p in mmlu_dir.iterdir()
                       if not p.name.startswith(".")
                       and (p.is_dir() or p.suffix in LOCAL_SUFFIXES)}) \
        if mmlu_dir.is_dir() else []
    if not subjects:
        raise UserError(f"WMDP folder {source!r} has no MMLU questions: expected "
                        f"mmlu/<subject>.jsonl files (subjects of {MMLU_HUB!r}, e.g. "
                        f"{', '.join(MMLU_SUBSETS)})")
    mmlu = {s: _questions(_required(mmlu_dir, s, source, "test"), f"mmlu/{s}", source)
            for s in subjects}
    forget = _texts(_required(path, f"{domain}-forget-corpus", source, "train"), source)
    # the RMU code's wikitext is its test split; the WMDP corpora have only train
    kept = _texts(_required(path, retain, source, "test" if retain == "wikitext" else "train"),
                  source)
    if retain == "wikitext":
        kept = [t for t in kept if len(t) > MIN_CHARS]
    return WmdpData(domain, hazard, mmlu, forget, kept, str(path.resolve()), retain)


def _required(folder: Path, name: str, source: str, split: str) -> list[dict]:
    found = find_rows(folder, name)
    if found is None:
        raise UserError(f"WMDP folder {source!r} has no {name!r} (looked for {name}.json, "
                        f".jsonl, .parquet or a {name}/ folder in {str(folder)!r})")
    return read_rows(found, name, split)


def _questions(rows: list[dict], name: str, source: str) -> Questions:
    if not rows:
        raise UserError(f"{name!r} from {source!r} has no rows")
    for i, r in enumerate(rows, 1):
        missing = [c for c in QUESTION_COLUMNS if c not in r]
        if missing:
            raise UserError(f"{name!r} from {source!r}: row {i} lacks column(s) "
                            f"{', '.join(missing)}; it has {', '.join(r)}; needs "
                            f"{', '.join(QUESTION_COLUMNS)}")
        choices, answer = r["choices"], r["answer"]
        if not (isinstance(choices, list) and len(choices) == 4
                and all(isinstance(c, str) for c in choices)):
            raise UserError(f"{name!r} from {source!r}: row {i} 'choices' should be a list of 4 "
                            f"strings, got {choices!r}"[:300])
        if not (isinstance(answer, int) and 0 <= answer < 4):
            raise UserError(f"{name!r} from {source!r}: row {i} 'answer' should be an integer "
                            f"0-3 (index into choices), got {answer!r}")
    return Questions(rows=[{c: r[c] for c in QUESTION_COLUMNS} for r in rows])


def _texts(rows: list[dict], source: str) -> list[str]:
    texts = [r.get("text") for r in rows]
    bad = next((i for i, t in enumerate(texts, 1) if not isinstance(t, str)), None)
    if bad is not None:
        raise UserError(f"corpus from {source!r}: row {bad} has no string column 'text' (it has "
                        f"{', '.join(rows[bad - 1])})")
    if not texts:
        raise UserError(f"a corpus from {source!r} has no rows")
    return texts  # type: ignore[return-value]


# --- hub ------------------------------------------------------------------------------------
def _hub(domain: str, retain: str) -> WmdpData:
    from erasus_bench.lm.load import set_offline_defaults

    set_offline_defaults()
    hazard = Questions(hub={"dataset_path": HUB_NAME, "dataset_name": f"wmdp-{domain}",
                            "dataset_kwargs": {"revision": WMDP_REVISION}})
    mmlu = {s: Questions(hub={"dataset_path": MMLU_HUB, "dataset_name": s})
            for s in MMLU_SUBJECTS}
    if domain == "bio":
        forget = _hub_texts(BIO_FORGET_HUB, None, "train",
                            f"it is gated: request access at {BIO_FORGET_FORM} and on the hub "
                            f"page of {BIO_FORGET_HUB}, then download it once")
    else:
        forget = _hub_texts(CORPORA_HUB, "cyber-forget-corpus", "train")
    if retain == "wikitext":
        kept = [t for t in _hub_texts(*WIKITEXT) if len(t) > MIN_CHARS]
    else:
        kept = _hub_texts(CORPORA_HUB, retain, "train")
    return WmdpData(domain, hazard, mmlu, forget, kept, HUB_NAME, retain)


def _hub_texts(name: str, config: str | None, split: str, hint: str = "download it once"
               ) -> list[str]:
    import datasets

    try:
        ds = datasets.load_dataset(name, config, split=split)
    except Exception as e:  # offline / gated / unknown
        what = f"{name!r}" + (f" config {config!r}" if config else "")
        raise UserError(f"could not load {what} ({type(e).__name__}: {short(e)}); {hint} with "
                        f"network access (HF_HUB_OFFLINE=0 HF_DATASETS_OFFLINE=0), or pass a "
                        f"local folder (see erasus_bench/protocols/wmdp/data.py)") from None
    return [t for t in ds["text"] if isinstance(t, str)]
