"""A dataset as a dict of equal-length tensors, with index-preserving subsets and batching."""
from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

import numpy as np
import torch

Batch = dict[str, torch.Tensor]


class Examples:
    """Equal-length tensors (e.g. ``x``/``y`` or ``input_ids``/``labels``) indexed along dim 0."""

    def __init__(self, tensors: dict[str, torch.Tensor]) -> None:
        lengths = {k: len(v) for k, v in tensors.items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"tensors of unequal length: {lengths}")
        self.tensors = tensors

    def __len__(self) -> int:
        return len(next(iter(self.tensors.values())))

    def __getitem__(self, idx: Sequence[int] | np.ndarray | torch.Tensor) -> Batch:
        index = torch.as_tensor(np.asarray(idx, dtype=np.int64))
        return {k: v[index] for k, v in self.tensors.items()}

    def subset(self, idx: Sequence[int] | np.ndarray) -> Examples:
        """The examples at ``idx`` (positions into this set), in that order."""
        return Examples(self[idx])

    def concat(self, other: Examples) -> Examples:
        """These examples followed by ``other``'s (same keys)."""
        return Examples({k: torch.cat([v, other.tensors[k]]) for k, v in self.tensors.items()})

    def batches(
        self, batch_size: int, *, shuffle: bool = False, generator: torch.Generator | None = None
    ) -> Iterator[Batch]:
        """One pass over the examples in batches (shuffled with ``generator`` when asked)."""
        n = len(self)
        order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
        for start in range(0, n, batch_size):
            yield self[order[start:start + batch_size]]

    def stream(self, batch_size: int, generator: torch.Generator) -> Iterator[Batch]:
        """An endless stream of shuffled batches (epoch after epoch), for step-budgeted training."""
        while True:
            yield from self.batches(min(batch_size, len(self)), shuffle=True, generator=generator)

    def fingerprint(self) -> str:
        """SHA-256 (truncated) of the keys, dtypes, shapes and bytes of every tensor."""
        h = hashlib.sha256()
        for k in sorted(self.tensors):
            t = self.tensors[k].detach().cpu().contiguous()
            h.update(f"{k}:{t.dtype}:{tuple(t.shape)}".encode())
            h.update(t.numpy().tobytes())
        return h.hexdigest()[:24]
