"""The embedded default model: a byte-level BPE tokenizer trained locally on the protocol corpus
and a GPT-2-style causal LM (about 1M parameters) built from a config with random weights."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

SPECIAL = {"bos_token": "<|bos|>", "eos_token": "<|eos|>", "pad_token": "<|pad|>",
           "unk_token": "<|unk|>"}


@dataclass(frozen=True)
class TinyConfig:
    """Size of the embedded model (part of the model-cache key)."""

    vocab_size: int = 1024
    n_layer: int = 4
    n_embd: int = 128
    n_head: int = 4
    n_positions: int = 256

    def key(self) -> dict:
        return asdict(self)


# words keep the space that follows them: "Answer: " and "Answer: Paris" then share their
# tokens up to the answer (with GPT-2's leading spaces, a prompt ending in a space ends in a
# token the model never saw before a word)
TRAILING_SPACE_WORDS = r"[^\s]+ ?|\s"


def train_tokenizer(texts: Iterable[str], vocab_size: int, trailing_spaces: bool = False):
    """A byte-level BPE tokenizer trained on ``texts`` (deterministic for a fixed corpus); with
    ``trailing_spaces`` each word carries the space after it instead of the one before it."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    if trailing_spaces:
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(TRAILING_SPACE_WORDS), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL.values()),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(list(texts), trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, **SPECIAL)


def cached_tokenizer(cache_root: Path, corpus: list[str], vocab_size: int,
                     trailing_spaces: bool = False) -> PreTrainedTokenizerFast:
    """``train_tokenizer(corpus, vocab_size, trailing_spaces)``, trained once and stored under
    ``cache_root`` (keyed by the corpus, vocabulary size and space rule; safe when several
    workers race to store it)."""
    from transformers import PreTrainedTokenizerFast

    from erasus_bench.harness.cache_dir import build_once
    from erasus_bench.harness.spec import stable_hash

    key = {"corpus": corpus, "vocab": vocab_size,
           **({"trailing_spaces": True} if trailing_spaces else {})}
    folder = cache_root / "tokenizers" / stable_hash(key, 24)
    build_once(folder, lambda tmp: train_tokenizer(corpus, vocab_size, trailing_spaces)
               .save_pretrained(tmp))
    return PreTrainedTokenizerFast.from_pretrained(folder)


def tokenizer_fingerprint(tokenizer) -> str:
    """SHA-256 (truncated) of the tokenizer's full serialisation (vocabulary, merges, special
    tokens): a model trained on token ids depends on which tokenizer made them."""
    text = tokenizer.backend_tokenizer.to_str()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def tiny_gpt2(tokenizer, config: TinyConfig, seed: int) -> torch.nn.Module:
    """A randomly initialised GPT-2 (seeded) sized by ``config`` for ``tokenizer``, without
    dropout."""
    from transformers import GPT2Config, GPT2LMHeadModel

    cfg = GPT2Config(vocab_size=len(tokenizer), n_positions=config.n_positions,
                     n_embd=config.n_embd, n_layer=config.n_layer, n_head=config.n_head,
                     bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                     pad_token_id=tokenizer.pad_token_id,
                     # no dropout: the model's job is to memorise its training facts
                     resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    torch.manual_seed(seed)
    return GPT2LMHeadModel(cfg)
