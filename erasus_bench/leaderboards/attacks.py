"""What the pages show of the attack stages (issue [9]), computed from the records: the stages
each row ran, the "relearns" flag, the relearning curves and the stages' settings."""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from erasus_bench.harness.precision import read_value, round_floats

RELEARN_FLAG = 0.5  # a PASS row whose mean relearn recovery is above this (and the retrain
# row's CI) is flagged: it passes on plain metrics but relearning brings most of it back


def row_stages(recs: Sequence[dict[str, Any]]) -> list[str]:
    """The attack stages every ok record of a row ran (config.attacks)."""
    ok = [set(r["config"].get("attacks") or ()) for r in recs if r.get("status") == "ok"]
    return sorted(set.intersection(*ok)) if ok else []


def add_flags(rows: list[dict[str, Any]]) -> None:
    """``row["flags"]``: ``["relearns"]`` for a PASS row whose mean ``relearn_recovery`` is
    above ``RELEARN_FLAG`` and whose CI lies above the retrain row's (relearning any model,
    the retrained one included, teaches some of the forget set back: only more than that
    counts), else ``[]``."""
    gold = next((r["cells"].get("relearn_recovery") for r in rows
                 if r["strategy"] == "retrain"), None)
    for row in rows:
        c = row["cells"].get("relearn_recovery")
        verdict = (row.get("verdict") or {}).get("label")
        above = (c is not None and gold is not None and c["mean"] > RELEARN_FLAG
                 and (c["lo"] if c["lo"] is not None else c["mean"])
                 > (gold["hi"] if gold["hi"] is not None else gold["mean"]))
        row["flags"] = ["relearns"] if verdict == "PASS" and above else []


def relearn_samples(groups: list[list[dict[str, Any]]], rows: list[dict[str, Any]]
                    ) -> tuple[dict[str, Any] | None, list[tuple[Any, int, list[float]]]]:
    """The relearning curves to summarise: the retrain row and every row that unlearned the
    whole forget set (selector ``full``) that share one schedule. Returns (the curve block
    without cells, [(line index or "original", step, per-seed values)]): each line's values per
    step over its ok records, and the original model's value once per seed."""
    picked = [(row, [r for r in g if r.get("status") == "ok"
                     and (r.get("attacks") or {}).get("relearn")])
              for row, g in zip(rows, groups)
              if row["strategy"] == "retrain" or row["selector"] == "full"]
    picked = [(row, recs) for row, recs in picked if recs]
    schedules = {json.dumps(r["attacks"]["relearn"]["steps"]) for _, recs in picked for r in recs}
    if not picked or len(schedules) != 1 or not any(row["strategy"] == "retrain"
                                                  for row, _ in picked):
        return None, []
    steps = json.loads(schedules.pop())
    samples: list[tuple[Any, int, list[float]]] = []
    original: dict[Any, float] = {}
    lines = []
    for i, (row, recs) in enumerate(picked):
        lines.append({k: row[k] for k in ("strategy", "display", "selector", "budget",
                                          "fraction", "reference")})
        for j, step in enumerate(steps):
            samples.append((i, step, [read_value(r["attacks"]["relearn"]["curve"][j])
                                      for r in recs]))
        for r in recs:
            original.setdefault(r["config"].get("seed"), r["attacks"]["relearn"]["original"])
    samples += [("original", step, [read_value(v) for _, v in sorted(original.items(),
                                                                        key=str)])
                for step in steps]
    metric = picked[0][1][0]["attacks"]["relearn"].get("metric") or "attack metric"
    return {"metric": metric, "steps": steps, "lines": lines, "original": {}}, samples


def stage_settings(recs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Stage -> the distinct settings its records ran with (and the attack metric), their
    numbers rounded as the pages round them (a setting read back from another machine's
    record may differ in its last bits)."""
    found: dict[str, set[str]] = defaultdict(set)
    for r in recs:
        for stage, info in (r.get("attacks") or {}).items():
            found[stage].add(json.dumps(round_floats({"settings": info.get("settings"),
                                                      "metric": info.get("metric")}),
                                        sort_keys=True))
    return {stage: [json.loads(s) for s in sorted(v)] for stage, v in sorted(found.items())}
