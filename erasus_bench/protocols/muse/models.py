"""MUSE's base and gold models. The embedded tiny GPT-2 (a 512-token context, so that KnowMem's
ten in-context examples fit) is trained from random weights on its training articles packed into
full-length chunks (as MUSE's ``DefaultDataset`` packs its corpus); the gold model is the same
recipe without the deleted articles (a real retrain). A pretrained model is the base as it is;
its gold is a retrained model named by the ``retrain`` option, or ``PublishedReference``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from erasus_bench.harness.cache import ModelCache
from erasus_bench.lm.load import TINY, load_pretrained, load_tokenizer
from erasus_bench.lm.prompt import pad_id, right_padded
from erasus_bench.lm.tiny import TinyConfig, cached_tokenizer, tiny_gpt2, tokenizer_fingerprint
from erasus_bench.lm.train import LMRecipe, train_lm
from erasus_bench.lm.trust import pool_recipe
from erasus_bench.methods.examples import Examples

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
TINY_CONFIG = TinyConfig(n_positions=256)
# measured on the default (seed 0; epochs over the 10 packings): at 15 epochs base VerbMem 30.8
# and KnowMem forget 5.7, gold 19.2 / 0.0; at 20 base 50.7 / 11.9, gold 21.8 / 1.9; the train
# NLL still falls (0.12), so 30 leave margin for other seeds
TINY_RECIPE = LMRecipe(epochs=30, lr=3e-3, batch_size=8)
# articles are packed in this many orders, so that each sits at many offsets: a model trained on
# one packing learns its chunks by position and cannot continue an article from its own start
PACKINGS = 10


class PublishedReference(nn.Module):
    """The reference row of a pretrained model without a retrained one (no parameters): MUSE's
    published retrained-model AUC, so PrivLeak 0 by definition; no other metric."""


def pack(tokenizer, texts: list[str], length: int, packings: int = PACKINGS) -> Examples:
    """The texts, each followed by EOS, in ``packings`` seeded orders, each cut into
    ``length``-token chunks (every token a label; a last chunk padded with -100 labels)."""
    encoded = [tokenizer(t)["input_ids"] + [tokenizer.eos_token_id] for t in texts]
    rows: list[list[int]] = []
    for seed in range(packings):
        ids = [i for k in np.random.default_rng(seed).permutation(len(texts)) for i in encoded[k]]
        rows += [ids[s:s + length] for s in range(0, len(ids), length)]
    return Examples(right_padded(rows, pad_id(tokenizer), width=length))


@dataclass(frozen=True)
class MuseModels:
    """Builds, trains and caches the models of one model name."""

    name: str
    cache: ModelCache

    @property
    def tiny(self) -> bool:
        return self.name == TINY

    def context(self) -> int:
        """Tokens a passage keeps (the tiny model's context; 2048 as MUSE's ``max_len``)."""
        return TINY_CONFIG.n_positions if self.tiny else 2048

    def tokenizer(self, corpus: list[str]):
        """The tiny model's BPE tokenizer trained on ``corpus`` (cached; words carry their
        trailing space, so that KnowMem's prompt, which ends in "Answer: ", ends on a token
        boundary of the training text) or the model's own."""
        if self.tiny:
            return cached_tokenizer(self.cache.root, corpus, TINY_CONFIG.vocab_size,
                                    trailing_spaces=True)
        return load_tokenizer(self.name, self.cache.root)

    def pretrained(self, name: str | None = None) -> nn.Module:
        return load_pretrained(name or self.name, self.cache.root)[0].to(DEVICE).eval()

    def trained(self, tokenizer, texts: list[str], seed: int,
                variant: dict[str, Any] | None = None) -> tuple[nn.Module, float]:
        """The tiny model trained on ``texts`` packed (cached under the texts, tokenizer,
        recipe and seed; ``variant``: a metric-trust pool recipe, ``lm.trust``) and its
        training seconds."""
        data = pack(tokenizer, texts, TINY_CONFIG.n_positions)
        recipe = TINY_RECIPE if variant is None else pool_recipe(TINY_RECIPE, variant)
        key = {"protocol": "muse", "tiny": TINY_CONFIG.key(), "recipe": recipe.key(),
               "train_data": data.fingerprint(), "tokenizer": tokenizer_fingerprint(tokenizer),
               "seed": seed}
        model = tiny_gpt2(tokenizer, TINY_CONFIG, seed).to(DEVICE)
        return self.cache.get_or_train(key, model, lambda: train_lm(model, data, recipe, seed))
