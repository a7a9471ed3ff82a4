"""WMDP's base and gold models. The embedded tiny GPT-2 is trained from random weights on the
forget + retain corpora (base) or on the retain corpus alone (gold, a real retrain), every token
a label. A pretrained model is the base as it is; no retrain of it exists, so its gold is
``ChanceReference``: chance on the hazard questions and the base model's MMLU."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from erasus_bench.harness.cache import ModelCache
from erasus_bench.lm.corpus import encode_text
from erasus_bench.lm.load import TINY, load_pretrained, load_tokenizer
from erasus_bench.lm.tiny import TinyConfig, cached_tokenizer, tiny_gpt2, tokenizer_fingerprint
from erasus_bench.lm.train import LMRecipe, train_lm
from erasus_bench.lm.trust import pool_recipe
from erasus_bench.methods.examples import Examples

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
TINY_CONFIG = TinyConfig()
# measured on the default (seed 0): 40 epochs bring base to 0.996 hazard / 0.979 general
# accuracy and gold to 0.254 / 0.953; 60 leave margin for other seeds. The loss cannot reach 0
# (entity names are unpredictable), so there is no NLL target.
TINY_RECIPE = LMRecipe(epochs=60, lr=3e-3, batch_size=32)
# and at least 240 optimizer steps, so that a small local corpus is learned too (the default's
# gold takes 360: 192 documents, 6 batches x 60 epochs)
MIN_STEPS = 240
MAX_LENGTH = 512  # the RMU code's truncation of corpus passages


class ChanceReference(nn.Module):
    """The reference row of a pretrained model (no parameters): hazard accuracy 0.25 (chance,
    what a model that never learned the hazard knowledge scores) and the base model's MMLU."""


def max_length(model: str) -> int:
    """Tokens kept per passage: the RMU code's 512, or the tiny model's context if shorter."""
    return min(MAX_LENGTH, TINY_CONFIG.n_positions) if model == TINY else MAX_LENGTH


def tiny_recipe(n_texts: int) -> LMRecipe:
    """``TINY_RECIPE`` with enough epochs for ``MIN_STEPS`` optimizer steps on ``n_texts``."""
    batches = -(-n_texts // TINY_RECIPE.batch_size)
    return replace(TINY_RECIPE, epochs=max(TINY_RECIPE.epochs, -(-MIN_STEPS // batches)))


@dataclass(frozen=True)
class WmdpModels:
    """Builds, trains and caches the two models of one model name."""

    name: str
    cache: ModelCache

    @property
    def tiny(self) -> bool:
        return self.name == TINY

    def tokenizer(self, corpus: list[str]) -> PreTrainedTokenizerBase:
        """The tiny model's BPE tokenizer trained on ``corpus`` (cached) or the model's own."""
        if self.tiny:
            return cached_tokenizer(self.cache.root, corpus, TINY_CONFIG.vocab_size)
        return load_tokenizer(self.name, self.cache.root)

    def model(self, tokenizer: PreTrainedTokenizerBase, texts: list[str] | None, seed: int,
              variant: dict[str, Any] | None = None) -> tuple[nn.Module, float]:
        """The model and its training seconds: the tiny model trained on ``texts`` (cached
        under the texts, tokenizer, recipe and seed; ``variant``: a metric-trust pool recipe,
        ``lm.trust``), or the pretrained model (``texts`` None: as it is; 0 s)."""
        if not self.tiny:
            return load_pretrained(self.name, self.cache.root)[0].to(DEVICE).eval(), 0.0
        assert texts is not None
        data = Examples(encode_text(tokenizer, texts, max_length(self.name)))
        recipe = tiny_recipe(len(data))
        if variant is not None:
            recipe = pool_recipe(recipe, variant)
        key = {"protocol": "wmdp", "model": self.name, "tiny": TINY_CONFIG.key(),
               "recipe": recipe.key(), "train_data": data.fingerprint(),
               "tokenizer": tokenizer_fingerprint(tokenizer), "seed": seed}
        model = tiny_gpt2(tokenizer, TINY_CONFIG, seed).to(DEVICE)
        return self.cache.get_or_train(key, model, lambda: train_lm(model, data, recipe, seed))
