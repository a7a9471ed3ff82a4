"""Score a model unlearned elsewhere with a protocol's metric suite and write it as a record
(``erasus-bench evaluate``, ``erasus_bench.evaluate``), so it sits on the protocol's board."""
from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from erasus_bench.errors import UserError
from erasus_bench.harness.runner import get_setting
from erasus_bench.harness.spec import REFERENCE_ROWS, ROW_LABEL, CellSpec
from erasus_bench.harness.store import created_now, new_record, record_path, write_atomic
from erasus_bench.protocols.base import Setting
from erasus_bench.registry import PROTOCOLS, STRATEGIES

SOURCE_KIND = "evaluate"


def check_label(label: str, protocol: str | None = None) -> str:
    """``label`` if it can name a row of its own: a file-name-safe string that is neither a
    built-in strategy nor a reference row (nor the name ``protocol``'s pages give one), in any
    case, which would read as one of ours; else a UserError."""
    if not isinstance(label, str) or not ROW_LABEL.match(label):
        raise UserError(f"--label {label!r} is invalid: use letters, digits and _ . + - (it "
                        "becomes part of a file name)")
    taken = {*STRATEGIES.names(), *REFERENCE_ROWS}
    if protocol is not None and protocol in PROTOCOLS:
        taken |= set(PROTOCOLS.entry(protocol).meta["card"].reference_labels.values())
    if label.lower() in {t.lower() for t in taken}:
        raise UserError(f"--label {label!r} names a built-in row (strategies and reference rows "
                        f"are run by `erasus-bench run`); give the checkpoint its own name, e.g. "
                        f"{label}-external")
    return label


def load_checkpoint(setting: Setting, source: str, cache_root: Path) -> nn.Module:
    """The model at ``source`` in the form of ``setting``'s base model: a file is a torch state
    dict of that model (read with ``weights_only``); a folder or hub name is a Hugging Face
    causal LM whose vocabulary must cover the setting's tokenizer."""
    path = Path(source).expanduser()
    if path.is_file():
        model = copy.deepcopy(setting.base)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:  # not a torch file, or pickled objects beyond tensors
            raise UserError(f"--model {source!r} is not a torch state dict readable with "
                            f"weights_only=True ({type(e).__name__}: {e})") from None
        state = state.get("state_dict", state) if isinstance(state, dict) else state
        try:
            model.load_state_dict(state)
        except (RuntimeError, TypeError, AttributeError) as e:
            raise UserError(f"--model {source!r} does not fit the protocol's model "
                            f"({type(setting.base).__name__}): {str(e)[:300]}") from None
        return model.eval()
    from erasus_bench.lm.load import load_pretrained

    if "tokenizer" not in setting.extra:
        raise UserError(f"--model {source!r} does not exist; this protocol's checkpoints are "
                        f"torch state dict files of its {type(setting.base).__name__}")
    model, tok = load_pretrained(source, cache_root)
    if tok.get_vocab() != setting.extra["tokenizer"].get_vocab():
        raise UserError(f"--model {source!r} has another tokenizer than the protocol's model "
                        f"{setting.config.get('model')!r}: score it against the model it was "
                        f"unlearned from (--base, or base= in erasus_bench.evaluate)")
    return model.to(next(setting.base.parameters()).device).eval()


def evaluate_checkpoint(protocol: str, model: nn.Module | str, *, label: str,
                        gold: nn.Module | str | None = None, seed: int = 0,
                        options: dict[str, Any] | None = None, cache_dir: str | None = None,
                        results_dir: str | Path | None = "results", command: str | None = None
                        ) -> dict[str, Any]:
    """The record of ``model`` (a module, or a path / hub name for ``load_checkpoint``) scored
    on ``protocol`` (its ``options``, ``seed``'s data and reference models; ``gold`` replaces
    the protocol's gold model), written atomically under ``results_dir`` unless it is None."""
    from erasus_bench.harness.cache_dir import default_cache_dir

    check_label(label, protocol)
    proto = PROTOCOLS.get(protocol)()
    config = proto.resolve_config(dict(options or {}))
    cache = str(cache_dir or default_cache_dir())
    setting = get_setting(protocol, config, seed, cache)
    if gold is not None:
        setting = proto.with_gold(setting, _model(setting, gold, cache))
    net = _model(setting, model, cache)
    spec = CellSpec(protocol, config, label, None, None, seed)
    start = time.perf_counter()
    ev = proto.evaluate(setting, net, None)
    seconds = time.perf_counter() - start
    bad = [k for k, v in ev.metrics.items() if v is not None and not np.isfinite(v)]
    if bad:
        raise UserError(f"the checkpoint's metrics are not finite: {', '.join(bad)}")
    record = new_record(spec, proto.provenance(config), command)
    record.update(
        metrics=ev.metrics, per_example=ev.per_example,
        timings={"evaluate_s": seconds, **{f"evaluate_{k}": v for k, v in ev.timings.items()}},
        source={"kind": SOURCE_KIND, "checkpoint": _name(model),
                "gold": None if gold is None else _name(gold)},
        created=created_now())
    if results_dir is not None:
        path = record_path(Path(results_dir), spec)
        write_atomic(path, record)
        record["path"] = str(path)
    return record


def _model(setting: Setting, model: nn.Module | str, cache: str) -> nn.Module:
    return model if isinstance(model, nn.Module) else load_checkpoint(setting, model, Path(cache))


def _name(model: nn.Module | str) -> str:
    return model if isinstance(model, str) else f"in-memory {type(model).__name__}"

