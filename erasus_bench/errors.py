"""User-facing errors: the CLI prints them on one line and exits with code 2."""
from __future__ import annotations

import difflib
from collections.abc import Iterable


class UserError(Exception):
    """Bad input from the user (unknown name, value out of range, unreadable folder)."""


def unknown_choice(kind: str, value: object, choices: Iterable[str]) -> UserError:
    """Build the error for an unknown name, with the valid choices and a "did you mean"."""
    valid = sorted(choices)
    close = difflib.get_close_matches(str(value), valid, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return UserError(f"unknown {kind} {value!r}.{hint} Valid choices: {', '.join(valid)}")
