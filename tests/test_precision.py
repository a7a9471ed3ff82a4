"""Fixed precision: what the statistics read of a value, what pages write, and pages that do
not move when every float of the records moves by a relative 1e-12 (another CPU or BLAS)."""
from __future__ import annotations

import json
import math
import random
import shutil
from pathlib import Path

import pytest
from test_leaderboards import write_results

from erasus_bench.harness.precision import (READ_BITS, fmt_sig, read_clock, read_value,
                                            round_floats, round_sig)
from erasus_bench.leaderboards.render import build_pages

REPO = Path(__file__).resolve().parents[1]


def test_round_sig_and_round_floats() -> None:
    assert round_sig(0.123456789) == 0.123457
    assert round_sig(-1.5558580977971316e-35) == -1.55586e-35
    assert round_sig(0.0) == 0.0 and str(round_sig(-0.0)) == "0.0"
    assert round_sig(float("inf")) == float("inf")
    assert fmt_sig(2 / 3) == "0.666667" and fmt_sig(12345678.0) == "12345700.0"
    data = {"a": [1 / 3, (2 / 3, "x")], "b": {"c": 7, "d": None, "e": True}, "f": 1e-300 / 3}
    assert round_floats(data) == {"a": [0.333333, [0.666667, "x"]],
                                  "b": {"c": 7, "d": None, "e": True}, "f": 3.33333e-301}


def test_read_value_keeps_ties_and_short_decimals() -> None:
    # a timing in whole nanoseconds ends in 5 at the 9th digit: a decimal grid of 8 digits
    # would sit exactly on its rounding boundary; the binary grid does not
    t = 0.104205545
    assert read_value(t * (1 + 1e-12)) == read_value(t * (1 - 1e-12)) == read_value(t)
    for v in (1.0, 0.5, 0.975, 0.9777777777777777, 2.5e-35, 123.456):
        assert read_value(v * (1 + 1e-12)) == read_value(v * (1 - 1e-12)) == read_value(v)
        assert abs(read_value(v) - v) <= v * 2.0 ** -READ_BITS
    assert read_value(0.5) == 0.5 and read_value(0.0) == 0.0
    assert math.isnan(read_value(float("nan")))


def test_read_clock_is_a_fixed_grid_off_the_clock_lattices() -> None:
    assert read_clock(1.0) == 1.0 and read_clock(2.0 ** -17) == 0.0  # a tie, to even
    assert read_clock(3 * 2.0 ** -17) == 2.0 ** -15  # 1.5 cells -> 2 (even)
    # whole nanoseconds ending in 5 at a decimal digit, and a multiple of 2**-36 (the float
    # spacing of seconds since boot) that 27-bit reading puts exactly on a tie: noise stays put
    for t in (0.3039645, 0.0502945, 0.038515836000442505, 1234 * 2.0 ** -36):
        assert read_clock(t * (1 + 1e-12)) == read_clock(t * (1 - 1e-12)) == read_clock(t)


def _perturbed_copy(src: Path, dst: Path, seed: int) -> Path:
    """A copy of the results folder ``src`` with every float (outside config, config_hash and
    env) multiplied by 1 +- 1e-12, as the acceptance check does."""
    rng = random.Random(seed)

    def jig(o):  # noqa: ANN001, ANN202
        if isinstance(o, float):
            return o * (1 + rng.choice((-1, 1)) * 1e-12)
        if isinstance(o, list):
            return [jig(x) for x in o]
        if isinstance(o, dict):
            return {k: (v if k in ("config", "config_hash", "env") else jig(v))
                    for k, v in o.items()}
        return o

    shutil.copytree(src, dst)
    for f in dst.glob("**/*.json"):
        f.write_text(json.dumps(jig(json.loads(f.read_text()))))
    return dst


def _pages(results: Path, out: Path) -> dict[str, bytes]:
    return {k: v for k, v in build_pages(results, out).items() if not k.startswith(".")}


def test_pages_of_synthetic_records_survive_float_noise(tmp_path: Path) -> None:
    results = write_results(tmp_path / "a")
    want = _pages(results, tmp_path / "a" / "leaderboards")
    for seed in (1, 2, 3):
        noisy = _perturbed_copy(results, tmp_path / f"n{seed}" / "results", seed)
        assert _pages(noisy, tmp_path / f"n{seed}" / "leaderboards") == want


@pytest.mark.skipif(not (REPO / "results").is_dir(), reason="no committed results")
def test_committed_pages_survive_float_noise(tmp_path: Path) -> None:
    """Every metric and per-example value of a copy of the committed records moved by a
    relative 1e-12: the rendered pages are byte-identical to the committed pages (which
    `render --check` and ``test_committed`` tie to the records as they are), so CI on another
    machine renders the committed pages."""
    want = {p.name: p.read_bytes() for p in (REPO / "leaderboards").iterdir()
            if p.is_file() and not p.name.startswith(".")}
    noisy = _perturbed_copy(REPO / "results", tmp_path / "noisy" / "results", 7)
    got = _pages(noisy, tmp_path / "noisy" / "leaderboards")
    assert sorted(got) == sorted(want)
    assert [k for k in want if got[k] != want[k]] == []
