"""Hyperparameter tuning on seeds that are never reported (``erasus-bench tune``).

Every strategy gets the same number of trials (the product of its protocol's search space), each
trial runs on every tuning seed with the random coreset at the default fraction and the full
forget set, and the protocol's objective picks one trial per strategy. The chosen values and
the whole search log are written beside the protocol (``protocols.tuned``) for ``run`` to read.
"""
from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from erasus_bench.errors import UserError
from erasus_bench.harness.budget import ONE_SHOT, regimes_for
from erasus_bench.harness.grid import DEFAULT_FRACTIONS, applicable
from erasus_bench.harness.precision import round_floats
from erasus_bench.harness.spec import REFERENCE_ROWS, CellSpec
from erasus_bench.harness.store import load_records, write_atomic
from erasus_bench.methods.strategies.compose import strategy_class
from erasus_bench.protocols.base import Protocol
from erasus_bench.protocols.tuned import TUNING_SEED_BASE, tuned_key, tuning_files
from erasus_bench.registry import PROTOCOLS, STRATEGIES

TUNING_CELLS = (("random", DEFAULT_FRACTIONS[0]), ("full", 1.0))  # (selector, fraction)
SOURCE = {"source": "tuning trial"}


@dataclass(frozen=True)
class Trial:
    """One point of a strategy's search space and the cells it runs."""

    strategy: str
    values: dict[str, Any]
    cells: tuple[CellSpec, ...]


@dataclass(frozen=True)
class TuningPlan:
    """A protocol configuration, its tuning seeds, reference cells and trials."""

    protocol: Protocol
    config: dict[str, Any]
    seeds: tuple[int, ...]
    references: tuple[CellSpec, ...]
    trials: tuple[Trial, ...]
    budget: str = "steps"

    @property
    def cells(self) -> list[CellSpec]:
        return [*self.references, *(c for t in self.trials for c in t.cells)]


def tuning_seeds(n: int) -> tuple[int, ...]:
    """``n`` tuning seeds from ``TUNING_SEED_BASE`` on."""
    if n < 1:
        raise UserError(f"--seeds {n} is invalid: tuning needs at least one seed")
    return tuple(range(TUNING_SEED_BASE, TUNING_SEED_BASE + n))


def plan_tuning(protocol_name: str, options: dict[str, Any], strategies: Sequence[str] | None,
                seeds: int, budget: str = "steps") -> TuningPlan:
    """Every trial of every (named) strategy that runs in regime ``budget``; the same trial
    count for all, or a UserError."""
    protocol: Protocol = PROTOCOLS.get(protocol_name)()
    config = protocol.resolve_config(options)
    seed_list = tuning_seeds(seeds)
    trials = []
    for strategy in applicable(STRATEGIES, protocol, strategies):
        cls = strategy_class(strategy)[0]
        regime = regimes_for(cls, [budget])[0]
        if regime != budget and not (budget == "steps" and regime == ONE_SHOT):
            continue  # e.g. coreset-invariant or one-shot strategies in the epochs regime
        base = protocol.strategy_hparams(strategy, config, regime)
        space = protocol.search_space(strategy, base)
        for combo in itertools.product(*space.values()):
            values = dict(zip(space, combo))
            hp = {**base, **values}
            trials.append(Trial(strategy, values, tuple(
                CellSpec(protocol.name, config, strategy, sel, frac, seed, hp, SOURCE, regime)
                for seed in seed_list for sel, frac in TUNING_CELLS)))
    counts = {t.strategy: sum(u.strategy == t.strategy for u in trials) for t in trials}
    if len(set(counts.values())) > 1:
        raise UserError(f"search spaces of unequal size on {protocol.name!r}: {counts}; every "
                        "strategy must get the same number of trials")
    refs = tuple(CellSpec(protocol.name, config, r, None, None, s)
                 for s in seed_list for r in REFERENCE_ROWS)
    return TuningPlan(protocol, config, seed_list, refs, tuple(trials), budget)


def choose(plan: TuningPlan, results_dir: Path, command: str) -> dict[str, Any]:
    """Score every trial from its records, keep the best per strategy (first on ties) with the
    ``command`` that chose it, and write ``tuned.json`` and ``tuning_log.json`` beside the
    protocol (strategies tuned earlier keep their values); returns the variant's block of
    ``tuned.json``."""
    by_hash = {r["config_hash"]: r for r in load_records(results_dir)
               if r.get("status") == "ok"}
    objective = plan.protocol.tuning_objective()
    base = {c.seed: _metrics(by_hash, c) for c in plan.references if c.strategy == "original"}
    if any(m is None for m in base.values()):
        raise UserError("the original model's tuning records failed; see the tuning folder")
    log: dict[str, list[dict[str, Any]]] = {}
    chosen: dict[str, dict[str, Any]] = {}
    for trial in plan.trials:
        cells = [_metrics(by_hash, c) for c in trial.cells]
        # a trial with a failed cell (e.g. a learning rate that diverges) is never chosen
        score = (objective.score(cells, [base[c.seed] for c in trial.cells])  # type: ignore
                 if all(m is not None for m in cells) else -math.inf)
        log.setdefault(trial.strategy, []).append({
            "values": trial.values, "score": score if math.isfinite(score) else None,
            "cells": [{"seed": c.seed, "selector": c.selector, "fraction": c.fraction,
                       "metrics": m} for c, m in zip(trial.cells, cells)]})
        best = chosen.get(trial.strategy)
        if best is None or score > best["score"]:
            chosen[trial.strategy] = {"hparams": trial.values, "score": score,
                                      "command": command}
    block = {"objective": objective.description, "tuned_on_seeds": list(plan.seeds),
             "trials": len(log[next(iter(log))]) if log else 0,
             "cells": [{"selector": s, "fraction": f} for s, f in TUNING_CELLS],
             "budget": plan.budget}
    variant = tuned_key(plan.protocol.tuning_variant(plan.config), plan.budget)
    tuned_path, log_path = tuning_files(type(plan.protocol))
    tuned = _read(tuned_path)
    entry = tuned.setdefault("variants", {}).setdefault(variant, {"strategies": {}})
    entry.update(block)
    entry.setdefault("command", command)  # the variant's first tuning; each strategy: its own
    entry["strategies"].update(chosen)
    tuned["protocol"] = plan.protocol.name
    write_atomic(tuned_path, round_floats(tuned))
    full_log = _read(log_path)
    full_log["protocol"] = plan.protocol.name
    full_log.setdefault("variants", {}).setdefault(variant, {}).update(log)
    write_atomic(log_path, round_floats(full_log))
    return entry


def _metrics(by_hash: dict[str, dict[str, Any]], cell: CellSpec) -> dict[str, Any] | None:
    """The cell's metrics, or None when it has no ok record."""
    record = by_hash.get(cell.config_hash)
    return None if record is None else {k: v for k, v in record["metrics"].items()
                                        if v is not None}


def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}
