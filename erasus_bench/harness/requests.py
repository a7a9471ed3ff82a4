"""Sequential deletion requests: the forget set split into K disjoint requests, unlearned one
after another by the same model (MUSE's C6 sustainability, for every protocol)."""
from __future__ import annotations

import numpy as np

from erasus_bench.errors import UserError

SPLIT_SALT = 104_729  # the split's generator differs from every other seeded draw of the seed


def check_requests(requests: int, n_forget: int | None = None) -> None:
    """A UserError unless ``requests`` is at least 2 (and at most the forget set's size)."""
    if requests < 2:
        raise UserError(f"--requests {requests} is invalid: a sequence needs at least 2 "
                        "requests (omit --requests for a single one)")
    if n_forget is not None and requests > n_forget:
        raise UserError(f"--requests {requests} is invalid: the forget set has only {n_forget} "
                        f"samples; valid: 2..{n_forget}")


def split_requests(n_forget: int, requests: int, seed: int) -> list[np.ndarray]:
    """``requests`` disjoint parts of ``range(n_forget)`` covering it, sizes differing by at
    most one, drawn by ``seed``; each part sorted."""
    check_requests(requests, n_forget)
    order = np.random.default_rng([seed, SPLIT_SALT]).permutation(n_forget)
    return [np.sort(part) for part in np.array_split(order, requests)]


def request_positions(parts: list[np.ndarray], j: int) -> tuple[np.ndarray, np.ndarray,
                                                                  np.ndarray]:
    """(requests 1..j, requests j+1..K, request j's positions within the first), as sorted
    indices into the forget set."""
    done = np.sort(np.concatenate(parts[:j]))
    pending = np.sort(np.concatenate(parts[j:])) if j < len(parts) else np.array([], np.int64)
    return done, pending, np.searchsorted(done, parts[j - 1])
