"""Sequential deletion requests (`--requests K`): the split, each request's setting and gold
model, the chain of models, resuming a killed sequence, and the pages' sequences."""
from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from erasus_bench.errors import UserError
from erasus_bench.harness.cache import ModelCache
from erasus_bench.harness.grid import build_grid
from erasus_bench.harness.requests import request_positions, split_requests
from erasus_bench.harness.runner import (RunContext, get_setting, request_model_key,
                                         run_chain, same_weights, unlearn)
from erasus_bench.harness.store import load_records, record_path
from erasus_bench.leaderboards.summarise import summarise
from erasus_bench.protocols.general.model import build_model
from erasus_bench.protocols.general.protocol import GeneralProtocol


def test_split_is_a_seeded_partition() -> None:
    parts = split_requests(10, 3, seed=4)
    assert sorted(np.concatenate(parts).tolist()) == list(range(10))
    assert sorted(len(p) for p in parts) == [3, 3, 4]
    assert all((a == b).all() for a, b in zip(parts, split_requests(10, 3, seed=4)))
    assert any((a != b).any() for a, b in zip(parts, split_requests(10, 3, seed=5)))
    done, pending, current = request_positions(parts, 2)
    assert sorted(done.tolist()) == sorted(np.concatenate(parts[:2]).tolist())
    assert pending.tolist() == sorted(parts[2].tolist())
    assert done[current].tolist() == parts[1].tolist()


@pytest.mark.parametrize("k, n, expected", [(1, 10, "at least 2"), (11, 10, "valid: 2..10")])
def test_bad_request_counts_are_named(k: int, n: int, expected: str) -> None:
    with pytest.raises(UserError, match=expected):
        split_requests(n, k, seed=0)


def test_gold_of_request_j_is_retrained_without_requests_1_to_j(cache_dir: str,
                                                                general_config: dict) -> None:
    protocol = GeneralProtocol()
    splits = protocol._splits(general_config, 0)
    parts = split_requests(len(splits.forget), 3, 0)
    golds = []
    for j in (1, 3):
        setting = get_setting("general", general_config, 0, cache_dir, 3, j)
        done, pending, current = request_positions(parts, j)
        # evaluated on requests 1..j; the method is given request j
        assert setting.forget.fingerprint() == splits.forget.subset(done).fingerprint()
        assert setting.unlearn_pool().fingerprint() == \
            splits.forget.subset(parts[j - 1]).fingerprint()
        # gold = the model the cache stores for training on retain + requests j+1..K
        data = splits.retain.concat(splits.forget.subset(pending))
        key = {"protocol": "general", "train_data": data.fingerprint(),
               "recipe": protocol.recipe.key(), "seed": 0}
        stored = build_model(splits.in_dim, splits.num_classes, protocol.recipe, 0)
        assert ModelCache(cache_dir).load(key, stored) is not None
        golds.append(setting.gold)
        assert same_weights(setting.gold, stored)
        assert len(data) == len(splits.retain) + len(splits.forget) - len(done)
    assert not close(*golds)  # the two requests' golds are different retrains


def close(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return all(torch.allclose(sa[k], sb[k], rtol=1e-4, atol=1e-6) for k in sa)


def _chain(config: dict) -> list:
    _, _, cells = build_grid("general", {}, ["grad_diff"], ["random"], [0.5], 1, ["steps"],
                             requests=3)
    return [c for c in cells if c.strategy == "grad_diff"]


def test_each_request_starts_from_the_previous_model_and_resumes(
        tmp_path: Path, cache_dir: str, general_config: dict) -> None:
    specs = _chain(general_config)
    assert [s.request for s in specs] == [1, 2, 3]
    ctx = RunContext(str(tmp_path), cache_dir, "test")
    assert [o.status for o in run_chain(specs, ctx)] == ["ok"] * 3
    cache = ModelCache(cache_dir)
    settings = [get_setting("general", general_config, 0, cache_dir, 3, j) for j in (1, 2, 3)]
    models = []
    for spec, setting in zip(specs, settings):
        m = copy.deepcopy(setting.base)
        assert cache.load(request_model_key(spec), m) is not None
        models.append(m)
    # request 2 redone from request 1's model gives request 2's model; from base it does not
    again = unlearn(specs[1], settings[1], copy.deepcopy(models[0])).model
    assert same_weights(again, models[1])
    assert not same_weights(unlearn(specs[1], settings[1]).model, models[1])
    recs = {r["config"]["request"]: r for r in load_records(tmp_path)}
    assert recs[2]["previous_request"]["path"] == record_path(Path(), specs[0]).as_posix()
    assert recs[3]["previous_request"]["config_hash"] == specs[1].config_hash
    assert all(recs[j]["model_changed"] for j in recs)
    # killed during request 3: its record and model are gone; the rerun does request 3 only
    paths = [record_path(tmp_path, s) for s in specs]
    mtimes = [p.stat().st_mtime_ns for p in paths[:2]]
    paths[2].unlink()
    cache.path(request_model_key(specs[2])).unlink()
    outcomes = run_chain(specs, ctx)
    assert [o.key for o in outcomes] == [specs[2].readable_key] and outcomes[0].status == "ok"
    assert [p.stat().st_mtime_ns for p in paths[:2]] == mtimes
    redone = json.loads(paths[2].read_text())
    assert redone["metrics"] == recs[3]["metrics"] | {k: redone["metrics"][k]
                                                      for k in ("unlearn_time", "speedup")}


def test_a_failed_request_fails_the_rest_of_its_sequence(tmp_path: Path, cache_dir: str,
                                                          general_config: dict) -> None:
    specs = [replace(s, strategy="no_such_strategy") if s.request == 2 else s
             for s in _chain(general_config)]
    outcomes = run_chain(specs, RunContext(str(tmp_path), cache_dir, "test"))
    assert [o.status for o in outcomes] == ["ok", "failed", "failed"]
    assert "request 2 of this sequence failed" in outcomes[2].error


def test_sequences_are_kept_out_of_the_table(tmp_path: Path, cache_dir: str,
                                             general_config: dict) -> None:
    _, _, cells = build_grid("general", {}, ["grad_diff"], ["random"], [0.5], 1, ["steps"],
                             requests=2)
    ctx = RunContext(str(tmp_path), cache_dir, "test")
    from erasus_bench.harness.runner import run_cell

    for c in cells:
        if c.is_reference:
            run_cell(c, ctx)
    run_chain([c for c in cells if not c.is_reference], ctx)
    v = summarise(load_records(tmp_path), "general")["variants"][0]
    assert v["rows"] == []
    seqs = {q["strategy"]: q for q in v["sequences"]}
    assert list(seqs) == ["original", "retrain", "grad_diff"]
    assert [p["request"] for p in seqs["grad_diff"]["points"]] == [1, 2]
    assert seqs["retrain"]["points"][1]["cells"]["avg_gap"]["mean"] == 0
