"""The protocol contract: what a protocol plugin provides to the harness."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from torch import nn

from erasus_bench.harness.cache import ModelCache
from erasus_bench.methods.adapter import ModelAdapter
from erasus_bench.methods.examples import Examples
from erasus_bench.methods.training_run import TrainingRun
from erasus_bench.protocols.card import ProtocolCard
from erasus_bench.registry import PROTOCOLS

if TYPE_CHECKING:
    from erasus_bench.harness.attacks import AttackInput, StageResult
    from erasus_bench.harness.relearn import RelearnRecipe

# the two models every protocol trains per seed: on everything (base) and without the forget set
ROLES = ("base", "gold")


@dataclass
class Evaluation:
    """Metric values (plain numbers or None), the per-example values they come from, and where
    the evaluation time went (e.g. ``forward_s``, ``generate_s``; recorded as ``evaluate_*``)."""

    metrics: dict[str, float | None]
    per_example: dict[str, list] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Objective:
    """What ``tune`` maximises for a protocol: ``score(trial_metrics, base_metrics)`` of one
    trial's cells (metrics of each cell and of the original model on the same seed)."""

    description: str
    score: Callable[[list[dict[str, Any]], list[dict[str, Any]]], float]


@dataclass
class Setting:
    """One seed of a protocol, ready to unlearn: splits, adapter, base and gold models."""

    config: dict[str, Any]
    seed: int
    adapter: ModelAdapter
    base: nn.Module
    gold: nn.Module
    forget: Examples
    retain: Examples
    gold_train_s: float
    num_classes: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    gold_eval: Evaluation | None = None
    early_models: tuple[nn.Module, ...] = ()  # early-training checkpoints for EL2N/GraNd
    early_train_s: float = 0.0
    # a sequential deletion request's setting (``Protocol.request_setting``): ``forget`` holds
    # requests 1..j (what is evaluated), these are the positions in it of request j (what the
    # method is asked to unlearn); None for a single request
    request_idx: np.ndarray | None = None
    # the base model's training run (replay, training-time artifacts); None where the protocol
    # provides none
    training_run: TrainingRun | None = None

    def unlearn_pool(self) -> Examples:
        """What a method unlearns (its coreset is chosen from these): the forget set, or the
        current request's part of it."""
        return self.forget if self.request_idx is None else self.forget.subset(self.request_idx)


def cost_metrics(setting: Setting, unlearn_time: float | None) -> dict[str, float | None]:
    """``unlearn_time`` (selection + unlearning, s) and ``speedup`` = gold training time / it."""
    return {"unlearn_time": unlearn_time,
            "speedup": (setting.gold_train_s / unlearn_time) if unlearn_time else None}


class Protocol(ABC):
    """A benchmark protocol. Subclasses are registered with ``register_protocol(card)``, which
    sets the class attributes below from the card (``protocols.card``)."""

    card: ClassVar[ProtocolCard]
    name: ClassVar[str] = ""
    modality: ClassVar[str] = ""
    utility_metric: ClassVar[str | None] = None  # x axis of the tradeoff plot
    reference_labels: ClassVar[dict[str, str]] = {}  # how pages name "original" / "retrain"
    supports_requests: ClassVar[bool] = False  # implements ``request_setting`` (--requests)
    # attack stages (harness.attacks) run after evaluation by default, and those run only when
    # asked for (``--attacks``); relearning and quantization need ``relearn_recipe``
    attacks: ClassVar[tuple[str, ...]] = ()
    optional_attacks: ClassVar[tuple[str, ...]] = ()
    attack_metric: ClassVar[str] = ""  # what the relearning/quantization stages measure
    # metric trust (harness.trust): training variants of the pool models, and the metrics the
    # table judges with their orientation (+1: higher is more knowledge of the forget set)
    trust_variants: ClassVar[tuple[dict[str, Any], ...]] = ()
    knowledge: ClassVar[dict[str, int]] = {}

    @abstractmethod
    def default_config(self) -> dict[str, Any]:
        """The protocol options and their defaults (recorded as ``protocol_config``)."""

    def resolve_config(self, overrides: dict[str, Any]) -> dict[str, Any]:
        """Defaults updated with the user's options; unknown options or values are UserErrors."""
        from erasus_bench.errors import UserError

        config = self.default_config()
        for key, value in overrides.items():
            if key not in config:
                raise UserError(f"protocol {self.name!r} has no option {key!r}; "
                                f"valid options: {', '.join(sorted(config))}")
            config[key] = _typed(key, value, config[key])
        self.validate_config(config)
        return config

    def validate_config(self, config: dict[str, Any]) -> None:
        """Raise a UserError naming the bad value and the valid choices."""

    @abstractmethod
    def hparams(self, strategy: str, defaults: dict[str, Any],
                config: dict[str, Any] | None = None) -> dict[str, Any]:
        """The hyperparameters ``strategy`` runs with on this protocol (same budget for all);
        ``config`` (the resolved options, None = the defaults) where they depend on the
        variant, e.g. the model."""

    def resolved_hparams(self, strategy: str, config: dict[str, Any], budget: str = "steps"
                         ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """What a reported cell of ``strategy`` runs with on ``config`` in regime ``budget``: the
        protocol's budget and values (``epochs`` in place of ``steps`` in the epochs regime)
        overlaid with the tuned ones (``tuned.json``), and their ``hparams_source`` (None where
        the strategy was never tuned on this variant and regime)."""
        from erasus_bench.harness.spec import variant_name
        from erasus_bench.protocols.tuned import tuned_entry

        hp = self.strategy_hparams(strategy, config, budget)
        tuned_on = self.tuning_variant(config)
        entry = tuned_entry(type(self), tuned_on, strategy, budget)
        if entry is None:
            return hp, None
        chosen, source = entry
        if tuned_on != variant_name(config):
            source = {**source, "tuned_on_variant": tuned_on}
        return {**hp, **{k: v for k, v in chosen.items() if k in hp}}, source

    def strategy_hparams(self, strategy: str, config: dict[str, Any] | None, budget: str
                         ) -> dict[str, Any]:
        """``strategy``'s defaults overlaid with this protocol's budget and centres, in regime
        ``budget`` (before tuned values); a composite's members get theirs resolved (tuned
        values included) under ``members``, and ``auto`` the protocol's modality."""
        from erasus_bench.harness.budget import for_budget
        from erasus_bench.methods.strategies.compose import strategy_class

        cls, fixed = strategy_class(strategy)
        defaults = {**cls.default_hparams(), **fixed}
        hp = {**for_budget(self.hparams(strategy, defaults, config), budget), **fixed}
        if cls.composite:
            if "modality" in defaults:
                hp["modality"] = self.modality
            hp["members"] = {m: self.resolved_hparams(m, config or self.resolve_config({}),
                                                      budget)[0]
                             for m in cls.member_names(hp, self.modality)}
        return hp

    def tuning_variant(self, config: dict[str, Any]) -> str:
        """The variant whose tuned values cells of ``config`` run with, and under which ``tune``
        on ``config`` stores them: by default the variant itself."""
        from erasus_bench.harness.spec import variant_name

        return variant_name(config)

    def search_space(self, strategy: str, hparams: dict[str, Any]) -> dict[str, list[Any]]:
        """The values ``tune`` tries (their product is the trials; the same count for every
        strategy): by default the learning rate x {1/3, 1, 3} and the budget knob (``steps``,
        or ``epochs`` in the epochs regime) x {1/2, 1, 2} around ``hparams``. Strategies
        without both override this per protocol."""
        from erasus_bench.methods.strategies.compose import strategy_class

        own = strategy_class(strategy)[0].search(hparams)
        if own is not None:
            return own
        knob = "steps" if "steps" in hparams else "epochs"
        if "lr" not in hparams or knob not in hparams:
            raise NotImplementedError(f"protocol {self.name!r} defines no search space for "
                                      f"{strategy!r} (it has no lr and steps or epochs)")
        lr, n = hparams["lr"], hparams[knob]
        return {"lr": [float(f"{lr * m:.3g}") for m in (1 / 3, 1, 3)],
                knob: [max(1, round(n * m)) for m in (0.5, 1, 2)]}

    def tuning_objective(self) -> Objective:
        """What ``tune`` maximises on this protocol (stated on the page)."""
        raise NotImplementedError(f"protocol {self.name!r} defines no tuning objective")

    @abstractmethod
    def metric_names(self) -> list[str]:
        """The metrics this protocol reports, in display order."""

    @abstractmethod
    def train(self, config: dict[str, Any], seed: int, cache: ModelCache, role: str
              ) -> tuple[nn.Module, float]:
        """The ``role`` model ("base" or "gold") of ``seed``, trained once and then read from
        ``cache``, and its training wall time (the two roles train in parallel workers)."""

    @abstractmethod
    def setup(self, config: dict[str, Any], seed: int, cache: ModelCache) -> Setting:
        """Data splits plus base and gold models for ``seed`` (trained once, then cached)."""

    @abstractmethod
    def evaluate(self, setting: Setting, model: nn.Module, unlearn_time: float | None
                 ) -> Evaluation:
        """The metric suite on ``model``, always on the FULL forget set."""

    def request_setting(self, config: dict[str, Any], seed: int, cache: ModelCache,
                        requests: int, j: int) -> Setting:
        """Request ``j`` of ``requests`` sequential deletion requests (the forget set split by
        ``harness.requests.split_requests``, or the protocol's own request splits): ``forget``
        = requests 1..j, ``request_idx`` = request j's positions in it, gold = retrained
        without requests 1..j (cached), base as in ``setup``."""
        from erasus_bench.errors import UserError

        raise UserError(unsupported_requests(self.name))

    def attack_stages(self, config: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(the stages run by default, the stages run when asked for) on ``config``."""
        return self.attacks, self.optional_attacks

    def relearn_recipe(self, config: dict[str, Any]) -> RelearnRecipe:
        """How the relearning attack fine-tunes on half of the forget set."""
        raise NotImplementedError(f"protocol {self.name!r} defines no relearning attack")

    def trust_model(self, setting: Setting, saw: bool, variant: dict[str, Any]) -> nn.Module:
        """A metric-trust pool model of the setting's seed: the base recipe changed by
        ``variant`` (e.g. lr, epochs), trained with the forget set (``saw``) or without it;
        cached like base and gold."""
        raise NotImplementedError(f"protocol {self.name!r} has no metric-trust pool")

    def attack_roles(self, stages: tuple[str, ...]) -> tuple[str, ...]:
        """Models besides base and gold that ``stages`` read per seed (``train`` roles),
        trained before the cells (e.g. the epsilon stage's retrain pool)."""
        return ()

    def attack(self, name: str, inp: AttackInput) -> StageResult:
        """Run the protocol's own attack stage ``name`` (one of ``optional_attacks`` or
        ``attacks`` beyond relearning and quantization)."""
        raise NotImplementedError(f"protocol {self.name!r} has no attack stage {name!r}")

    def with_gold(self, setting: Setting, gold: nn.Module) -> Setting:
        """``setting`` with ``gold`` (e.g. a retrained model from elsewhere) as its gold model,
        and whatever ``evaluate`` compares against recomputed from it."""
        from dataclasses import replace

        return replace(setting, gold=gold, gold_train_s=0.0, gold_eval=None)

    @abstractmethod
    def provenance(self, config: dict[str, Any]) -> dict[str, Any]:
        """Which data and model produce this protocol's results (shown on every page)."""


def unsupported_requests(name: str) -> str:
    """The error of ``--requests`` on a protocol without ``request_setting``."""
    from erasus_bench.registry import PROTOCOLS

    able = [e.name for e in PROTOCOLS.entries()
            if getattr(PROTOCOLS.get(e.name), "supports_requests", False)]
    return (f"protocol {name!r} does not support sequential deletion requests (--requests); "
            f"valid protocols: {', '.join(able)}")


def _typed(key: str, value: Any, default: Any) -> Any:
    """``value`` as the type of the option's ``default`` when it comes as text (``--option
    forget_fraction=0.2``), or a UserError naming the option and the type it needs."""
    from erasus_bench.errors import UserError

    if not isinstance(value, str) or isinstance(default, str) or default is None:
        return value
    try:
        if isinstance(default, bool):
            if value.lower() not in ("true", "false", "1", "0"):
                raise ValueError(value)
            return value.lower() in ("true", "1")
        return type(default)(value)
    except (TypeError, ValueError):
        raise UserError(f"option {key}={value!r} is invalid: it takes {type(default).__name__} "
                        f"values, like its default {default!r}") from None


def register_protocol(card: ProtocolCard) -> Callable[[type], type]:
    """Class decorator registering a Protocol subclass under its card (registered lazily by
    the protocol package; this fills in the class)."""

    def deco(cls: type) -> type:
        cls.card, cls.name, cls.modality = card, card.name, card.modality
        cls.utility_metric, cls.reference_labels = card.utility_metric, dict(card.reference_labels)
        return PROTOCOLS.register(card.name, description=card.description,
                                  applies_to=(card.modality,), card=card)(cls)

    return deco
