"""A protocol's card: what the registry, ``erasus-bench list`` and the pages know of a protocol
without importing its code (models, data, torch), so rendering never loads a protocol."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from erasus_bench.registry import PROTOCOLS


@dataclass(frozen=True)
class ProtocolCard:
    """Name, one-line description, modality (where strategies and selectors apply), the
    ``module:Class`` implementing it (imported on first use), the utility metric (x axis of the
    tradeoff plot), how pages name the reference rows, and the TOST margin per primary metric
    within which a method counts as equivalent to gold (the PASS / PARTIAL / FAIL verdict);
    ``default_seeds`` and ``budgets``: what `run` does unless told (seeds 0..n-1, the budget
    regimes of ``harness.budget``); ``series_option``: a protocol option whose values make
    tables that pages draw as curves (MUSE's ``forget_split``, scalability); ``published``: the
    published numbers (source, data, model: values) every page of the protocol prints, to read
    real-data rows against. ``board_selectors`` / ``board_strategies``: the board's design, what
    `run --all-methods` (or naming no method) crosses: every applicable strategy with each board
    selector, and every applicable selector with each board strategy (None: every strategy with
    every selector)."""

    name: str
    description: str
    modality: str
    target: str
    utility_metric: str | None = None
    reference_labels: Mapping[str, str] = field(default_factory=dict)
    equivalence_margins: Mapping[str, float] = field(default_factory=dict)
    default_seeds: int = 3
    budgets: tuple[str, ...] = ("steps",)
    series_option: str | None = None  # tables along this option form curves (MUSE's C5)
    published: str | None = None
    board_selectors: tuple[str, ...] | None = None
    board_strategies: tuple[str, ...] = ()


def register_card(card: ProtocolCard) -> ProtocolCard:
    """Register ``card``'s protocol lazily: its class is imported when first looked up."""
    PROTOCOLS.register_lazy(card.name, card.target, description=card.description,
                            applies_to=(card.modality,), card=card)
    return card


def protocol_card(name: str) -> ProtocolCard | None:
    """The card of protocol ``name``; None for a name no protocol has (e.g. an old record's)."""
    if name not in PROTOCOLS:
        return None
    return PROTOCOLS.entry(name).meta["card"]
