"""The committed results/ and leaderboards/: the render digest that lets a cached rerun in a
fresh clone skip rendering (and leave the clone clean) is current. That the pages themselves
match the records is `erasus-bench render --check`, which CI runs after the tests."""
from __future__ import annotations

from pathlib import Path

import pytest

from erasus_bench.leaderboards.render import protocol_digests, read_digests

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(not (REPO / "leaderboards").is_dir(), reason="no committed pages")
def test_committed_render_digest_is_current() -> None:
    assert read_digests(REPO / "leaderboards") == protocol_digests(REPO / "results"), (
        "leaderboards/.render-inputs.sha256 is stale: run `erasus-bench render` and commit it")
