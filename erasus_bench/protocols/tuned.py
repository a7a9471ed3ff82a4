"""Tuned hyperparameters, as committed per protocol by ``erasus-bench tune``, and read by ``run``.

Each protocol package may hold ``tuned.json`` (the chosen values per variant and strategy, with
the seeds, trial count and objective they came from) and ``tuning_log.json`` (every trial's
values, per-cell metrics and score); a package of several protocols (``wmdp``: ``wmdp-bio``,
``wmdp-cyber``) holds one pair per protocol, ``tuned-<protocol>.json`` and
``tuning_log-<protocol>.json``. Tuning seeds start at ``TUNING_SEED_BASE``; reported seeds
are ``0..n-1`` with ``n <= TUNING_SEED_BASE``, so the two never overlap.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

TUNING_SEED_BASE = 1000
TUNED_FILE = "tuned.json"
LOG_FILE = "tuning_log.json"


def protocol_dir(protocol_cls: type) -> Path:
    """The package folder of a protocol class (where its tuned files live)."""
    return Path(sys.modules[protocol_cls.__module__].__file__ or ".").parent


def tuning_files(protocol_cls: type) -> tuple[Path, Path]:
    """Where the protocol's (tuned values, tuning log) live: ``tuned.json`` and
    ``tuning_log.json`` in its package, suffixed with the protocol's name when the package is
    named otherwise (it holds several protocols)."""
    folder = protocol_dir(protocol_cls)
    name = getattr(protocol_cls, "name", "")
    if not name or name == folder.name:
        return folder / TUNED_FILE, folder / LOG_FILE
    return (folder / TUNED_FILE.replace(".json", f"-{name}.json"),
            folder / LOG_FILE.replace(".json", f"-{name}.json"))


def load_tuned(protocol_cls: type) -> dict[str, Any]:
    """The protocol's tuned values ({} when it has none)."""
    path = tuning_files(protocol_cls)[0]
    return json.loads(path.read_text()) if path.exists() else {}


def tuned_key(variant: str, budget: str | None) -> str:
    """Where ``tuned.json`` keeps a variant's values for a budget regime: the variant's name for
    the steps regime (and one-shot strategies), ``variant@epochs`` for the epochs regime."""
    return f"{variant}@{budget}" if budget == "epochs" else variant


def tuned_entry(protocol_cls: type, variant: str, strategy: str, budget: str | None = "steps"
                ) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(chosen hparams, hparams_source) of ``strategy`` on ``variant`` in regime ``budget``, or
    None if untuned."""
    block = load_tuned(protocol_cls).get("variants", {}).get(tuned_key(variant, budget))
    if not block or strategy not in block["strategies"]:
        return None
    source = {"tuned_on_seeds": block["tuned_on_seeds"], "trials": block["trials"],
              "objective": block["objective"]}
    return dict(block["strategies"][strategy]["hparams"]), source
