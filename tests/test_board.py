"""The board design: what `run --all-methods` (or naming no method) crosses on a protocol."""
from __future__ import annotations

import pytest

from erasus_bench.harness.grid import applicable, build_grid
from erasus_bench.protocols.card import protocol_card
from erasus_bench.registry import PROTOCOLS, SELECTORS, STRATEGIES


def selectors_by_strategy(cells) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for c in cells:
        if c.selector is not None:
            out.setdefault(c.strategy, set()).add(c.selector)
    return out


def test_board_crosses_strategies_with_board_selectors_and_selectors_with_board_strategy() -> None:
    protocol, _, cells = build_grid("general", {}, None, None, [0.1], 1, ["steps"])
    every_selector = set(applicable(SELECTORS, protocol, None))
    by = selectors_by_strategy(cells)
    assert set(by) == set(applicable(STRATEGIES, protocol, None))  # every strategy on the board
    assert by["grad_diff"] == every_selector  # the card's board strategy meets every selector
    assert by["scrub"] == by["sisa"] == {"random", "full"}
    assert by["finetune"] == {"full"}  # coreset-invariant: the full forget set only
    # naming one kind crosses it with every applicable plugin of the other
    _, _, named = build_grid("general", {}, ["scrub"], None, [0.1], 1, ["steps"])
    assert selectors_by_strategy(named)["scrub"] == every_selector
    _, _, named = build_grid("general", {}, None, ["kmeans_pp"], [0.1], 1, ["steps"])
    assert selectors_by_strategy(named)["scrub"] == {"kmeans_pp"}


@pytest.mark.parametrize("name", [e.name for e in PROTOCOLS.entries()])
def test_every_card_names_board_methods_that_apply(name: str) -> None:
    card = protocol_card(name)
    protocol = PROTOCOLS.get(name)()
    assert card.board_selectors, f"{name}: no board selectors"
    applicable(SELECTORS, protocol, list(card.board_selectors))  # raises naming a misfit
    assert card.board_strategies, f"{name}: no board strategy for the selectors"
    applicable(STRATEGIES, protocol, list(card.board_strategies))
