"""Run one grid cell: select a coreset, unlearn, evaluate on the full forget set, write the
record."""
from __future__ import annotations

import copy
import json
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from erasus_bench.harness.attacks import AttackInput, run_attacks
from erasus_bench.harness.budget import build_strategy
from erasus_bench.harness.cache import ModelCache
from erasus_bench.harness.clock import Stopwatch, starved, starved_stages
from erasus_bench.harness.cost import Cost, count_cost
from erasus_bench.harness.precision import round_floats
from erasus_bench.harness.prepared import mark_prepared
from erasus_bench.harness.spec import CellSpec
from erasus_bench.harness.store import (created_now, is_done, new_record, record_path,
                                        write_atomic)
from erasus_bench.methods.selectors.compose import make_selector
from erasus_bench.methods.strategies.compose import strategy_class
from erasus_bench.methods.task import SelectionContext, UnlearnTask
from erasus_bench.methods.training_run import TrainingRun
from erasus_bench.protocols.base import Protocol, Setting
from erasus_bench.registry import PROTOCOLS


class CellError(Exception):
    """A method broke its contract (bad coreset, non-finite weights or metrics)."""


@dataclass(frozen=True)
class RunContext:
    """Where a run reads and writes; picklable, sent to every worker."""

    results_dir: str
    cache_dir: str
    command: str


@dataclass(frozen=True)
class CellOutcome:
    """What the main process learns about a finished cell."""

    key: str
    status: str
    error: str | None
    path: str
    starved: tuple[str, ...] = ()  # timed stages that got under a core (harness.clock)


_SETTINGS: dict[tuple[str, str, int, int | None, int | None], Setting] = {}


def get_setting(protocol: str, config: dict[str, Any], seed: int, cache_dir: str,
                requests: int | None = None, request: int | None = None) -> Setting:
    """The protocol's setting for ``seed`` (of deletion request ``request`` of ``requests``
    when given), built once per process."""
    key = (protocol, json.dumps(config, sort_keys=True), seed, requests, request)
    if key not in _SETTINGS:
        p, cache = PROTOCOLS.get(protocol)(), ModelCache(cache_dir)
        _SETTINGS[key] = (p.setup(config, seed, cache) if request is None or requests is None
                          else p.request_setting(config, seed, cache, requests, request))
    return _SETTINGS[key]


def prepare(protocol: str, config: dict[str, Any], seed: int, role: str, cache_dir: str,
            requests: int | None = None, request: int | None = None) -> list[str]:
    """Train (or find cached) the ``role`` model of one seed, or with ``request`` the gold
    model of that deletion request (retrained without requests 1..j); returns a warning for
    each model it trained on a CPU with under a core (its training time is not its cost).
    Its model files are listed in a marker (harness.prepared) for later submissions."""
    protocol_, cache = PROTOCOLS.get(protocol)(), ModelCache(cache_dir)
    if request is not None and requests is not None:
        protocol_.request_setting(config, seed, cache, requests, request)
    else:
        protocol_.train(config, seed, cache, role)
    mark_prepared(cache_dir, (protocol, config, seed, role, cache_dir, requests, request),
                  cache.used)
    if torch.cuda.is_available():
        return []
    what = f"the {role} model of seed {seed}" + (f", request {request}" if request else "")
    return [f"{what} trained on {t.cpu_s / t.wall_s:.2f} of a core on average ({t.wall_s:,.0f} "
            f"s wall, {t.cpu_s:,.0f} s CPU): paused, or sharing its cores; its training time "
            f"feeds the speedups of its cells: delete {t.path} and rerun"
            for t in cache.trained if starved(t.wall_s, t.cpu_s)]


def rerun_seed(seed: int, i: int) -> int:
    """The unlearning seed of the ``i``-th rerun (1, 2, ...) of a cell of ``seed``."""
    return seed + 100_003 * i


def check_coreset(idx: np.ndarray, n: int, k: int, selector: str) -> np.ndarray:
    """The selector's indices as int64, or a CellError saying how they break the contract."""
    idx = np.asarray(idx)
    if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
        raise CellError(f"selector {selector!r} returned {idx.dtype} array of shape {idx.shape};"
                        " expected a 1-D integer array of indices into the forget set")
    if len(np.unique(idx)) != len(idx) or (len(idx) and (idx.min() < 0 or idx.max() >= n)):
        raise CellError(f"selector {selector!r} returned repeated or out-of-range indices "
                        f"(forget set has {n} samples)")
    if len(idx) not in (min(k, n), n):
        raise CellError(f"selector {selector!r} returned {len(idx)} indices, asked for {k}")
    return idx.astype(np.int64)


def same_weights(a: nn.Module, b: nn.Module) -> bool:
    """True when the two models' parameters and buffers are bit-identical."""
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def all_finite(model: nn.Module) -> bool:
    """True when every parameter and buffer of ``model`` is finite."""
    return all(bool(torch.isfinite(t).all()) for t in
               [*model.parameters(), *(b for b in model.buffers() if b.is_floating_point())])


@dataclass
class Unlearned:
    """What selecting and unlearning produced: the model, the coreset, timings, compute."""

    model: nn.Module
    coreset: list[int] | None
    timings: dict[str, float]
    seconds: float  # selection + unlearning
    cost: dict[str, Any]


@dataclass(frozen=True)
class Selection:
    """A coreset and what choosing it cost: seconds (score-network training included) and
    compute, as measured when it was computed."""

    idx: np.ndarray
    seconds: float
    cost: Cost
    artifacts_s: float = 0.0  # training-time artifacts built meanwhile (not in ``seconds``)


_SELECTIONS: dict[tuple[int, str, int, int], tuple[Setting, Selection]] = {}
_MAX_SELECTIONS = 256


def _built(run: TrainingRun | None) -> tuple[float, float]:
    """Wall and CPU seconds spent so far building ``run``'s training-time artifacts."""
    return (0.0, 0.0) if run is None else (run.built_s, run.built_cpu_s)


def select_coreset(spec: CellSpec, setting: Setting, k: int, model: nn.Module | None = None
                   ) -> Selection:
    """The cell's coreset of ``k`` samples of the setting's unlearning pool, scored with
    ``model`` (None: the base model). Selectors are deterministic under a seed, so a coreset of
    the base model is computed once per (setting, selector, k, seed) in this process and shared
    by every strategy of that seed; each of their cells is charged the time and compute
    measured when it was computed, as if it had computed it itself. A later deletion request
    scores with the model its sequence has reached, so its coreset is its own."""
    assert spec.selector is not None
    key = (id(setting), spec.selector, k, spec.seed)
    if model is None and key in _SELECTIONS:
        return _SELECTIONS[key][1]
    scorer = setting.base if model is None else model
    pool = setting.unlearn_pool()
    n = len(pool)
    torch.manual_seed(spec.seed)
    run = setting.training_run
    ctx = SelectionContext(scorer, pool, setting.adapter, spec.seed,
                           setting.num_classes, setting.early_models, setting.early_train_s,
                           run)
    selector = make_selector(spec.selector)
    built = _built(run)
    start = time.perf_counter()
    with count_cost([scorer, *setting.early_models]) as cost:
        idx = check_coreset(selector.select(ctx, k), n, k, spec.selector)
    artifacts_s = _built(run)[0] - built[0]
    seconds = time.perf_counter() - start - artifacts_s
    if selector.uses_early_models and setting.early_models:
        seconds += setting.early_train_s  # training the score networks is part of selecting
    selection = Selection(idx, seconds, cost, artifacts_s)
    if model is None:
        if len(_SELECTIONS) >= _MAX_SELECTIONS:
            _SELECTIONS.pop(next(iter(_SELECTIONS)))
        # the setting is kept with its coreset so that its id cannot be reused while the key
        # lives
        _SELECTIONS[key] = (setting, selection)
    return selection


def unlearn(spec: CellSpec, setting: Setting, start: nn.Module | None = None,
            unlearn_seed: int | None = None) -> Unlearned:
    """Apply the cell's selector and strategy to ``start`` (the model a sequence of deletion
    requests has reached; None: the base model), timing and counting both. The coreset is
    recorded as positions in ``setting.forget``. ``unlearn_seed`` (default: the cell's seed)
    seeds the strategy alone: the coreset is the cell's either way."""
    if spec.strategy == "original":
        return Unlearned(setting.base, None, {"select_s": 0.0, "unlearn_s": 0.0}, 0.0, {})
    if spec.strategy == "retrain":
        t = setting.gold_train_s
        return Unlearned(setting.gold, None, {"select_s": 0.0, "unlearn_s": t}, t, {})
    assert spec.selector is not None and spec.fraction is not None
    pool = setting.unlearn_pool()
    k = max(1, round(spec.fraction * len(pool)))
    chosen = select_coreset(spec, setting, k, start)
    idx, select_s, select_cost = chosen.idx, chosen.seconds, chosen.cost
    strategy = strategy_class(spec.strategy)[0]
    model = setting.base if start is None else start
    task = UnlearnTask(model=copy.deepcopy(model),
                       original=copy.deepcopy(model).requires_grad_(False).eval(),
                       forget=pool.subset(idx), retain=setting.retain,
                       adapter=setting.adapter,
                       seed=spec.seed if unlearn_seed is None else unlearn_seed,
                       num_classes=setting.num_classes,
                       full_forget=pool if strategy.reads_training_set else None,
                       training_run=setting.training_run, coreset_pos=idx)
    torch.manual_seed(task.seed)
    built = _built(task.training_run)
    with Stopwatch() as clock:
        method = build_strategy(strategy, spec.hparams, spec.budget, task)
        with count_cost([task.model], [task.original]) as unlearn_cost:
            model = method.unlearn(task)
    artifacts_s, artifacts_cpu_s = (a - b for a, b in zip(_built(task.training_run), built))
    unlearn_s = clock.wall_s - artifacts_s
    if not all_finite(model):
        raise CellError(f"strategy {spec.strategy!r} produced non-finite weights")
    cost = {**(select_cost + unlearn_cost).as_dict(), "select": select_cost.as_dict()}
    coreset = idx if setting.request_idx is None else setting.request_idx[idx]
    timings = {"select_s": select_s, "unlearn_s": unlearn_s,
               "unlearn_cpu_s": clock.cpu_s - artifacts_cpu_s}
    if setting.training_run is not None:  # training-time cost, outside select_s/unlearn_s
        timings["training_artifacts_s"] = chosen.artifacts_s + artifacts_s
    return Unlearned(model, coreset.tolist(), timings, select_s + unlearn_s, cost)


def _execute(spec: CellSpec, ctx: RunContext, start: nn.Module | None = None
             ) -> tuple[dict[str, Any], nn.Module | None]:
    """Run ``spec`` from ``start`` (None: the base model): its record (ok or failed, not yet
    written) and the unlearned model (None when it failed)."""
    protocol = PROTOCOLS.get(spec.protocol)()
    record = new_record(spec, protocol.provenance(spec.protocol_config), ctx.command)
    try:
        setting = get_setting(spec.protocol, spec.protocol_config, spec.seed, ctx.cache_dir,
                              spec.requests, spec.request)
        if spec.trust:
            return _trust_record(spec, setting, protocol, record), None
        done = unlearn(spec, setting, start)
        timings = done.timings
        with Stopwatch() as clock:
            ev = protocol.evaluate(setting, done.model, done.seconds)
        timings.update(evaluate_s=clock.wall_s, evaluate_cpu_s=clock.cpu_s)
        timings.update({f"evaluate_{k}": v for k, v in ev.timings.items()})
        if spec.attacks:
            rerun = (None if spec.is_reference else lambda i: unlearn(
                spec, setting, start, unlearn_seed=rerun_seed(spec.seed, i)).model)
            metrics, record["attacks"], attack_s = run_attacks(
                protocol, spec.attacks, AttackInput(setting, done.model, spec.strategy, rerun))
            ev.metrics.update(metrics)
            timings.update(attack_s)
        bad = [k for k, v in ev.metrics.items() if v is not None and not np.isfinite(v)]
        if bad:
            raise CellError(f"non-finite metrics: {', '.join(bad)}")
        if not spec.is_reference:
            before = setting.base if start is None else start
            record["model_changed"] = not same_weights(done.model, before)
        report = getattr(done.model, "unlearning_report", None)
        if report:  # what a method reports of its own run, e.g. a certificate's bound
            record["method_report"] = round_floats(dict(report))
        record.update(metrics=ev.metrics, timings=timings, cost=done.cost,
                      per_example={**ev.per_example, "coreset": done.coreset},
                      starved=starved_stages(timings) if record["env"]["device"] == "cpu"
                      else [])
        return record, done.model
    except Exception as e:  # a broken method must not stop the grid: record why and go on
        where = traceback.extract_tb(e.__traceback__)[-1]
        record.update(status="failed",
                      error=f"{type(e).__name__}: {e} (at {Path(where.filename).name}:"
                            f"{where.lineno})")
        return record, None


def _trust_record(spec: CellSpec, setting: Setting, protocol: Protocol,
                  record: dict[str, Any]) -> dict[str, Any]:
    """A metric-trust cell's record (harness.trust): the pool model's metrics, or an unlearned
    (retrained) model's before and after relearning and quantization."""
    from erasus_bench.harness.trust import ROBUSTNESS, run_trust

    start = time.perf_counter()
    model = None
    if spec.trust == ROBUSTNESS:
        model = setting.gold if spec.is_reference else unlearn(spec, setting).model
    metrics, record["trust"] = run_trust(spec, setting, protocol, model)
    bad = [k for k, v in metrics.items() if not np.isfinite(v)]
    if bad:
        raise CellError(f"non-finite metrics: {', '.join(bad)}")
    record.update(metrics=metrics, timings={"trust_s": time.perf_counter() - start})
    return record


def _write(spec: CellSpec, ctx: RunContext, record: dict[str, Any]) -> CellOutcome:
    path = record_path(Path(ctx.results_dir), spec)
    record["created"] = created_now()
    write_atomic(path, record)
    return CellOutcome(spec.readable_key, record["status"], record["error"], str(path),
                       tuple(record.get("starved", ())))


def run_cell(spec: CellSpec, ctx: RunContext) -> CellOutcome:
    """Run ``spec`` and write its record (ok or failed) atomically."""
    return _write(spec, ctx, _execute(spec, ctx)[0])


def request_model_key(spec: CellSpec) -> dict[str, Any]:
    """Where the model a deletion request left is stored in the model cache."""
    return {"request_model": spec.config_hash}


def run_chain(specs: list[CellSpec], ctx: RunContext, force: bool = False
              ) -> list[CellOutcome]:
    """Run one method's deletion requests 1..K in order, each from the model the previous one
    left (stored in the model cache with the record), writing each record as it finishes; a
    rerun resumes after the last request with an ok record and a stored model (all of them
    again with ``force``). Requests after a failed one are recorded as failed."""
    results, cache = Path(ctx.results_dir), ModelCache(ctx.cache_dir)
    resume = 0
    while (not force and resume < len(specs) and is_done(results, specs[resume])
           and cache.path(request_model_key(specs[resume])).exists()):
        resume += 1
    start: nn.Module | None = None
    if resume:
        last = specs[resume - 1]
        setting = get_setting(last.protocol, last.protocol_config, last.seed, ctx.cache_dir,
                              last.requests, last.request)
        start = copy.deepcopy(setting.base)
        cache.load(request_model_key(last), start)
    outcomes, failed = [], None
    for spec in specs[resume:]:
        if failed is None:
            record, start = _execute(spec, ctx, start)
        else:
            record = new_record(spec, PROTOCOLS.get(spec.protocol)().provenance(
                spec.protocol_config), ctx.command)
            record.update(status="failed", error=f"request {failed} of this sequence failed")
        prev = spec.previous
        if prev is not None:
            record["previous_request"] = {
                "path": record_path(Path(), prev).as_posix(), "config_hash": prev.config_hash}
        if record["status"] == "ok" and start is not None:
            cache.store(request_model_key(spec), start, record["timings"]["unlearn_s"])
        elif failed is None:
            failed = spec.request
        outcomes.append(_write(spec, ctx, record))
    return outcomes


def run_job(job: CellSpec | list[CellSpec], ctx: RunContext, force: bool = False
            ) -> list[CellOutcome]:
    """One unit of work: a cell, or a method's sequence of deletion requests."""
    return run_chain(job, ctx, force) if isinstance(job, list) else [run_cell(job, ctx)]


def cells_of(job: CellSpec | list[CellSpec]) -> list[CellSpec]:
    return job if isinstance(job, list) else [job]


def run_batch(batch: list[CellSpec | list[CellSpec]], ctx: RunContext, force: bool = False
              ) -> list[CellOutcome]:
    """One engine job: units of work run in order, each marked as running meanwhile (a unit
    another job finished since this one was submitted is skipped, unless ``force``)."""
    from erasus_bench.harness.inflight import running

    results, outcomes = Path(ctx.results_dir), []
    for job in batch:
        cells = cells_of(job)
        if not force and all(is_done(results, c) for c in cells):
            continue
        with running(results, cells):
            outcomes.extend(run_job(job, ctx, force))
    return outcomes
