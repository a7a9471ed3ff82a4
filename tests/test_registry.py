"""The typed registries: decorator registration, duplicates, unknown names with suggestions."""
from __future__ import annotations

import pytest

from erasus_bench.errors import UserError
from erasus_bench.registry import METRICS, PROTOCOLS, SELECTORS, STRATEGIES, Registry


def test_unknown_name_lists_choices_and_suggests() -> None:
    with pytest.raises(UserError) as e:
        STRATEGIES.get("gradient_ascnt")
    msg = str(e.value)
    assert "Did you mean 'gradient_ascent'" in msg and "scrub" in msg and "finetune" in msg


def test_duplicate_registration_is_an_error() -> None:
    reg: Registry[object] = Registry("thing")
    reg.register("a", description="first")(object())
    with pytest.raises(ValueError, match="already registered"):
        reg.register("a", description="second")(object())


def test_builtins_are_registered_without_importing_them_first() -> None:
    assert "general" in PROTOCOLS.names()
    assert {"finetune", "gradient_ascent", "grad_diff", "random_label", "l1_sparse", "salun",
            "scrub", "bad_teacher", "fisher_forgetting", "ssd"} <= set(STRATEGIES.names())
    assert {"full", "random", "gradient_norm", "el2n", "loss", "influence", "k_center",
            "herding", "craig", "gradmatch", "glister", "representer"} <= set(SELECTORS.names())


def test_metrics_carry_direction_and_one_primary_per_protocol() -> None:
    general = [e.obj for e in METRICS.entries() if "general" in e.applies_to]
    assert [m.name for m in general if "general" in m.primary] == ["avg_gap"]
    tofu = [e.obj for e in METRICS.entries() if "tofu" in e.applies_to]
    assert [m.name for m in tofu if "tofu" in m.primary] == ["forget_quality", "model_utility"]
    assert all(m.direction in ("higher", "lower", "match_gold") for m in general)
    assert METRICS.get("avg_gap").direction == "lower"


def test_protocol_cards_and_metrics_load_without_torch() -> None:
    """Rendering reads metric specs and protocol cards only: no model code, no torch."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from erasus_bench.registry import METRICS, PROTOCOLS\n"
            "from erasus_bench.protocols.card import protocol_card\n"
            "assert protocol_card('tofu').utility_metric == 'model_utility'\n"
            "assert 'avg_gap' in METRICS\n"
            "assert PROTOCOLS.names() == ['general', 'muse', 'tofu', 'wmdp-bio', 'wmdp-cyber']\n"
            "assert PROTOCOLS.entry('general').obj is None  # lazy until first get\n"
            "import erasus_bench.leaderboards.render, erasus_bench.leaderboards.summarise\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n"
            "cls = PROTOCOLS.get('general')\n"
            "assert cls.card.name == cls.name == 'general' and 'torch' in sys.modules\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_lazy_entry_is_imported_once_and_keeps_its_metadata() -> None:
    reg: Registry[object] = Registry("thing")
    reg.register_lazy("path", "pathlib:PurePosixPath", description="lazy", applies_to=("x",),
                      card="meta")
    assert reg.entry("path").obj is None and reg.entry("path").meta == {"card": "meta"}
    from pathlib import PurePosixPath
    assert reg.get("path") is PurePosixPath and reg.entry("path").obj is PurePosixPath
    assert reg.entry("path").applies_to == ("x",)
    with pytest.raises(ValueError, match="already registered"):
        reg.register_lazy("path", "pathlib:Path", description="again")


def test_every_builtin_method_names_its_paper_and_guarantee() -> None:
    from erasus_bench.registry import SELECTORS, STRATEGIES

    for reg in (STRATEGIES, SELECTORS):
        missing = [e.name for e in reg.entries()  # "_" names: test-only helpers
                   if not e.name.startswith("_") and not getattr(reg.get(e.name), "paper", "")]
        assert not missing, f"{reg.kind} without a paper: {missing}"
    kinds = {e.name: STRATEGIES.get(e.name).guarantee for e in STRATEGIES.entries()}
    assert set(kinds.values()) <= {"exact", "certified", "approximate"}
    assert kinds["sisa"] == "exact" and kinds["certified_removal"] == "certified"
