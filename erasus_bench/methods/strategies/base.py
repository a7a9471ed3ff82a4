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
    # the paper, short ("Author et al. YEAR"), and what removal it guarantees: "exact" (equals
    # retraining without the forget set), "certified" (within a proven bound of it) or
    # "approximate" (no guarantee), as ``erasus-bench list`` shows them
    paper: ClassVar[str] = ""
    guarantee: ClassVar[str] = "approximate"
    # True for strategies made of registered ones (pipeline, ensemble, auto): their
    # ``members`` run with their own resolved values, passed in the ``members`` hyperparameter
    composite: ClassVar[bool] = False

    @abstractmethod
    def unlearn(self, task: UnlearnTask) -> nn.Module:
        """Return the unlearned model (``task.model`` modified in place, or a new module).
        A ``dict`` of numbers set on it as ``unlearning_report`` (e.g. a certificate's bound)
        is kept in the cell's record as ``method_report``."""

    def steps_for_epochs(self, task: UnlearnTask, epochs: float) -> int:
        """Optimizer steps of ``epochs`` passes over the forget coreset (the ``epochs`` budget
        regime): one forget batch of ``batch_size`` per step. Strategies whose reference epoch
        holds more (a retain pass) override this."""
        from erasus_bench.methods.strategies._common import pass_steps

        return max(1, round(epochs * pass_steps(task.forget, getattr(self, "batch_size"))))

    @classmethod
    def member_names(cls, hparams: dict[str, Any], modality: str) -> list[str]:
        """The registered strategies a composite runs with ``hparams`` on ``modality``."""
        return []

    @classmethod
    def search(cls, hparams: dict[str, Any]) -> dict[str, list[Any]] | None:
        """The strategy's own tuning grid around ``hparams`` (None: the protocol's)."""
        return None

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
