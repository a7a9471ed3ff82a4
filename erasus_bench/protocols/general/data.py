"""Data for the `general` protocol: scikit-learn's bundled digits (the embedded default) or a
Hugging Face ``datasets`` image/tabular classification dataset by hub name or local path."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from erasus_bench.errors import UserError
from erasus_bench.methods.examples import Examples

DEFAULT_DATASET = "digits"
LOCAL_SUFFIXES = {".csv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet"}


@dataclass(frozen=True)
class RawData:
    """Features, integer labels, and where they came from."""

    x: np.ndarray
    y: np.ndarray
    source: str
    is_default: bool


def load_raw(dataset: str, label_column: str = "label") -> RawData:
    """Load ``digits`` (offline default) or a datasets-loadable classification dataset."""
    if dataset == DEFAULT_DATASET:
        from sklearn.datasets import load_digits

        d = load_digits()
        return RawData(d.data.astype(np.float32), d.target.astype(np.int64),
                       "scikit-learn load_digits (1,797 8x8 images, 10 classes)", True)
    return _load_hf(dataset, label_column)


def _load_hf(dataset: str, label_column: str) -> RawData:
    import datasets

    path = Path(dataset)
    try:
        if path.is_file():
            builder = LOCAL_SUFFIXES.get(path.suffix)
            if builder is None:
                raise UserError(f"unsupported dataset file {dataset!r}; valid suffixes: "
                                f"{', '.join(sorted(LOCAL_SUFFIXES))}")
            ds = datasets.load_dataset(builder, data_files=str(path), split="train")
        elif path.is_dir():
            ds = datasets.load_from_disk(str(path)) if (path / "dataset_info.json").exists() \
                else datasets.load_dataset(str(path), split="train")
        else:
            ds = datasets.load_dataset(dataset, split="train")
    except UserError:
        raise
    except Exception as e:  # hub/network/format errors: say what was tried and how to fix it
        raise UserError(f"could not load dataset {dataset!r} ({type(e).__name__}: {e}); give "
                        f"{DEFAULT_DATASET!r}, a local .csv/.json/.parquet file, a saved dataset "
                        f"folder, or a hub name reachable from this machine") from None
    if isinstance(ds, datasets.DatasetDict):
        ds = ds["train"]
    if label_column not in ds.column_names:
        raise UserError(f"dataset {dataset!r} has no label column {label_column!r}; "
                        f"columns: {', '.join(ds.column_names)}")
    y = np.asarray(ds[label_column])
    _, y = np.unique(y, return_inverse=True)
    feature_cols = [c for c in ds.column_names if c != label_column]
    if "image" in feature_cols or "img" in feature_cols:
        col = "image" if "image" in feature_cols else "img"
        x = np.stack([np.asarray(im.convert("L"), dtype=np.float32).reshape(-1) for im in ds[col]])
    else:
        x = np.column_stack([np.asarray(ds[c], dtype=np.float32) for c in feature_cols])
    return RawData(x.astype(np.float32), y.astype(np.int64), f"datasets: {dataset}", False)


@dataclass
class Splits:
    """Standardised train/test tensors and the forget/retain partition of train."""

    train: Examples
    test: Examples
    forget_idx: np.ndarray  # positions in train
    retain_idx: np.ndarray
    num_classes: int
    in_dim: int

    @property
    def forget(self) -> Examples:
        return self.train.subset(self.forget_idx)

    @property
    def retain(self) -> Examples:
        return self.train.subset(self.retain_idx)


def make_splits(raw: RawData, seed: int, scenario: str, forget_fraction: float,
                forget_class: int) -> Splits:
    """Stratified 70/30 train/test split per seed; forget = a random ``forget_fraction`` of train
    (scenario ``random``) or every train sample of ``forget_class`` (scenario ``class``, whose
    test set then drops that class, as SalUn's ``Classification/dataset.py`` does)."""
    from sklearn.model_selection import train_test_split  # lazy: keeps cached reruns fast
    from sklearn.preprocessing import StandardScaler

    idx = np.arange(len(raw.y))
    tr, te = train_test_split(idx, test_size=0.3, stratify=raw.y, random_state=seed)
    scaler = StandardScaler().fit(raw.x[tr])
    xs = scaler.transform(raw.x).astype(np.float32)
    train = Examples({"x": torch.from_numpy(xs[tr]), "y": torch.from_numpy(raw.y[tr])})
    if scenario == "class":
        te = te[raw.y[te] != forget_class]
    test = Examples({"x": torch.from_numpy(xs[te]), "y": torch.from_numpy(raw.y[te])})
    n = len(tr)
    if scenario == "random":
        rng = np.random.default_rng(seed)
        forget = np.sort(rng.choice(n, size=max(1, round(forget_fraction * n)), replace=False))
    else:
        forget = np.flatnonzero(raw.y[tr] == forget_class)
    retain = np.setdiff1d(np.arange(n), forget)
    return Splits(train, test, forget, retain, int(raw.y.max()) + 1, raw.x.shape[1])
