"""`muse`: MUSE (Shi et al., 2024, "MUSE: Machine Unlearning Six-Way Evaluation for Language
Models"): verbatim memorisation (C1), knowledge memorisation (C2), privacy leak (C3) and utility
(C4) of the unlearned model, after unlearning forget sets of growing size (C5, ``forget_split``)
and after sequential deletion requests (C6, ``--requests``: the ``sust`` splits)."""
from __future__ import annotations

import time
from typing import Any

import numpy as np
from torch import nn

from erasus_bench.errors import UserError, unknown_choice
from erasus_bench.harness.cache import ModelCache
from erasus_bench.harness.requests import check_requests
from erasus_bench.harness.spec import variant_name
from erasus_bench.lm.attack import TinyModelAttacks, require_tiny
from erasus_bench.lm.corpus import encode_text
from erasus_bench.lm.generate import continuations
from erasus_bench.lm.load import TINY, set_offline_defaults
from erasus_bench.lm.prompt import pad_id, right_padded
from erasus_bench.lm.trust import TRUST_VARIANTS
from erasus_bench.lm.scoring import token_stats
from erasus_bench.methods.causal_lm import CausalLMAdapter
from erasus_bench.methods.examples import Examples
from erasus_bench.metrics import muse as M
from erasus_bench.protocols.base import Evaluation, Objective, Protocol, Setting, register_protocol
from erasus_bench.protocols.muse import CARD
from erasus_bench.protocols.muse.data import CORPORA, DEFAULT_DATA, REVISIONS, MuseData, load_muse
from erasus_bench.protocols.muse.hparams import OBJECTIVE, hparams_for
from erasus_bench.protocols.muse.models import (TINY_CONFIG, TINY_RECIPE, MuseModels,
                                                PublishedReference)

METRICS = ("verbmem_f", "knowmem_f", "knowmem_r", "privleak", "unlearn_time", "speedup")
FORGET_SPLITS = ("forget_1", "forget_2", "forget_3", "forget_4")  # scal/forget_k (C5)
NO_RETRAIN = "none"
Inputs = tuple[MuseData, MuseModels, Any]


@register_protocol(CARD)
class MuseProtocol(TinyModelAttacks, Protocol):
    """Base = trained on every article (``train``: forget + the other deletion requests +
    retain) or the pretrained target as it is; gold = retrained without the deleted articles
    (tiny), the ``retrain`` model, or MUSE's published retrained-model AUC."""

    attack_metric = "likelihood of the forget texts, exp(-mean token NLL) per passage"
    trust_variants = TRUST_VARIANTS
    knowledge = {"verbmem_f": 1, "knowmem_f": 1}  # PrivLeak, which can be negative, left out

    supports_requests = True

    def default_config(self) -> dict[str, Any]:
        return {"dataset": DEFAULT_DATA, "corpus": "news", "model": TINY,
                "forget_split": "forget_1", "retrain": NO_RETRAIN, "stemmer": False}

    def validate_config(self, config: dict[str, Any]) -> None:
        if config["corpus"] not in CORPORA:
            raise unknown_choice("corpus", config["corpus"], CORPORA)
        if config["forget_split"] not in FORGET_SPLITS:
            raise unknown_choice("forget_split", config["forget_split"], FORGET_SPLITS)
        if config["model"] == TINY and config["retrain"] != NO_RETRAIN:
            raise UserError(f"retrain={config['retrain']!r} is for a pretrained --model: the "
                            f"embedded {TINY} is retrained for every forget set; drop it")

    def hparams(self, strategy: str, defaults: dict[str, Any],
                config: dict[str, Any] | None = None) -> dict[str, Any]:
        return hparams_for(strategy, defaults, tiny=(config or {}).get("model", TINY) == TINY)

    def tuning_variant(self, config: dict[str, Any]) -> str:
        """One set of tuned values per corpus, data and model, kept across the C5 forget-set
        sizes (as MUSE keeps its hyperparameters): stored under ``forget_1``'s variant."""
        return variant_name({**config, "forget_split": FORGET_SPLITS[0]})

    def tuning_objective(self) -> Objective:
        return OBJECTIVE

    def metric_names(self) -> list[str]:
        return list(METRICS)

    def provenance(self, config: dict[str, Any]) -> dict[str, Any]:
        default_data, tiny = config["dataset"] == DEFAULT_DATA, config["model"] == TINY
        corpus = config["corpus"]
        rev = REVISIONS[corpus]
        data = ("synthetic MUSE-News-format data (embedded generator of invented news "
                "articles with fact boxes, offline)" if default_data else
                f"MUSE-{corpus.title()}: {config['dataset']}"
                + (f" (revision {rev[:10]})" if rev else " (default branch, not pinned)"))
        gold = ("gold retrained on the same articles without the deleted ones, same seed"
                if tiny else f"gold {config['retrain']}" if config["retrain"] != NO_RETRAIN
                else f"no retrained model: PrivLeak against MUSE's published retrained-model "
                     f"AUC {M.AUC_RETRAIN[corpus]} (constants.py), no other reference metric")
        model = (f"tiny GPT-2 ({TINY_CONFIG.n_layer} layers, d={TINY_CONFIG.n_embd}, "
                 f"{TINY_CONFIG.n_positions}-token context, random init, byte-level BPE "
                 f"trained on the articles), {TINY_RECIPE.describe()} over the articles packed "
                 "into full-context chunks; base on every article" if tiny else
                 f"{config['model']} (pretrained target, as it is)") + f"; {gold}"
        rouge = ("ROUGE-L F1 x100 with the Porter stemmer (open-unlearning's scoring; its pages "
                 "show 0-1)" if config["stemmer"] else
                 "ROUGE-L F1 x100, no stemmer (MUSE's scoring; open-unlearning stems and shows "
                 "0-1: --option stemmer=true)")
        note = ("synthetic data, tiny model: not comparable with published MUSE numbers; "
                "KnowMem asks the articles' own fact-box questions" if default_data or tiny
                else f"published: {self.card.published}")
        split = config["forget_split"]
        which = "raw forget" if split == "forget_1" else "C5 scalability"
        return {
            "data": data, "data_is_default": default_data,
            "forget": f"scal/{split} ({which}); retain set raw/retain1",
            "model": model,
            "benchmark": f"MUSE (swj0419/muse_bench definitions): VerbMem greedy "
                         f"{M.VERBMEM_TOKENS} tokens vs the first {M.VERBMEM_TOKENS} tokens of "
                         f"the true continuation; KnowMem 10 in-context QA pairs, "
                         f"{M.KNOWMEM_TOKENS} tokens cut at a blank line or 'Question'; {rouge}; "
                         f"PrivLeak from the Min-{int(M.MIN_K * 100)}% AUC of forget vs holdout "
                         "(forget labelled 0) relative to the retrained model's; deviations: "
                         "methods unlearn whole articles (a coreset is a set of articles; MUSE "
                         "packs them into 2048-token chunks), constant learning rates"
                         + f" — {note}",
        }

    def _inputs(self, config: dict[str, Any], cache: ModelCache) -> Inputs:
        set_offline_defaults()
        data = load_muse(config["dataset"], config["corpus"])
        models = MuseModels(config["model"], cache)
        corpus = data.train + data.privleak["holdout"]
        return data, models, models.tokenizer(corpus)

    def _forget_texts(self, config: dict[str, Any], data: MuseData) -> list[str]:
        k = int(config["forget_split"].rsplit("_", 1)[1])
        if k == 1:
            return data.forget
        if k not in data.scal:
            raise UserError(f"forget_split={config['forget_split']} needs the scal config, "
                            f"which {data.source!r} ({data.corpus}) does not have (MUSE: News "
                            "only)")
        return data.scal[k]

    def _base(self, seed: int, inputs: Inputs) -> tuple[nn.Module, float]:
        data, models, tok = inputs
        return models.trained(tok, data.train, seed) if models.tiny else (models.pretrained(),
                                                                           0.0)

    def trust_model(self, setting: Setting, saw: bool, variant: dict[str, Any]) -> nn.Module:
        config = setting.config
        require_tiny(self.name, config)
        data, models, tok = self._inputs(config, ModelCache(setting.extra["cache_dir"]))
        texts = data.train if saw else data.without(self._forget_texts(config, data))
        return models.trained(tok, texts, setting.seed, variant)[0]

    def _gold(self, config: dict[str, Any], seed: int, inputs: Inputs, removed: list[str]
              ) -> tuple[nn.Module, float]:
        data, models, tok = inputs
        if models.tiny:
            return models.trained(tok, data.without(removed), seed)
        if config["retrain"] != NO_RETRAIN:
            return models.pretrained(config["retrain"]), 0.0
        return PublishedReference(), 0.0

    def train(self, config: dict[str, Any], seed: int, cache: ModelCache, role: str
              ) -> tuple[nn.Module, float]:
        inputs = self._inputs(config, cache)
        if role == "base":
            return self._base(seed, inputs)
        return self._gold(config, seed, inputs, self._forget_texts(config, inputs[0]))

    def setup(self, config: dict[str, Any], seed: int, cache: ModelCache) -> Setting:
        inputs = self._inputs(config, cache)
        forget = self._forget_texts(config, inputs[0])
        gold, gold_s = self._gold(config, seed, inputs, forget)
        return self._setting(config, seed, inputs, forget, gold, gold_s)

    def request_setting(self, config: dict[str, Any], seed: int, cache: ModelCache,
                        requests: int, j: int) -> Setting:
        """Request j unlearns ``sust/forget_j`` (MUSE's C6); gold is retrained without
        ``sust/forget_1..j``; the metrics stay those of the forget set (raw forget)."""
        inputs = self._inputs(config, cache)
        data = inputs[0]
        check_requests(requests)
        if requests > len(data.sust) or config["forget_split"] != "forget_1":
            raise UserError(f"--requests {requests} is invalid for muse: requests are the sust "
                            f"splits of {data.source!r}, valid: 2..{len(data.sust)}, with "
                            "forget_split=forget_1" if len(data.sust) >= 2 else
                            f"{data.source!r} ({data.corpus}) has no sust splits for --requests "
                            "(MUSE: News only)")
        parts = [data.sust[k] for k in range(1, requests + 1)]
        deleted = [t for p in parts[:j] for t in p]
        gold, gold_s = self._gold(config, seed, inputs, deleted)
        setting = self._setting(config, seed, inputs, deleted, gold, gold_s)
        start = sum(len(p) for p in parts[:j - 1])
        setting.request_idx = np.arange(start, start + len(parts[j - 1]))
        return setting

    def _setting(self, config: dict[str, Any], seed: int, inputs: Inputs, forget: list[str],
                 gold: nn.Module, gold_s: float) -> Setting:
        data, models, tok = inputs
        length = models.context()
        base, _ = self._base(seed, inputs)
        sets = {
            "verbmem_prompts": [r["prompt"] for r in data.verbmem],
            "verbmem_gt": [tok.decode(tok(r["gt"])["input_ids"][:M.VERBMEM_TOKENS],
                                      skip_special_tokens=True) for r in data.verbmem],
            **{f"knowmem_{s}_prompts": [M.knowmem_prompt(data.knowmem[f"{split}_qa_icl"],
                                                         r["question"])
                                        for r in data.knowmem[f"{split}_qa"]]
               for s, split in (("f", "forget"), ("r", "retain"))},
            **{f"knowmem_{s}_answers": [r["answer"] for r in data.knowmem[f"{split}_qa"]]
               for s, split in (("f", "forget"), ("r", "retain"))},
            "privleak": {s: _scoring(tok, data.privleak[s], length) for s in ("forget",
                                                                                "holdout")},
        }
        setting = Setting(config, seed, CausalLMAdapter(), base, gold,
                          Examples(encode_text(tok, forget, length)),
                          Examples(encode_text(tok, data.retain, length)), gold_s,
                          extra={"tokenizer": tok, "sets": sets, "retrained": models.tiny,
                                 "stemmer": bool(config["stemmer"]),
                                 "cache_dir": str(models.cache.root)})
        setting.extra["auc_retrain"] = (M.AUC_RETRAIN[config["corpus"]]
                                        if isinstance(gold, PublishedReference)
                                        else self._privacy(setting, gold)[2])
        return setting

    def with_gold(self, setting: Setting, gold: nn.Module) -> Setting:
        out = super().with_gold(setting, gold)
        out.extra = {**setting.extra, "auc_retrain": self._privacy(out, gold)[2]}
        return out

    def _privacy(self, setting: Setting, model: nn.Module
                 ) -> tuple[list[float], list[float], float]:
        """Min-K% scores of the privleak forget and holdout documents (as records store them)
        and their AUC."""
        scores = {s: _round([M.min_k(lp) for lp in token_stats(model, ex, batch_size=16).logprob])
                  for s, ex in setting.extra["sets"]["privleak"].items()}
        return scores["forget"], scores["holdout"], M.forget_holdout_auc(scores["forget"],
                                                                         scores["holdout"])

    def evaluate(self, setting: Setting, model: nn.Module, unlearn_time: float | None
                 ) -> Evaluation:
        if isinstance(model, PublishedReference):
            return Evaluation({"verbmem_f": None, "knowmem_f": None, "knowmem_r": None,
                               "privleak": 0.0, "unlearn_time": 0.0, "speedup": None})
        tok, sets, stem = (setting.extra["tokenizer"], setting.extra["sets"],
                           setting.extra["stemmer"])
        per: dict[str, list] = {}
        timings: dict[str, float] = {}
        start = time.perf_counter()
        verb = continuations(model, tok, sets["verbmem_prompts"], M.VERBMEM_TOKENS)
        per["verbmem_generation"] = verb
        per["verbmem_rougeL"] = _round(M.rouge_l_f1(verb, sets["verbmem_gt"], stem))
        for s in ("f", "r"):
            out = [M.cut_answer(g) for g in continuations(
                model, tok, sets[f"knowmem_{s}_prompts"], M.KNOWMEM_TOKENS)]
            per[f"knowmem_{s}_generation"] = out
            per[f"knowmem_{s}_rougeL"] = _round(M.rouge_l_f1(out, sets[f"knowmem_{s}_answers"],
                                                             stem))
        timings["generate_s"] = time.perf_counter() - start
        start = time.perf_counter()
        forget, holdout, auc = self._privacy(setting, model)
        timings["forward_s"] = time.perf_counter() - start
        per["privleak_forget_min_k"], per["privleak_holdout_min_k"] = forget, holdout
        per["privleak_auc_retrain"] = [setting.extra["auc_retrain"]]
        metrics: dict[str, float | None] = {
            "verbmem_f": 100.0 * float(np.mean(per["verbmem_rougeL"])),
            "knowmem_f": 100.0 * float(np.mean(per["knowmem_f_rougeL"])),
            "knowmem_r": 100.0 * float(np.mean(per["knowmem_r_rougeL"])),
            "privleak": M.privleak(auc, setting.extra["auc_retrain"]),
            "unlearn_time": unlearn_time,
            "speedup": (setting.gold_train_s / unlearn_time
                        if setting.extra["retrained"] and unlearn_time else None),
        }
        return Evaluation(metrics, per, timings)


def _round(values: list[float]) -> list[float]:
    """Per-item values as stored in records (6 significant digits); aggregates are computed
    from these, so a record's metrics recompute exactly from its per-item values."""
    return [float(f"{v:.6g}") for v in values]


def _scoring(tokenizer, texts: list[str], length: int) -> Examples:
    """Each text as ``tokenizer(text)`` (BOS first where the tokenizer adds one, no EOS), cut
    to ``length`` tokens, every token but the first scored (privleak.py's ``compute_ppl``)."""
    rows = [tokenizer(t)["input_ids"][:length] for t in texts]
    return Examples(right_padded(rows, pad_id(tokenizer)))
