"""The frozen specification of one grid cell; its hash is the record's and the cache's key."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

REFERENCE_ROWS = ("original", "retrain")
# a row label given by a user (imported log, outside checkpoint): part of a file name
ROW_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
CODE_VERSION = 3  # bump when the cell pipeline changes what a given config produces


def stable_hash(obj: Any, length: int = 12) -> str:
    """SHA-256 of the canonical JSON of ``obj`` (sorted keys), truncated."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


@dataclass(frozen=True)
class CellSpec:
    """Everything that determines one result: protocol and its config, method, coreset, seed."""

    protocol: str
    protocol_config: dict[str, Any]
    strategy: str
    selector: str | None
    fraction: float | None
    seed: int
    hparams: dict[str, Any] = field(default_factory=dict)
    hparams_source: dict[str, Any] | None = None  # where the hparams came from (tuning, paper)
    budget: str | None = None  # budget regime of a method cell (harness.budget)
    request: int | None = None  # 1..requests: this cell's deletion request of a sequence
    requests: int | None = None  # K: the forget set split into K sequential requests
    # attack stages run on the cell's model after evaluation (harness.attacks); they evaluate
    # the model and never change it, so they are not part of the config hash: a record that ran
    # every stage a request asks for satisfies it, one that lacks a stage is run again
    attacks: tuple[str, ...] = ()
    trust: str | None = None  # a metric-trust cell (harness.trust): "pool" or "robustness"

    @property
    def previous(self) -> CellSpec | None:
        """The cell of the previous deletion request (whose model this one starts from); None
        for a single request or the first of a sequence."""
        if not self.request or self.request == 1:
            return None
        return replace(self, request=self.request - 1)

    @property
    def is_reference(self) -> bool:
        return self.strategy in REFERENCE_ROWS

    def config(self) -> dict[str, Any]:
        """The record's ``config`` block (``hparams_source``, ``budget``, the request fields and
        ``attacks`` only where set)."""
        d = asdict(self)
        d.pop("protocol")
        for key in ("hparams_source", "budget", "request", "requests", "trust"):
            if d[key] is None:
                d.pop(key)
        d["attacks"] = list(self.attacks)
        if not d["attacks"]:
            d.pop("attacks")
        return d

    @property
    def config_hash(self) -> str:
        """Hash of the unlearning run: the config without its attack stages."""
        config = self.config()
        config.pop("attacks", None)
        return stable_hash({"protocol": self.protocol, **config, "code_version": CODE_VERSION})

    @property
    def readable_key(self) -> str:
        """Human-readable part of the record's file name (a row without a selector: reference
        rows, imported logs, outside checkpoints, by label and seed)."""
        req = f"__r{self.request}of{self.requests}" if self.request else ""
        if self.is_reference or self.selector is None:
            return f"{self.strategy}{req}__s{self.seed}"
        budget = f"__{self.budget}" if self.budget else ""
        selector = self.selector.replace("&", "+and+").replace("|", "+or+")  # file-name safe
        return (f"{self.strategy}__{selector}__f{self.fraction:g}{budget}{req}"
                f"__s{self.seed}")

    @property
    def variant(self) -> str:
        """Folder for this protocol configuration (e.g. the scenario of `general`)."""
        return variant_name(self.protocol_config)


def variant_name(protocol_config: dict[str, Any]) -> str:
    """A protocol configuration's short name (``digits_class``): its plain string options."""
    return "_".join(f"{v}" for _, v in sorted(protocol_config.items())
                    if isinstance(v, str) and "/" not in v)[:60] or "default"
