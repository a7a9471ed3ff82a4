"""The strategy contract and its registration decorator."""
from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

from torch import nn

from erasus_bench.methods.task import ALL_MODALITIES, UnlearnTask
from erasus_bench.registry import STRATEGIES


# tuned and evaluated on classifiers only so far; their LM budgets come with the full catalogue
CLASSIFIER_ONLY = ("classifier",)


class Strategy(ABC):
    """An unlearning strategy. Hyperparameters are keyword arguments of ``__init__`` with defaults
    (sklearn style: stored as same-named attributes, no logic); ``unlearn`` does the work."""

    name: ClassVar[str] = ""
    # False for methods that never read the forget set (fine-tuning on retain)
    uses_forget: ClassVar[bool] = True
    # True when every coreset of the forget set gives the same model (the method never reads the
    # forget set, or reads only which classes it holds): run once, with the ``full`` selector
    coreset_invariant: ClassVar[bool] = False
    # True for methods whose reference code reads the whole training set (task.full_forget)
    reads_training_set: ClassVar[bool] = False

    @abstractmethod
    def unlearn(self, task: UnlearnTask) -> nn.Module:
        """Return the unlearned model (``task.model`` modified in place, or a new module)."""

    def steps_for_epochs(self, task: UnlearnTask, epochs: float) -> int:
        """Optimizer steps of ``epochs`` passes over the forget coreset (the ``epochs`` budget
        regime): one forget batch of ``batch_size`` per step. Strategies whose reference epoch
        holds more (a retain pass) override this."""
        from erasus_bench.methods.strategies._common import pass_steps

        return max(1, round(epochs * pass_steps(task.forget, getattr(self, "batch_size"))))

    @classmethod
    def default_hparams(cls) -> dict[str, Any]:
        """The defaults declared in ``__init__``."""
        sig = inspect.signature(cls.__init__)
        return {n: p.default for n, p in sig.parameters.items()
                if n != "self" and p.default is not inspect.Parameter.empty}


def register_strategy(name: str, *, description: str,
                      modalities: tuple[str, ...] = ALL_MODALITIES) -> Callable[[type], type]:
    """Class decorator registering a Strategy subclass; ``modalities`` says which protocols fit."""

    def deco(cls: type) -> type:
        cls.name = name
        return STRATEGIES.register(name, description=description, applies_to=modalities)(cls)

    return deco
