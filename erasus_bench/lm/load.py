"""Resolve ``--model`` to a causal LM and its tokenizer: the embedded tiny default, the optional
SmolLM2-135M extra, or any Hugging Face model by hub name or local folder (offline by default)."""
from __future__ import annotations

import os
from pathlib import Path

from erasus_bench.errors import UserError

TINY = "tiny-gpt2"
OFFLINE_VARS = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")


def set_offline_defaults() -> None:
    """Hub access off unless the user turned it on: a missing model fails at once, not after
    retries (``HF_HUB_OFFLINE=0`` etc. in the environment win)."""
    for var in OFFLINE_VARS:
        os.environ.setdefault(var, "1")


def is_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")


def model_location(name: str, cache_root: Path) -> str:
    """A folder or hub name ``from_pretrained`` can open (SmolLM2 is converted once first)."""
    from erasus_bench.lm.smollm2 import SMOLLM2, smollm2_folder

    if name == SMOLLM2:
        return str(smollm2_folder(cache_root))
    return name


def load_tokenizer(name: str, cache_root: Path):
    """The tokenizer of a pretrained causal LM (pad token = EOS when it has none); a UserError
    that says how to provide it when it is not available."""
    from transformers import AutoTokenizer

    where = _where(name, cache_root)
    try:
        tok = AutoTokenizer.from_pretrained(where)
    except OSError as e:
        raise UserError(f"model {name!r} could not be loaded: {_hint(where, e)}") from None
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    return tok


def load_pretrained(name: str, cache_root: Path):
    """(model, tokenizer) of a pretrained causal LM, float32 on CPU; a UserError that says how to
    provide it when it is not available."""
    from transformers import AutoModelForCausalLM

    tok = load_tokenizer(name, cache_root)
    where = _where(name, cache_root)
    try:
        model = AutoModelForCausalLM.from_pretrained(where, dtype="float32")
    except OSError as e:
        raise UserError(f"model {name!r} could not be loaded: {_hint(where, e)}") from None
    return model, tok


def _where(name: str, cache_root: Path) -> str:
    where = model_location(name, cache_root)
    if not Path(where).is_dir() and ("/" not in where or where.startswith((".", "/"))):
        raise UserError(f"--model {name!r} is neither a folder nor a hub name (owner/name); valid: "
                        f"{TINY} (embedded default), smollm2-135m, a local folder, a hub name")
    return where


def _hint(where: str, e: OSError) -> str:
    return (f"erasus-bench runs offline by default; download it once with `HF_HUB_OFFLINE=0 "
            f"hf download {where}` or pass a local folder" if is_offline() else str(e))
