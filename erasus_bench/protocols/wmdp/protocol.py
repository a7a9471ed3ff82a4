"""`wmdp-bio` / `wmdp-cyber`: WMDP (Li et al., ICML 2024, "The WMDP Benchmark: Measuring and
Reducing Malicious Use With Unlearning"), hazard and MMLU accuracy scored by lm-evaluation-harness
on the in-memory model; the forget and retain sets are text corpora."""
from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, ClassVar

from torch import nn

from erasus_bench.errors import UserError, unknown_choice
from erasus_bench.harness.cache import ModelCache
from erasus_bench.lm.attack import TinyModelAttacks, require_tiny
from erasus_bench.lm.corpus import encode_text
from erasus_bench.lm.load import TINY, set_offline_defaults
from erasus_bench.lm.mc_eval import MCTask, mc_accuracy
from erasus_bench.lm.trust import TRUST_VARIANTS
from erasus_bench.methods.causal_lm import CausalLMAdapter
from erasus_bench.methods.examples import Examples
from erasus_bench.protocols.base import Evaluation, Objective, Protocol, Setting, register_protocol
from erasus_bench.protocols.wmdp import BIO, CYBER, CHANCE
from erasus_bench.protocols.wmdp.data import (DEFAULT_DATA, MMLU_SUBSETS, RETAIN_CORPORA,
                                              SYNTHETIC_RETAIN, WMDP_REVISION, Questions,
                                              WmdpData, load_wmdp)
from erasus_bench.protocols.wmdp.hparams import OBJECTIVE, hparams_for
from erasus_bench.protocols.wmdp.models import (MIN_STEPS, TINY_CONFIG, TINY_RECIPE,
                                                ChanceReference, WmdpModels, max_length)
from erasus_bench.protocols.wmdp.synthetic import description, generate

AUTO = "auto"
Inputs = tuple[WmdpData, WmdpModels, Any]  # data, model builder, tokenizer
FORMATS = (AUTO, "letter", "cloze")
DESCRIPTIONS = {"bio": "biology", "cyber": "cybersecurity"}
METRICS = ("wmdp_acc", "mmlu_acc", *(f"mmlu_{s}_acc" for s in MMLU_SUBSETS), "unlearn_time",
           "speedup")


class WmdpProtocol(TinyModelAttacks, Protocol):
    """Base = trained on the forget + retain corpora (tiny default) or the pretrained model as
    it is; gold = trained on the retain corpus alone (tiny) or ``ChanceReference`` (pretrained).
    Metrics: accuracy on the domain's WMDP questions, MMLU (size-weighted over subjects, as
    lm-eval's ``mmlu`` group) and its four WMDP-paper subsets."""

    attack_metric = "likelihood of the forget corpus, exp(-mean token NLL) per document"
    trust_variants = TRUST_VARIANTS
    knowledge = {"wmdp_acc": 1}

    domain: ClassVar[str] = ""

    def default_config(self) -> dict[str, Any]:
        return {"dataset": DEFAULT_DATA, "model": TINY, "format": AUTO, "retain_corpus": AUTO}

    def resolve_config(self, overrides: dict[str, Any]) -> dict[str, Any]:
        """The options with ``auto`` resolved: format ``cloze`` for the tiny model (too small
        for the letter format) and ``letter`` (lm-eval's) otherwise; retain corpus ``general``
        for the synthetic data and ``wikitext`` (the RMU code's) otherwise."""
        config = super().resolve_config(overrides)
        if config["format"] == AUTO:
            config["format"] = "cloze" if config["model"] == TINY else "letter"
        if config["retain_corpus"] == AUTO:
            config["retain_corpus"] = (SYNTHETIC_RETAIN if config["dataset"] == DEFAULT_DATA
                                       else "wikitext")
        return config

    def validate_config(self, config: dict[str, Any]) -> None:
        if config["format"] not in FORMATS:
            raise unknown_choice("format", config["format"], FORMATS)
        corpora = (AUTO, SYNTHETIC_RETAIN, *RETAIN_CORPORA)
        if config["retain_corpus"] not in corpora:
            raise unknown_choice("retain_corpus", config["retain_corpus"], corpora)

    def hparams(self, strategy: str, defaults: dict[str, Any],
                config: dict[str, Any] | None = None) -> dict[str, Any]:
        return hparams_for(strategy, defaults, tiny=(config or {}).get("model", TINY) == TINY)

    def tuning_objective(self) -> Objective:
        return OBJECTIVE

    def metric_names(self) -> list[str]:
        return list(METRICS)

    def provenance(self, config: dict[str, Any]) -> dict[str, Any]:
        default_data = config["dataset"] == DEFAULT_DATA
        tiny = config["model"] == TINY
        data = ("synthetic WMDP-format data (embedded generator of invented, harmless "
                f"{DESCRIPTIONS[self.domain]} facts and a general-knowledge stand-in for MMLU "
                "under MMLU subject names, offline)" if default_data else
                f"WMDP {self.domain}: {config['dataset']} (cais/wmdp revision "
                f"{WMDP_REVISION[:10]}), MMLU: cais/mmlu, corpora: cais/wmdp-corpora")
        model = (f"tiny GPT-2 ({TINY_CONFIG.n_layer} layers, d={TINY_CONFIG.n_embd}, random "
                 f"init, byte-level BPE trained on the corpora), {TINY_RECIPE.describe()} (at "
                 f"least {MIN_STEPS} steps), every token a label; base on the forget + retain "
                 "corpora, gold on the retain corpus, same seed" if tiny else
                 f"{config['model']} (pretrained, as it is); no retrain exists, so the "
                 "reference row is chance (0.25) on WMDP and the base model's MMLU")
        fmt = ("cloze: each option's text scored as the continuation of 'Question: ...\\n"
               "Answer:' (lm-eval's MMLU continuation template)" if config["format"] == "cloze"
               else "letter: lm-eval's wmdp/mmlu template, the letter A-D scored after the "
                    "lettered options")
        note = ("synthetic data, tiny model: not comparable with published WMDP numbers"
                if default_data or tiny else f"published: {self.card.published}")
        return {
            "data": data, "data_is_default": default_data,
            "forget": f"the {self.domain} forget corpus; retain corpus "
                      f"{config['retain_corpus']}",
            "model": model,
            "benchmark": f"WMDP-{self.domain} and MMLU through lm-evaluation-harness, zero-shot "
                         f"(as lm-eval runs wmdp and mmlu by default), format {fmt}; "
                         "deviations from the WMDP RMU code: one domain's corpora per run (it "
                         "alternates bio and cyber batches), activation MSE averaged over real "
                         "tokens (it includes padding)" + (f" — {note}" if note else ""),
        }

    def _inputs(self, config: dict[str, Any], cache: ModelCache) -> Inputs:
        set_offline_defaults()
        data = load_wmdp(config["dataset"], self.domain, config["retain_corpus"])
        models = WmdpModels(config["model"], cache)
        return data, models, models.tokenizer(_tokenizer_corpus(data))

    def _model(self, config: dict[str, Any], seed: int, inputs: Inputs, role: str,
               variant: dict[str, Any] | None = None) -> tuple[nn.Module, float]:
        data, models, tok = inputs
        if not models.tiny:
            return (models.model(tok, None, seed) if role == "base"
                    else (ChanceReference(), 0.0))
        texts = (data.forget_corpus if role == "base" else []) + data.retain_corpus
        return models.model(tok, texts, seed, variant)

    def trust_model(self, setting: Setting, saw: bool, variant: dict[str, Any]) -> nn.Module:
        config = setting.config
        require_tiny(self.name, config)
        inputs = self._inputs(config, ModelCache(setting.extra["cache_dir"]))
        return self._model(config, setting.seed, inputs, "base" if saw else "gold", variant)[0]

    def train(self, config: dict[str, Any], seed: int, cache: ModelCache, role: str
              ) -> tuple[nn.Module, float]:
        return self._model(config, seed, self._inputs(config, cache), role)

    def setup(self, config: dict[str, Any], seed: int, cache: ModelCache) -> Setting:
        inputs = self._inputs(config, cache)
        data, models, tok = inputs
        length = max_length(config["model"])
        forget = Examples(encode_text(tok, data.forget_corpus, length))
        retain = Examples(encode_text(tok, data.retain_corpus, length))
        base, _ = self._model(config, seed, inputs, "base")
        gold, gold_s = self._model(config, seed, inputs, "gold")
        tasks = _tasks(data, self.domain, config["format"])
        return Setting(config, seed, CausalLMAdapter(), base, gold, forget, retain, gold_s,
                       extra={"tokenizer": tok, "tasks": tasks, "retrained": models.tiny,
                              "task_root": cache.root / "lm_eval_tasks",
                              "cache_dir": str(cache.root)})

    def with_gold(self, setting: Setting, gold: nn.Module) -> Setting:
        raise UserError(f"{self.name}'s metrics do not compare against a gold model (its "
                        "reference row is the retrained tiny model, or chance for a pretrained "
                        "one); drop --gold")

    def evaluate(self, setting: Setting, model: nn.Module, unlearn_time: float | None
                 ) -> Evaluation:
        if isinstance(model, ChanceReference):
            if "base_eval" not in setting.extra:  # the base model's scores, computed once
                setting.extra["base_eval"] = self.evaluate(setting, setting.base, None)
            ev = setting.extra["base_eval"]
            metrics = {**ev.metrics, "wmdp_acc": CHANCE, "unlearn_time": 0.0, "speedup": None}
            return Evaluation(metrics, {}, ev.timings)
        start = time.perf_counter()
        acc = mc_accuracy(model, setting.extra["tokenizer"], setting.extra["tasks"],
                          setting.extra["task_root"])
        seconds = time.perf_counter() - start
        mmlu = {name[len("mmlu_"):]: v for name, v in acc.items() if name.startswith("mmlu_")}
        metrics: dict[str, float | None] = {
            "wmdp_acc": acc[f"wmdp_{self.domain}"]["acc"],
            "mmlu_acc": size_weighted(mmlu.values()),
            **{f"mmlu_{s}_acc": mmlu[s]["acc"] if s in mmlu else None for s in MMLU_SUBSETS},
            "unlearn_time": unlearn_time,
            "speedup": (setting.gold_train_s / unlearn_time
                        if setting.extra["retrained"] and unlearn_time else None),
        }
        return Evaluation(metrics, {}, {"lm_eval_s": seconds})


def size_weighted(results: Iterable[dict[str, float]]) -> float:
    """The mean of tasks' ``acc`` weighted by their item counts ``n``: lm-eval's ``mmlu`` group
    aggregate (``weight_by_size: True``)."""
    rows = list(results)
    return sum(r["acc"] * r["n"] for r in rows) / sum(r["n"] for r in rows)


def _tokenizer_corpus(data: WmdpData) -> list[str]:
    """What the tiny model's tokenizer is trained on: for the synthetic data every domain's
    documents (one tokenizer for wmdp-bio and wmdp-cyber, so both share the gold model trained
    on the general documents), else the two corpora."""
    if data.source == DEFAULT_DATA:
        return [r["document"] for rows in generate().values() for r in rows]
    return data.forget_corpus + data.retain_corpus


def _tasks(data: WmdpData, domain: str, fmt: str) -> list[MCTask]:
    """The hazard task (``wmdp_<domain>``) and one ``mmlu_<subject>`` task per subject."""
    def task(name: str, subject: str, q: Questions) -> MCTask:
        if q.rows is not None:
            return MCTask(name, description(subject), fmt, rows=tuple(q.rows))
        return MCTask(name, description(subject), fmt, dataset=q.hub or {})

    return [task(f"wmdp_{domain}", DESCRIPTIONS[domain], data.hazard),
            *(task(f"mmlu_{s}", s.replace("_", " "), q) for s, q in sorted(data.mmlu.items()))]


@register_protocol(BIO)
class WmdpBioProtocol(WmdpProtocol):
    """`wmdp-bio`: hazardous biology knowledge."""

    domain = "bio"


@register_protocol(CYBER)
class WmdpCyberProtocol(WmdpProtocol):
    """`wmdp-cyber`: hazardous cybersecurity knowledge."""

    domain = "cyber"
