"""Fixed precision, so that what is published is a stable function of the records.

Another CPU or BLAS build changes a float in its last digits; a page must not. Two roundings do it:

* **reading**: every per-seed value enters the statistics with its binary mantissa rounded to
  ``READ_BITS`` bits (about 8 significant digits; :func:`read_value`), so values that are equal
  in the records stay equal (ties, identical rows) whatever noise sits below that bit, and tests
  and intervals see the same numbers. A binary grid, not a decimal one: recorded values are often
  short decimals (timings in whole nanoseconds, accuracies), which a decimal grid would put
  exactly on its rounding boundaries, where any noise decides. Ranks compare values read to
  ``RANK_BITS`` bits (about 6 digits): a value flips across a grid boundary with probability
  ~ noise / grid spacing, and a flip that breaks an exact tie (forget-quality p-values of equal
  KS statistics) moves a mean rank by a visible step, so ranks take the coarser grid;
* **writing**: every float a page, its JSON or CSV carries is rounded to ``SIG_DIGITS``
  significant digits (:func:`round_floats`), sort keys and plot geometry included.

Both are exact IEEE operations (``frexp``/``ldexp``, correctly rounded decimal formatting),
identical on every platform.
"""
from __future__ import annotations

import math
from typing import Any

SIG_DIGITS = 6  # what pages, summary JSON and CSV carry
READ_BITS = 27  # mantissa bits the statistics read of each per-seed value
RANK_BITS = 20  # mantissa bits ranks compare: a tie broken by noise moves a mean rank visibly
LOG_FLOOR = 1e-300  # p-values of exactly 0 map to log10 = -300 instead of -inf


def round_sig(x: float, digits: int = SIG_DIGITS) -> float:
    """``x`` rounded to ``digits`` significant digits (non-finite values unchanged; -0.0 -> 0.0)."""
    if not math.isfinite(x) or x == 0:
        return x + 0.0
    return float(f"{x:.{digits - 1}e}") + 0.0


def read_value(x: float, bits: int = READ_BITS) -> float:
    """A per-seed metric value as the statistics read it: mantissa rounded to ``bits`` bits
    (ties to even); non-finite values unchanged."""
    x = float(x)
    if not math.isfinite(x) or x == 0:
        return x + 0.0
    mantissa, exponent = math.frexp(x)
    return math.ldexp(round(math.ldexp(mantissa, bits)), exponent - bits)


CLOCK_BITS = 16  # wall-clock seconds are read as multiples of 2**-16 s (about 15 us)


def read_clock(x: float, bits: int = CLOCK_BITS) -> float:
    """A measured time (or a ratio of times) as the statistics read it: a fixed-point multiple
    of ``2**-bits`` (ties to even). Clock readings lie on lattices (whole nanoseconds; the float
    spacing of a clock's seconds since boot) whose points fall exactly on the rounding ties of
    any relative binary or decimal grid of their magnitude, where noise decides; a fixed grid
    far coarser than either lattice has no lattice point on a tie."""
    x = float(x)
    if not math.isfinite(x):
        return x
    return math.ldexp(round(math.ldexp(x, bits)), -bits) + 0.0


def round_floats(obj: Any, digits: int = SIG_DIGITS) -> Any:
    """``obj`` (JSON-like: dicts, lists, tuples, scalars) with every float rounded to
    ``digits`` significant digits; tuples become lists, everything else is kept."""
    if isinstance(obj, float):
        return round_sig(obj, digits)
    if isinstance(obj, dict):
        return {k: round_floats(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [round_floats(v, digits) for v in obj]
    return obj


def fmt_sig(x: float, digits: int = SIG_DIGITS) -> str:
    """Shortest text of ``x`` rounded to ``digits`` significant digits (``repr`` style)."""
    return repr(round_sig(float(x), digits))
