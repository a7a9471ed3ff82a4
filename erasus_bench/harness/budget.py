"""Budget regimes: how much unlearning a method cell gets, recorded as ``config.budget``.

* ``steps``: a fixed number of optimizer steps, whatever the coreset size (equal compute per
  step for every coreset: a 10% coreset saves nothing by construction).
* ``epochs``: a fixed number of passes over the coreset (the design's API, ``epochs=5``), so
  the forget work scales with the coreset size k. A step reads one forget batch and, for
  methods with a retain term, one retain batch, so their retain work scales with k too; methods
  whose reference epoch is a pass over the forget set *and* a full pass over retain (random
  label, SalUn, SCRUB's min-steps) or one loader over forget + a fixed retain share (bad
  teacher) keep that retain work per epoch, as published (``Strategy.steps_for_epochs``).
* ``one_shot``: strategies without an iterative budget (SSD, Fisher forgetting) run once.
* Coreset-invariant strategies (``Strategy.coreset_invariant``: finetune and l1_sparse never
  read the forget set, Fisher forgetting reads only which classes it holds) run once per seed
  with the ``full`` selector, iterative ones in the ``steps`` regime, and are shown as such.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from erasus_bench.errors import UserError

BUDGETS = ("steps", "epochs")
ONE_SHOT = "one_shot"
DEFAULT_EPOCHS = 5  # passes over the coreset in the epochs regime (the design's API default)


def parse_budgets(text: str) -> list[str]:
    """``"steps,epochs"`` -> ["steps", "epochs"]; each must be one of ``BUDGETS``."""
    out = []
    for part in (p.strip() for p in text.split(",")):
        if part not in BUDGETS:
            raise UserError(f"budget regime {part!r} is unknown; valid choices: "
                            f"{', '.join(BUDGETS)}")
        out.append(part)
    return list(dict.fromkeys(out))


def is_iterative(strategy_cls: type) -> bool:
    """True for strategies with a step budget (``steps`` among their hyperparameters)."""
    return "steps" in strategy_cls.default_hparams()


def regimes_for(strategy_cls: type, budgets: Sequence[str]) -> list[str]:
    """The regimes a strategy runs in: ``one_shot`` without a step budget, ``steps`` only when
    coreset-invariant, else each of ``budgets``."""
    if not is_iterative(strategy_cls):
        return [ONE_SHOT]
    if strategy_cls.coreset_invariant:
        return ["steps"]
    return list(budgets)


def for_budget(hparams: dict[str, Any], budget: str, epochs: float = DEFAULT_EPOCHS
               ) -> dict[str, Any]:
    """``hparams`` for ``budget``: in the epochs regime ``epochs`` replaces ``steps``."""
    if budget != "epochs":
        return dict(hparams)
    return {**{k: v for k, v in hparams.items() if k != "steps"}, "epochs": epochs}


def build_strategy(strategy_cls: type, hparams: dict[str, Any], budget: str | None,
                   task: Any) -> Any:
    """The strategy of a cell; in the epochs regime its ``steps`` are those of ``epochs``
    passes over ``task``'s coreset (``Strategy.steps_for_epochs``)."""
    hp = dict(hparams)
    epochs = hp.pop("epochs", None)
    strategy = strategy_cls(**hp)
    if budget == "epochs":
        if epochs is None:
            raise UserError(f"strategy {strategy_cls.name!r} in the epochs regime needs an "
                            "`epochs` hyperparameter")
        strategy.steps = strategy.steps_for_epochs(task, epochs)
    return strategy
