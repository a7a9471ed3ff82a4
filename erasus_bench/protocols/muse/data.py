"""Data for `muse`: MUSE-News / MUSE-Books (``muse-bench/MUSE-<Corpus>``) from the embedded
generator (default, offline), the hub (pinned revision), or a local folder of the same configs and
splits: ``<folder>/<config>/<split>.jsonl`` (also ``.json``, ``.parquet``, the hub's parquet
export ``<config>/<split>-00000-of-00001.parquet``, or a ``save_to_disk`` DatasetDict
``<config>/``). Configs, splits and columns (MUSE-News' card):

* ``raw`` (``text``): ``forget``, ``retain1``, ``retain2``, ``holdout``;
* ``train`` (``text``): ``forget`` (every article ever to be deleted), ``retain1``, ``retain2``
  (optional: without it the base model's training set is raw forget + retain1 + retain2);
* ``verbmem`` (``prompt``, ``gt``): ``forget``;
* ``knowmem`` (``question``, ``answer``): ``forget_qa``, ``retain_qa``, ``forget_qa_icl``,
  ``retain_qa_icl`` (older revisions: ``retain2_qa``, ``retain2_qa_icl``);
* ``privleak`` (``text``): ``forget``, ``retain``, ``holdout``;
* ``scal`` / ``sust`` (``text``): ``forget_1`` .. ``forget_4`` (News only).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from erasus_bench.errors import UserError, unknown_choice
from erasus_bench.protocols.local_rows import find_rows, is_hub_name, read_rows, short

DEFAULT_DATA = "synthetic"
CORPORA = ("news", "books")
HUB = {"news": "muse-bench/MUSE-News", "books": "muse-bench/MUSE-Books"}
# MUSE-News' last revision naming the retain QA split retain2_qa (the data are unchanged since);
# MUSE-Books is read at its default branch unless --option revision=... pins one
REVISIONS = {"news": "3a5169397006d2c67fe62f2110884de6c1863296", "books": None}
SCALES = (1, 2, 3, 4)
RETAIN_QA = (("retain_qa", "retain2_qa"), ("retain_qa_icl", "retain2_qa_icl"))


@dataclass(frozen=True)
class MuseData:
    """One corpus: unlearning texts, the base model's training set, the evaluation sets."""

    source: str
    corpus: str
    forget: list[str]  # raw/forget: the forget set (scal/forget_1 = sust/forget_1)
    retain: list[str]  # raw/retain1: the methods' retain set (MUSE's scripts)
    train: list[str]  # what the base model is trained on
    verbmem: list[dict[str, str]]
    knowmem: dict[str, list[dict[str, str]]]  # forget_qa, retain_qa and their _icl
    privleak: dict[str, list[str]]  # forget, retain, holdout
    scal: dict[int, list[str]] = field(default_factory=dict)
    sust: dict[int, list[str]] = field(default_factory=dict)

    def without(self, removed: list[str]) -> list[str]:
        """The base model's training set without ``removed`` (what a retrain trains on)."""
        gone = set(removed)
        return [t for t in self.train if t not in gone]


def load_muse(source: str, corpus: str, revision: str | None = None) -> MuseData:
    """``source``: ``"synthetic"``, a hub name or a local folder."""
    if corpus not in CORPORA:
        raise unknown_choice("corpus", corpus, CORPORA)
    if source == DEFAULT_DATA:
        from erasus_bench.protocols.muse.synthetic import generate

        synthetic = generate()
        return _build(source, corpus, lambda c, s: synthetic.get(c, {}).get(s))
    if Path(source).expanduser().is_dir():
        folder = Path(source).expanduser()
        return _build(source, corpus, lambda c, s: _local(folder, c, s))
    if not is_hub_name(source):
        raise UserError(f"dataset {source!r} is neither {DEFAULT_DATA!r}, a local folder nor a "
                        f"hub name like {HUB[corpus]!r}")
    return _build(source, corpus, lambda c, s: _hub(source, c, s, revision))


def _build(source: str, corpus: str, read) -> MuseData:
    def need(config: str, split: str) -> list[dict]:
        rows = read(config, split)
        if rows is None:
            raise UserError(f"{source!r} has no {config}/{split} split (MUSE-{corpus.title()} "
                            "schema: see erasus_bench/protocols/muse/data.py)")
        return rows

    def texts(config: str, split: str) -> list[str]:
        return [_column(r, "text", config, split, source) for r in need(config, split)]

    def pairs(config: str, split: str, keys: tuple[str, str]) -> list[dict[str, str]]:
        return [{k: _column(r, k, config, split, source) for k in keys}
                for r in need(config, split)]

    def first(config: str, names: tuple[str, ...]) -> str:
        return next((n for n in names if read(config, n) is not None), names[0])

    forget = texts("raw", "forget")
    retain1, retain2 = texts("raw", "retain1"), texts("raw", "retain2")
    train = (texts("train", "forget") + texts("train", "retain1") + texts("train", "retain2")
             if read("train", "forget") is not None else forget + retain1 + retain2)
    qa = ("question", "answer")
    knowmem = {"forget_qa": pairs("knowmem", "forget_qa", qa),
               "forget_qa_icl": pairs("knowmem", "forget_qa_icl", qa)}
    for name, names in zip(("retain_qa", "retain_qa_icl"), RETAIN_QA):
        knowmem[name] = pairs("knowmem", first("knowmem", names), qa)
    optional = {c: {k: [_column(r, "text", c, f"forget_{k}", source) for r in rows]
                    for k in SCALES if (rows := read(c, f"forget_{k}")) is not None}
                for c in ("scal", "sust")}
    return MuseData(source, corpus, forget, retain1, train,
                    pairs("verbmem", "forget", ("prompt", "gt")), knowmem,
                    {s: texts("privleak", s) for s in ("forget", "retain", "holdout")},
                    optional["scal"], optional["sust"])


def _column(row: dict, key: str, config: str, split: str, source: str) -> str:
    value = row.get(key)
    if not isinstance(value, str):
        raise UserError(f"{source!r} {config}/{split}: a row has no text column {key!r} "
                        f"(columns: {', '.join(sorted(row))})")
    return value


def _local(folder: Path, config: str, split: str) -> list[dict] | None:
    where = folder / config
    if not where.is_dir():
        return None
    found = find_rows(where, split)
    if found is not None:
        return read_rows(found, split)
    exported = sorted(where.glob(f"{split}-*.parquet"))
    if exported:
        return [row for f in exported for row in read_rows(f, split)]
    if (where / "dataset_dict.json").exists():
        try:
            return read_rows(where, config, split)
        except UserError:
            return None
    return None


def _hub(name: str, config: str, split: str, revision: str | None) -> list[dict] | None:
    import datasets

    from erasus_bench.lm.load import set_offline_defaults

    set_offline_defaults()
    corpus = next((c for c, hub in HUB.items() if hub == name), None)
    rev = revision or (REVISIONS.get(corpus) if corpus else None)
    try:
        return datasets.load_dataset(name, config, split=split, revision=rev).to_list()
    except ValueError as e:  # an unknown split or config: optional splits are probed
        if "split" in str(e).lower() or "config" in str(e).lower():
            return None
        raise UserError(f"could not load {name!r} {config}/{split}: {short(e)}") from None
    except Exception as e:  # offline / unknown dataset
        raise UserError(f"could not load {name!r} config {config!r} ({type(e).__name__}: "
                        f"{short(e)}); download it once with network access (HF_HUB_OFFLINE=0 "
                        "HF_DATASETS_OFFLINE=0), or pass a local folder (see "
                        "erasus_bench/protocols/muse/data.py)") from None
