"""Expand a run request (protocol x strategies x selectors x fractions x seeds) into cells."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from erasus_bench.errors import UserError
from erasus_bench.harness.budget import regimes_for
from erasus_bench.harness.requests import check_requests
from erasus_bench.harness.spec import REFERENCE_ROWS, CellSpec
from erasus_bench.methods.names import members, stages as pipeline_stages
from erasus_bench.protocols.tuned import TUNING_SEED_BASE
from erasus_bench.registry import PROTOCOLS, SELECTORS, STRATEGIES, Registry

if TYPE_CHECKING:  # a cached rerun parses its fractions without loading torch
    from erasus_bench.protocols.base import Protocol

DEFAULT_FRACTIONS = (0.1,)
DEFAULT_SEEDS = 3


def parse_fractions(text: str) -> list[float]:
    """``"0.05,0.1"`` -> [0.05, 0.1]; each must lie in (0, 1]."""
    out = []
    for part in text.split(","):
        try:
            f = float(part)
        except ValueError:
            raise UserError(f"fraction {part.strip()!r} is not a number; valid: numbers in "
                            "(0, 1], e.g. --fractions 0.05,0.1,0.3,1.0") from None
        if not 0 < f <= 1:
            raise UserError(f"fraction {part.strip()} is outside (0, 1]; valid: numbers in "
                            "(0, 1], e.g. --fractions 0.05,0.1,0.3,1.0")
        out.append(f)
    return sorted(set(out))


def applicable(registry: Registry[Any], protocol: Protocol, names: Sequence[str] | None
               ) -> list[str]:
    """The named plugins (all when ``names`` is None), each checked to apply to ``protocol``."""
    fits = [e.name for e in registry.entries() if protocol.modality in e.applies_to]
    if names is None:
        return fits
    for name in names:
        parts = members(name) if registry is SELECTORS else pipeline_stages(name)  # a&b, a|b, a>b
        for part in parts:
            entry = registry.entry(part)
            if protocol.modality not in entry.applies_to:
                raise UserError(f"{registry.kind} {part!r} does not apply to protocol "
                                f"{protocol.name!r}; valid choices: {', '.join(fits)}")
    return list(dict.fromkeys(names))


def check_sweepable(protocol_name: str, strategy: str) -> None:
    """A UserError unless ``strategy`` applies to the protocol and its result depends on the
    coreset (a coreset ablation of a coreset-invariant strategy is flat by construction)."""
    protocol: Protocol = PROTOCOLS.get(protocol_name)()
    applicable(STRATEGIES, protocol, [strategy])
    if STRATEGIES.get(strategy).coreset_invariant:
        valid = [s for s in applicable(STRATEGIES, protocol, None)
                 if not STRATEGIES.get(s).coreset_invariant]
        raise UserError(f"strategy {strategy!r} is coreset-invariant (every coreset of the forget"
                        f" set gives it the same model), so its coreset sweep is flat; valid "
                        f"choices: {', '.join(valid)}")


def board_pairs(protocol: Protocol, strategies: Sequence[str], selectors: Sequence[str]
                ) -> dict[str, list[str]]:
    """The board's design (the protocol card's ``board_selectors`` / ``board_strategies``): each
    strategy's selectors, the board selectors for all, every selector for the board strategies
    (every selector for all when the card names no board selectors)."""
    card = PROTOCOLS.entry(protocol.name).meta["card"]
    if card.board_selectors is None:
        return {s: list(selectors) for s in strategies}
    core = [s for s in selectors if s in card.board_selectors]
    return {s: list(selectors) if s in card.board_strategies else core for s in strategies}


def build_grid(protocol_name: str, options: dict[str, Any], strategies: Sequence[str] | None,
               selectors: Sequence[str] | None, fractions: Sequence[float], seeds: int,
               budgets: Sequence[str] = ("steps",), requests: int | None = None,
               attacks: Sequence[str] | None = None
               ) -> tuple[Protocol, dict[str, Any], list[CellSpec]]:
    """The protocol, its resolved config and every cell: reference rows first, then methods.

    Naming neither strategies nor selectors asks for the board (``board_pairs``); naming one
    crosses it with every applicable plugin of the other kind.
    The ``full`` selector ignores the fraction, so it runs once per strategy at fraction 1.0.
    Each strategy runs in each of ``budgets`` (``harness.budget.regimes_for``: once for
    one-shot strategies; coreset-invariant ones only with the ``full`` selector).
    With ``requests`` K, every row is K cells, one per sequential deletion request 1..K.
    Every cell runs the attack stages ``attacks`` (None: the protocol's default ones).
    """
    if not 1 <= seeds <= TUNING_SEED_BASE:
        raise UserError(f"--seeds {seeds} is invalid: the number of seeds must be in 1.."
                        f"{TUNING_SEED_BASE} (seeds from {TUNING_SEED_BASE} on are for tuning)")
    from erasus_bench.harness.attacks import check_attacks
    from erasus_bench.methods.strategies.compose import strategy_class  # imports torch

    protocol: Protocol = PROTOCOLS.get(protocol_name)()
    config = protocol.resolve_config(options)
    stages = check_attacks(protocol, config, attacks)
    strategy_names = applicable(STRATEGIES, protocol, strategies)
    selector_names = applicable(SELECTORS, protocol, selectors)
    board = strategies is None and selectors is None
    pairs = (board_pairs(protocol, strategy_names, selector_names) if board
             else {s: selector_names for s in strategy_names})
    cells = [CellSpec(protocol.name, config, ref, None, None, seed, attacks=stages)
             for seed in range(seeds) for ref in REFERENCE_ROWS]
    for seed in range(seeds):
        for strategy in strategy_names:
            cls = strategy_class(strategy)[0]
            chosen = ["full"] if cls.coreset_invariant else pairs[strategy]
            for budget in regimes_for(cls, budgets):
                hp, source = protocol.resolved_hparams(strategy, config, budget)
                for selector in chosen:
                    for fraction in ([1.0] if selector == "full" else fractions):
                        cells.append(CellSpec(protocol.name, config, strategy, selector,
                                              fraction, seed, hp, source, budget,
                                              attacks=stages))
    if requests is not None:
        check_requests(requests)
        if not protocol.supports_requests:
            from erasus_bench.protocols.base import unsupported_requests

            raise UserError(unsupported_requests(protocol.name))
        default, optional = protocol.attack_stages(config)
        rerunning = sorted(set(stages) & set(optional))
        if rerunning:
            raise UserError(f"attack stage(s) {', '.join(rerunning)} compare reruns of a method "
                            "from the base model and are not offered with --requests; valid "
                            f"stages with --requests: {', '.join(default) or 'none'}")
        cells = [replace(c, request=j, requests=requests) for c in cells
                 for j in range(1, requests + 1)]
    return protocol, config, cells
