"""TOFU's base and gold models: the embedded tiny GPT-2 (tokenizer trained on the protocol
corpus, random init) or a pretrained causal LM, fine-tuned on all authors (base) or on the
retain authors only (gold) with one recipe and seed, cached outside the repository."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from erasus_bench.harness.cache import ModelCache
from erasus_bench.lm.load import TINY, load_pretrained, load_tokenizer
from erasus_bench.lm.tiny import TinyConfig, cached_tokenizer, tiny_gpt2, tokenizer_fingerprint
from erasus_bench.lm.train import LMRecipe, train_lm
from erasus_bench.lm.trust import pool_recipe
from erasus_bench.methods.examples import Examples

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
TINY_CONFIG = TinyConfig()
# the tiny model starts from random weights: trained until it has memorised its facts (epoch
# mean answer NLL < 0.02), at most 100 epochs
TINY_RECIPE = LMRecipe(epochs=100, lr=3e-3, batch_size=16, target_nll=0.02)
# pretrained models: TOFU's fine-tuning recipe (lr 1e-5, 5 epochs, weight decay 0.01)
PRETRAINED_RECIPE = LMRecipe(epochs=5, lr=1e-5, batch_size=8, weight_decay=0.01)


def recipe_for(model: str) -> LMRecipe:
    """The base/gold training recipe of ``model`` (tiny default or pretrained)."""
    return TINY_RECIPE if model == TINY else PRETRAINED_RECIPE


@dataclass(frozen=True)
class ModelSource:
    """How to build an untrained model of ``name`` and its tokenizer."""

    name: str
    cache: ModelCache

    @property
    def tiny(self) -> bool:
        return self.name == TINY

    @property
    def recipe(self) -> LMRecipe:
        return recipe_for(self.name)

    def key(self) -> dict:
        return {"model": self.name, "recipe": self.recipe.key(),
                **({"tiny": TINY_CONFIG.key()} if self.tiny else {})}

    def tokenizer(self, corpus: list[str]):
        """The tiny model's BPE tokenizer (trained once per corpus, stored in the cache) or the
        pretrained model's own. ``corpus``: the questions and answers of every split alike,
        fictitious authors' names deleted (``synthetic.corpus``)."""
        if not self.tiny:
            return load_tokenizer(self.name, self.cache.root)
        return cached_tokenizer(self.cache.root, corpus, TINY_CONFIG.vocab_size)

    def blank(self, tokenizer, seed: int) -> nn.Module:
        if self.tiny:
            return tiny_gpt2(tokenizer, TINY_CONFIG, seed)
        return load_pretrained(self.name, self.cache.root)[0]

    def trained(self, tokenizer, data: Examples, data_id: dict, seed: int,
                variant: dict[str, Any] | None = None) -> tuple[nn.Module, float]:
        """The model fine-tuned on ``data`` (cached under data, model, recipe, seed and, for the
        tiny model, the tokenizer trained for it; ``variant``: a metric-trust pool recipe,
        ``lm.trust``) and the wall time its training took."""
        recipe = self.recipe if variant is None else pool_recipe(self.recipe, variant)
        key = {"protocol": "tofu", **self.key(), "recipe": recipe.key(), **data_id,
               "train_data": data.fingerprint(), "seed": seed,
               **({"tokenizer": tokenizer_fingerprint(tokenizer)} if self.tiny else {})}
        model = self.blank(tokenizer, seed).to(DEVICE)
        return self.cache.get_or_train(key, model, lambda: train_lm(model, data, recipe, seed))
