"""What a strategy and a selector are given: the model, the data they may touch, the adapter."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from erasus_bench.methods.adapter import ModelAdapter
from erasus_bench.methods.examples import Examples
from erasus_bench.methods.training_run import TrainingRun

# classifier: labelled samples; causal_lm: question/answer pairs (labels on the answer);
# lm_corpus: text passages of a causal LM (every token a label: WMDP, MUSE)
LM_MODALITIES = ("causal_lm", "lm_corpus")
ALL_MODALITIES = ("classifier", *LM_MODALITIES)


@dataclass
class UnlearnTask:
    """Inputs of one unlearning run.

    ``model`` is a private copy of the base model that the strategy may modify and return;
    ``original`` is a frozen copy of the base model (teacher for distillation methods);
    ``forget`` holds only the coreset the selector chose; ``retain`` is the retain split;
    ``full_forget`` is the whole forget set, only for methods whose reference code reads the
    whole training set (SSD's importances over D = retain + forget); the forgetting itself
    uses ``forget``. ``training_run`` is the base model's training run where the protocol
    provides one (else None: methods needing it are classifier-only); ``coreset_pos`` are the
    positions of ``forget`` in the unlearning pool, so its positions in the training set are
    ``training_run.pool_pos[coreset_pos]``.
    """

    model: nn.Module
    original: nn.Module
    forget: Examples
    retain: Examples
    adapter: ModelAdapter
    seed: int
    num_classes: int | None = None
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    full_forget: Examples | None = None
    training_run: TrainingRun | None = None
    coreset_pos: np.ndarray | None = None

    def training_set(self) -> Examples:
        """Retain + the full forget set (retain + coreset when ``full_forget`` is not given)."""
        return self.retain.concat(self.full_forget if self.full_forget is not None
                                  else self.forget)

    def generator(self, salt: int = 0) -> torch.Generator:
        """A torch generator seeded from the cell seed (``salt`` separates independent streams)."""
        return torch.Generator().manual_seed(self.seed * 1_000_003 + salt)


@dataclass
class SelectionContext:
    """Inputs of one coreset selection: the base model (read only) and the full forget set.

    ``early_models`` are checkpoints from early in base training (several runs; Paul et al.'s
    score networks) when the protocol provides them, else empty; ``early_train_s`` is what
    training them cost, charged to the selectors that read them; ``training_run`` is the base
    model's training run where the protocol provides one (``forget`` is its unlearning pool).
    """

    model: nn.Module
    forget: Examples
    adapter: ModelAdapter
    seed: int
    num_classes: int | None = None
    early_models: tuple[nn.Module, ...] = ()
    early_train_s: float = 0.0
    training_run: TrainingRun | None = None

    def score_models(self) -> tuple[nn.Module, ...]:
        """The early checkpoints, or the base model alone when there are none."""
        return self.early_models or (self.model,)

    def generator(self, salt: int = 0) -> torch.Generator:
        """A torch generator seeded from the cell seed."""
        return torch.Generator().manual_seed(self.seed * 1_000_003 + 7919 + salt)
