"""Incremental rendering: per-protocol digests, reuse of unchanged protocols, pages written only
when their bytes change, and records that cannot be read named instead of skipped."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import erasus_bench
from test_leaderboards import make_record, write_results

from erasus_bench.harness.store import BadRecords, scan_records
from erasus_bench.leaderboards import render as R


def _add_protocol(results: Path, name: str = "other") -> None:
    """A second protocol's records (an unregistered name: no card, rendered all the same)."""
    for seed in range(3):
        for strategy in ("original", "retrain"):
            rec = make_record(strategy, None, None, seed, 0.1 * (strategy == "original"))
            rec["protocol"] = name
            path = results / name / "v" / f"{strategy}__s{seed}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(rec))


def test_unchanged_protocols_are_reused_and_nothing_is_rewritten(tmp_path: Path) -> None:
    results = write_results(tmp_path)
    _add_protocol(results)
    out = tmp_path / "leaderboards"
    first = R.render(results, out)
    assert {p.name for p in first} >= {"general.json", "other.json", "index.html", R.DIGEST}
    digests = R.read_digests(out)
    assert set(digests) == {"general", "other"} and digests == R.protocol_digests(results)
    plan = R.plan_render(results, out)
    assert plan.rendered == [] and plan.reused == ["general", "other"]
    assert R.render(results, out) == []  # up to date: no file touched
    # a changed record of one protocol: only its pages, the index and the digest are redone
    path = next(results.glob("other/v/original__s0.json"))
    rec = json.loads(path.read_text())
    rec["metrics"]["avg_gap"] = 0.5
    path.write_text(json.dumps(rec))
    plan = R.plan_render(results, out)
    assert plan.rendered == ["other"] and plan.reused == ["general"]
    written = {p.name for p in R.render(results, out)}
    assert {"other.json", "other.csv", "other.md", "other.html", R.DIGEST} <= written
    assert not any(n.startswith("general") for n in written)
    assert R.read_digests(out)["other"] != digests["other"]
    # the index built from the reused summary is the index of a full render
    fresh = R.build_pages(results, out)
    assert all((out / name).read_bytes() == data for name, data in fresh.items())


def test_rendering_one_protocol_leaves_the_others_pages(tmp_path: Path) -> None:
    results = write_results(tmp_path)
    _add_protocol(results)
    out = tmp_path / "leaderboards"
    written = {p.name for p in R.render(results, out, ["general"])}
    assert "general.html" in written and "index.html" in written
    assert not any(n.startswith("other") for n in written)
    assert set(R.read_digests(out)) == {"general"}  # other's pages were never rendered
    with pytest.raises(R.UserError, match="no records for protocol"):
        R.render(results, out, ["nope"])


def test_a_deleted_page_or_changed_code_forces_a_render(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    results = write_results(tmp_path)
    out = tmp_path / "leaderboards"
    R.render(results, out)
    (out / "general_tradeoff.svg").unlink()
    assert R.plan_render(results, out).rendered == ["general"]
    R.render(results, out)
    monkeypatch.setattr(R, "code_digest", lambda: "another version of the page code")
    assert R.plan_render(results, out).rendered == ["general"]


@pytest.mark.parametrize("corrupt, reason", [
    (lambda t: t[:80], "not readable as JSON"),
    (lambda t: "[1, 2]", "not a JSON object"),
    (lambda t: json.dumps({k: v for k, v in json.loads(t).items() if k != "status"}),
     "missing contract field(s) status"),
    (lambda t: json.dumps({**json.loads(t), "schema": "other/1"}), "schema 'other/1'"),
    (lambda t: json.dumps({**json.loads(t), "protocol": "tofu"}), "filed under general/"),
    (lambda t: json.dumps({**json.loads(t), "metrics": {"avg_gap": "0.1"}}), "plain numbers"),
])
def test_bad_records_are_named(tmp_path: Path, corrupt, reason: str) -> None:  # noqa: ANN001
    results = write_results(tmp_path)
    path = sorted(results.glob("general/**/*.json"))[0]
    path.write_text(corrupt(path.read_text()))
    records, bad = scan_records(results)
    assert [b.path for b in bad] == [path.relative_to(results).as_posix()]
    assert reason in bad[0].reason and len(records) == 16
    with pytest.raises(BadRecords, match=path.name):
        R.build_pages(results, tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing written
    with pytest.warns(UserWarning, match=path.name):
        assert len(erasus_bench.load_results(results)["path"].unique()) == 16


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "erasus_bench.cli", *args], cwd=cwd,
                          capture_output=True, text=True, env=dict(os.environ))


def test_render_and_check_exit_1_naming_a_truncated_record(tmp_path: Path) -> None:
    results = write_results(tmp_path)
    assert _cli(["render"], tmp_path).returncode == 0
    path = sorted(results.glob("general/**/*.json"))[0]
    path.write_text(path.read_text()[:80])
    for args in (["render"], ["render", "--check"], ["render", "--force"],
                 ["report", "--protocol", "general", "--format", "csv"]):
        r = _cli(args, tmp_path)
        assert r.returncode == 1, (args, r.stderr)
        assert path.name in r.stderr and "not readable as JSON" in r.stderr
        assert "Traceback" not in r.stderr
