"""SISA training (Bourtoule, Chandrasekaran, Choquette-Choo, Jia, Travers, Zhang, Lie & Papernot,
IEEE S&P 2021, "Machine Unlearning"): Sharded, Isolated, Sliced and Aggregated constituent
models; a deletion retrains only the shards that held the deleted points, each from the
checkpoint saved before the first slice that held one."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from erasus_bench.methods.examples import Examples
from erasus_bench.methods.strategies.base import CLASSIFIER_ONLY, Strategy, register_strategy
from erasus_bench.methods.task import UnlearnTask
from erasus_bench.methods.training_run import BaseRecipe

Checkpoint = dict[str, Any]  # {"model": state dict, "optim": Adam state dict}


@dataclass
class SisaState:
    """What a SISA deployment keeps: the shard/slice plan (positions in the training set), the
    checkpoints of each shard (before slice 0, then after each slice) and the positions
    deleted so far."""

    plan: list[list[np.ndarray]]
    checkpoints: list[list[Checkpoint]]
    removed: np.ndarray


def partition(n: int, shards: int, slices: int, seed: int) -> list[list[np.ndarray]]:
    """Positions ``0..n-1`` in a seeded random order, cut into ``shards`` near-equal shards and
    each shard into ``slices`` near-equal slices (the reference's uniform ``distribution.py``
    split, of a shuffled set)."""
    order = np.random.default_rng(seed).permutation(n)
    return [np.array_split(shard, slices) for shard in np.array_split(order, shards)]


def slice_epochs(slices: int, epochs: int) -> list[int]:
    """Epochs of each slice, as the reference's ``sisa.py``: on average ``2 R / (R + 1) *
    epochs / R`` per slice, slice r taking ``int((r + 1) a) - int(r a)`` of them (R = 1 gives
    ``epochs``; later slices see more data for the same epochs)."""
    avg = 2 * epochs / (slices + 1)
    return [int((r + 1) * avg) - int(r * avg) for r in range(slices)]


def first_affected(slices: list[np.ndarray], removed: np.ndarray) -> int | None:
    """Index of the first slice holding a position of ``removed``, or None."""
    hits = [r for r, sl in enumerate(slices) if np.isin(sl, removed).any()]
    return hits[0] if hits else None


def checkpoint(model: nn.Module, optimizer: torch.optim.Optimizer) -> Checkpoint:
    """Deep copies of the model's and the optimizer's state."""
    return {"model": copy.deepcopy(model.state_dict()),
            "optim": copy.deepcopy(optimizer.state_dict())}


def train_shard(model: nn.Module, data: Examples, slices: list[np.ndarray], removed: np.ndarray,
                checkpoints: list[Checkpoint], start: int, epochs: list[int], lr: float,
                recipe: BaseRecipe, seed: int) -> list[Checkpoint]:
    """Train one shard incrementally from ``checkpoints[start]``: slice r trains ``epochs[r]``
    epochs (the base recipe's Adam, batch size and weight decay, shuffled by a generator
    seeded from ``seed`` and r) on slices ``0..r`` minus ``removed``. Returns
    ``checkpoints[:start + 1]`` followed by one checkpoint after each slice trained. ``model``
    ends with the last slice's weights."""
    model.load_state_dict(checkpoints[start]["model"])
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=recipe.weight_decay)
    opt.load_state_dict(checkpoints[start]["optim"])
    out = list(checkpoints[:start + 1])
    model.train()
    for r in range(start, len(slices)):
        keep = np.setdiff1d(np.concatenate(slices[:r + 1]), removed)
        part = data.subset(keep)
        gen = torch.Generator().manual_seed(seed * 1_000_003 + r)
        for _ in range(epochs[r]):
            for batch in part.batches(recipe.batch_size, shuffle=True, generator=gen):
                opt.zero_grad()
                F.cross_entropy(model(batch["x"]), batch["y"]).backward()
                opt.step()
        out.append(checkpoint(model, opt))
    model.zero_grad(set_to_none=True)
    model.eval()
    return out


def shard_seed(seed: int, shard: int) -> int:
    """The initialisation and shuffling seed of one shard's constituent."""
    return seed * 7_919 + shard


def train_sisa(data: Examples, plan: list[list[np.ndarray]], removed: np.ndarray, epochs: int,
               lr: float, recipe: BaseRecipe, seed: int) -> SisaState:
    """SISA training from scratch: one freshly initialised model of the base architecture per
    shard, trained slice by slice on the shard minus ``removed``."""
    per_slice = slice_epochs(len(plan[0]), epochs)
    ckpts = []
    for s, slices in enumerate(plan):
        model = recipe.init_model(shard_seed(seed, s))
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=recipe.weight_decay)
        ckpts.append(train_shard(model, data, slices, removed, [checkpoint(model, opt)], 0,
                                 per_slice, lr, recipe, shard_seed(seed, s)))
    return SisaState(plan, ckpts, np.asarray(removed, dtype=np.int64))


class SisaEnsemble(nn.Module):
    """The constituents' aggregate. ``forward`` returns the log of each class's share of the
    constituents' argmax votes (uniform weights, the reference's default ``argmax`` outputs and
    ``uniform`` aggregation; its argmax is the majority vote, ties to the lower class as
    ``np.argmax``), smoothed by one pseudo-vote spread over the classes so that losses stay
    finite. Gradients are those of the constituents' mean softmax (straight-through), so
    fine-tuning attacks can still train it. ``sisa`` keeps the deployment's state (not in the
    state dict) for later deletions."""

    def __init__(self, members: list[nn.Module], sisa: SisaState) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        self.sisa = sisa

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = torch.stack([m(x) for m in self.members])
        soft = logits.softmax(-1)
        hard = F.one_hot(logits.argmax(-1), logits.shape[-1]).to(soft.dtype)
        votes = (hard + soft - soft.detach()).sum(0)
        k, c = len(self.members), logits.shape[-1]
        return torch.log((votes + 1 / c) / (k + 1))


@register_strategy("sisa", description="SISA: shard/slice constituents trained with checkpoints; "
                   "retrain the shards that held the coreset (exact; Bourtoule et al. 2021)",
                   modalities=CLASSIFIER_ONLY)
class Sisa(Strategy):
    """Exact unlearning by SISA training. At training time (``task.training_run.artifact``, a
    training-time cost) the base training set is split at random into ``shards`` shards of
    ``slices`` slices; each shard's constituent (the base MLP architecture and recipe: Adam,
    batch 64, weight decay 1e-4, at ``lr``) trains incrementally slice by slice, checkpointed
    (weights and Adam state) before the first and after every slice. Unlearning removes the
    coreset (positions ``pool_pos[coreset_pos]`` of the training set) from its shards and
    retrains each affected shard from the checkpoint before its first affected slice; the
    result is the SISA ensemble trained without those points, bit for bit (same plan, same
    seeds). A model that is already a ``SisaEnsemble`` (a sequence of deletion requests)
    continues from its own checkpoints.

    The starting point is the SISA ensemble (``SisaEnsemble``: majority vote of the
    constituents), not the base MLP: its accuracy before any deletion is the ensemble's, lower
    than one model trained on all the data, and that is part of SISA's result.

    Defaults from the reference (cleverhans-lab/machine-unlearning): S = 5 shards (its example
    scripts) and R = 1 slice (``sisa.py``'s default, used by the scripts; R > 1 follows its
    epoch schedule, ``slice_epochs``), argmax outputs with uniform vote weights. S = 5 leaves
    ~260 samples per shard of our ~1,300: no scaling needed. Deliberate deviation: constituents
    use the base model's architecture and recipe (the reference's Purchase MLP trains 20 epochs
    of SGD lr 1e-3, batch 16), so ``shard_epochs``/``lr`` default to the recipe's 60 and 1e-3.
    """

    paper = "Bourtoule et al. 2021"
    guarantee = "exact"

    def __init__(self, shards: int = 5, slices: int = 1, shard_epochs: int = 60,
                 lr: float = 1e-3) -> None:
        self.shards = shards
        self.slices = slices
        self.shard_epochs = shard_epochs
        self.lr = lr

    def unlearn(self, task: UnlearnTask) -> nn.Module:
        run = task.training_run
        if run is None or task.coreset_pos is None:
            raise ValueError("sisa needs the base model's training run (classifier protocols)")
        recipe = run.recipe
        if recipe is None:
            raise ValueError("sisa needs how the base model was trained (the protocol's recipe)")
        if isinstance(task.model, SisaEnsemble):
            state, template = task.model.sisa, task.model.members[0]
        else:
            params = {"shards": self.shards, "slices": self.slices, "epochs": self.shard_epochs,
                      "lr": self.lr, "recipe": recipe.key}
            state = run.artifact("sisa", params, lambda: train_sisa(
                run.train, partition(len(run.train), self.shards, self.slices, run.seed),
                np.zeros(0, dtype=np.int64), self.shard_epochs, self.lr, recipe, run.seed))
            template = task.model
        new = np.asarray(run.pool_pos)[np.asarray(task.coreset_pos)]
        removed = np.union1d(state.removed, new)
        per_slice = slice_epochs(len(state.plan[0]), self.shard_epochs)
        ckpts = []
        for s, slices in enumerate(state.plan):
            start = first_affected(slices, new)
            ckpts.append(state.checkpoints[s] if start is None else train_shard(
                copy.deepcopy(template), run.train, slices, removed, state.checkpoints[s], start,
                per_slice, self.lr, recipe, shard_seed(run.seed, s)))
        members = []
        for c in ckpts:
            member = copy.deepcopy(template)
            member.load_state_dict(c[-1]["model"])
            members.append(member.eval())
        return SisaEnsemble(members, SisaState(state.plan, ckpts, removed)).eval()
