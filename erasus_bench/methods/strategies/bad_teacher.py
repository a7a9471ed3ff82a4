"""Bad teaching (Chundawat et al., AAAI 2023, "Can Bad Teaching Induce Forgetting? Unlearning
in Deep Networks Using an Incompetent Teacher")."""
from __future__ import annotations

import copy
import math

import torch
from torch import nn

from erasus_bench.methods.examples import Batch, Examples
from erasus_bench.methods.strategies._common import (EXTRA_SALT, FORGET_SALT, RETAIN_SALT,
                                                     kl_per_example, make_optimizer, optimize)
from erasus_bench.methods.strategies.base import CLASSIFIER_ONLY, Strategy, register_strategy
from erasus_bench.methods.task import UnlearnTask

ORIGIN = "is_forget"  # per-sample origin flag of the unlearning set (1 = forget, 0 = retain)


def incompetent_teacher(model: nn.Module, generator: torch.Generator) -> nn.Module:
    """A frozen copy of ``model``'s architecture with every submodule's ``reset_parameters()``
    re-run under a seed drawn from ``generator`` (global RNG state is left untouched)."""
    teacher = copy.deepcopy(model)
    seed = int(torch.randint(0, 2 ** 62, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for module in teacher.modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
    return teacher.requires_grad_(False).eval()


def unlearning_set(task: UnlearnTask, retain_fraction: float) -> Examples:
    """The reference's ``UnLearningData``: the forget coreset plus a random ``retain_fraction``
    of retain (drawn once), each sample flagged by origin."""
    n = len(task.retain)
    pick = torch.randperm(n, generator=task.generator(RETAIN_SALT))[:int(retain_fraction * n)]
    subset = task.retain.subset(pick.sort().values.numpy())

    def flagged(ex: Examples, origin: float) -> Examples:
        return Examples({**ex.tensors, ORIGIN: torch.full((len(ex),), origin)})

    return flagged(task.forget, 1.0).concat(flagged(subset, 0.0))


def bad_teacher_loss(student: torch.Tensor, competent: torch.Tensor, incompetent: torch.Tensor,
                     is_forget: torch.Tensor, temperature: float) -> torch.Tensor:
    """The reference's ``UnlearnerLoss``: KL(teacher || student) of T-softened outputs, the
    teacher being the incompetent one on forget samples and the competent one on retain, with
    ``kl_div``'s default mean reduction (over samples and classes; no T^2)."""
    teacher = torch.where(is_forget.bool()[:, None], incompetent, competent)
    kl = kl_per_example(student, teacher, temperature) / temperature ** 2
    return kl.mean() / student.shape[-1]


@register_strategy("bad_teacher", description="distil from the original on retain and from a "
                   "random network on forget", modalities=CLASSIFIER_ONLY)
class BadTeacher(Strategy):
    """As the reference (``unlearn.py``, ``blindspot_unlearner``; Adam 1e-4, T 1, batch 256,
    one epoch): one shuffled loader over the forget coreset + a ``retain_fraction`` (0.3) subset
    of retain, each batch distilled by ``bad_teacher_loss`` (competent teacher =
    ``task.original``, incompetent = a randomly initialised copy); epochs (reshuffled passes)
    are repeated or truncated to fill ``steps``."""

    paper = "Chundawat et al. 2023"

    def __init__(self, steps: int = 150, batch_size: int = 256, lr: float = 1e-4,
                 optimizer: str = "adam", temperature: float = 1.0,
                 retain_fraction: float = 0.3) -> None:
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.temperature = temperature
        self.retain_fraction = retain_fraction

    def steps_for_epochs(self, task: UnlearnTask, epochs: float) -> int:
        """Steps of ``epochs`` passes over the reference's one loader (coreset + the fixed
        ``retain_fraction`` share of retain)."""
        n = len(task.forget) + int(self.retain_fraction * len(task.retain))
        return max(1, round(epochs * math.ceil(n / min(self.batch_size, n))))

    def unlearn(self, task: UnlearnTask) -> nn.Module:
        model, ad = task.model, task.adapter
        bad = incompetent_teacher(task.original, task.generator(EXTRA_SALT))
        data = unlearning_set(task, self.retain_fraction).stream(self.batch_size,
                                                                 task.generator(FORGET_SALT))

        def loss(t: int) -> torch.Tensor:
            batch: Batch = next(data)
            with torch.no_grad():
                good_out, bad_out = ad.logits(task.original, batch), ad.logits(bad, batch)
            return bad_teacher_loss(ad.logits(model, batch), good_out, bad_out, batch[ORIGIN],
                                    self.temperature)

        return optimize(model, make_optimizer(model, self.optimizer, self.lr), self.steps, loss)
