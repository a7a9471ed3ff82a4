"""`erasus-bench tune`: equal trials per strategy, held-out seeds, the best trial chosen by the
protocol's objective, written beside the protocol and read back by `run` with its provenance."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from erasus_bench.errors import UserError
from erasus_bench.harness.executors.spec import ExecutorSpec
from erasus_bench.harness.grid import applicable, build_grid
from erasus_bench.harness.run import run_grid
from erasus_bench.harness.tuning import choose, plan_tuning
from erasus_bench.protocols.general.protocol import GeneralProtocol
from erasus_bench.protocols.tofu.hparams import OBJECTIVE
from erasus_bench.protocols.tuned import TUNING_SEED_BASE
from erasus_bench.registry import PROTOCOLS, STRATEGIES


@pytest.fixture
def tuned_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Tuned files go to a temporary folder (named as the protocol's package) instead of the
    protocol package."""
    folder = tmp_path / "general"
    folder.mkdir()
    monkeypatch.setattr("erasus_bench.protocols.tuned.protocol_dir", lambda cls: folder)
    return folder


def test_every_strategy_gets_the_same_trials_on_tuning_seeds() -> None:
    plan = plan_tuning("general", {}, None, 2)
    assert plan.seeds == (TUNING_SEED_BASE, TUNING_SEED_BASE + 1)
    per = {t.strategy: sum(u.strategy == t.strategy for u in plan.trials) for t in plan.trials}
    assert len(per) >= 10 and set(per.values()) == {9}
    assert all(c.seed >= TUNING_SEED_BASE for c in plan.cells)
    assert all({(c.selector, c.fraction) for c in t.cells} == {("random", 0.1), ("full", 1.0)}
               for t in plan.trials)


def test_unequal_search_spaces_and_reported_seeds_in_the_tuning_range_are_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def space(self, strategy, hp):
        return {"lr": [1e-3, 1e-2, 1e-1][: 2 if strategy == "finetune" else 3]}

    monkeypatch.setattr(GeneralProtocol, "search_space", space)
    with pytest.raises(UserError, match="same number of trials"):
        plan_tuning("general", {}, ["finetune", "gradient_ascent"], 1)
    with pytest.raises(UserError, match="--seeds 1001"):
        build_grid("general", {}, ["finetune"], ["random"], [0.1], TUNING_SEED_BASE + 1)


def test_tune_chooses_the_best_trial_and_run_records_where_it_came_from(
        tuned_dir: Path, tmp_path: Path, cache_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(GeneralProtocol, "search_space",
                        lambda self, s, hp: {"lr": [1e-7, 3e-4], "steps": [30]})
    plan = plan_tuning("general", {}, ["gradient_ascent", "grad_diff"], 1)
    results = tmp_path / "trials"
    run_grid(plan.cells, plan.config, results_dir=results, cache_dir=cache_dir,
             engine=ExecutorSpec(workers=1))
    entry = choose(plan, results, "erasus-bench tune --protocol general")
    log = json.loads((tuned_dir / "tuning_log.json").read_text())["variants"]["digits_random"]
    for strategy, trials in log.items():
        assert len(trials) == 2 and all(len(t["cells"]) == 2 for t in trials)
        # the objective recomputed from the logged metrics: minimise the mean avg_gap
        scores = [-np.mean([c["metrics"]["avg_gap"] for c in t["cells"]]) for t in trials]
        best = trials[int(np.argmax(scores))]["values"]
        assert entry["strategies"][strategy]["hparams"] == best
        assert math.isclose(entry["strategies"][strategy]["score"], max(scores), rel_tol=1e-5)
    _, _, cells = build_grid("general", {}, ["gradient_ascent"], ["random"], [0.1], 2)
    methods = [c for c in cells if not c.is_reference]
    chosen = entry["strategies"]["gradient_ascent"]["hparams"]
    assert all(c.hparams["lr"] == chosen["lr"] and c.hparams["steps"] == 30 for c in methods)
    source = methods[0].hparams_source
    assert source == {"tuned_on_seeds": [TUNING_SEED_BASE], "trials": 2,
                      "objective": GeneralProtocol().tuning_objective().description}
    assert not {c.seed for c in methods} & set(source["tuned_on_seeds"])
    assert methods[0].config()["hparams_source"] == source
    # tuning one strategy later (its trials' records are already there) keeps the others'
    again = choose(plan_tuning("general", {}, ["gradient_ascent"], 1), results,
                   "erasus-bench tune --protocol general --strategies gradient_ascent")
    kept = again["strategies"]["grad_diff"]
    assert kept["hparams"] == entry["strategies"]["grad_diff"]["hparams"]
    assert kept["command"] == "erasus-bench tune --protocol general"
    assert again["strategies"]["gradient_ascent"]["command"].endswith("gradient_ascent")
    assert again["command"] == "erasus-bench tune --protocol general"


@pytest.mark.parametrize("name", [e.name for e in PROTOCOLS.entries()])
def test_every_strategy_of_a_default_board_runs_with_tuned_values(name: str) -> None:
    protocol = PROTOCOLS.get(name)()
    config = protocol.resolve_config({})
    untuned = [s for s in applicable(STRATEGIES, protocol, None)
               if protocol.resolved_hparams(s, config, "steps")[1] is None]
    assert not untuned, f"run `erasus-bench tune --protocol {name} --strategies ...` for {untuned}"


def test_tofu_objective_prefers_forget_quality_only_at_retained_utility() -> None:
    base = [{"model_utility": 0.5}]
    kept = [{"model_utility": 0.46, "forget_quality": 1e-3}]  # 92% of the base's utility
    lost = [{"model_utility": 0.40, "forget_quality": 0.5}]  # 80%: below the floor
    assert OBJECTIVE.score(kept, base) == pytest.approx(-3.0)
    assert OBJECTIVE.score(lost, base) < OBJECTIVE.score(kept, base)
    worse = [{"model_utility": 0.30, "forget_quality": 0.9}]
    assert OBJECTIVE.score(worse, base) < OBJECTIVE.score(lost, base)


def test_protocols_sharing_a_package_keep_separate_tuned_files() -> None:
    from erasus_bench.protocols.tuned import tuning_files
    from erasus_bench.protocols.wmdp.protocol import WmdpBioProtocol, WmdpCyberProtocol

    bio, cyber = tuning_files(WmdpBioProtocol), tuning_files(WmdpCyberProtocol)
    assert bio[0].name == "tuned-wmdp-bio.json" and cyber[1].name == "tuning_log-wmdp-cyber.json"
    assert tuning_files(GeneralProtocol)[0].name == "tuned.json"
