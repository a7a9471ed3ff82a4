"""`tofu`: TOFU (Maini et al., 2024), fictitious-author QA unlearning scored with the
open-unlearning metric definitions; gold = the same model fine-tuned on the retain split."""
from __future__ import annotations

from typing import Any

from torch import nn

from erasus_bench.errors import unknown_choice
from erasus_bench.harness.cache import ModelCache
from erasus_bench.harness.requests import request_positions, split_requests
from erasus_bench.lm.attack import LMAttacks
from erasus_bench.lm.load import TINY, set_offline_defaults
from erasus_bench.lm.prompt import encode_qa
from erasus_bench.lm.trust import TRUST_VARIANTS
from erasus_bench.methods.causal_lm import CausalLMAdapter
from erasus_bench.methods.examples import Examples
from erasus_bench.metrics import tofu as T
from erasus_bench.protocols.base import (
    Evaluation,
    Objective,
    Protocol,
    Setting,
    cost_metrics,
    register_protocol,
)
from erasus_bench.protocols.tofu import CARD
from erasus_bench.protocols.tofu.data import DEFAULT_DATA, RETAIN_OF, SPLITS, TofuData, load_tofu
from erasus_bench.protocols.tofu.evaluation import EvalSets, QASplit, raw_metrics
from erasus_bench.protocols.tofu.hparams import OBJECTIVE, hparams_for
from erasus_bench.protocols.tofu.idk import idk_tensors
from erasus_bench.protocols.tofu.models import TINY_CONFIG, ModelSource, recipe_for
from erasus_bench.protocols.tofu.synthetic import corpus

MAX_LENGTH = 512
METRICS = ("forget_quality", "model_utility", "forget_truth_ratio", "forget_Q_A_Prob",
           "forget_Q_A_ROUGE", "privleak", "extraction_strength", "exact_memorization",
           "mia_min_k", "mia_loss", "mia_zlib", "mia_min_k_plus_plus",
           "retain_Q_A_Prob", "retain_Q_A_ROUGE", "retain_Truth_Ratio",
           "ra_Q_A_Prob_normalised", "ra_Q_A_ROUGE", "ra_Truth_Ratio",
           "wf_Q_A_Prob_normalised", "wf_Q_A_ROUGE", "wf_Truth_Ratio",
           "unlearn_time", "speedup")


def _qa(tokenizer, rows: list[dict], answers: list[str] | None = None) -> dict:
    return encode_qa(tokenizer, [r["question"] for r in rows],
                     answers if answers is not None else [r["answer"] for r in rows], MAX_LENGTH)


@register_protocol(CARD)
class TofuProtocol(LMAttacks, Protocol):
    """Base = fine-tuned on all authors, gold = fine-tuned on the retain split; forget split
    forget01/05/10; metrics as in open-unlearning's TOFU suite."""

    attack_metric = ("forget answer probability, exp(-mean answer-token NLL) (forget_Q_A_Prob "
                     "per item)")

    supports_requests = True
    trust_variants = TRUST_VARIANTS
    # the forget-set metrics (PrivLeak, which can be negative, left out); truth ratio (mean
    # min(R, 1/R)) and forget quality rise as the forget set is forgotten
    knowledge = {"forget_Q_A_Prob": 1, "forget_Q_A_ROUGE": 1, "forget_truth_ratio": -1,
                 "extraction_strength": 1, "exact_memorization": 1, "mia_min_k": 1,
                 "mia_loss": 1, "mia_zlib": 1, "mia_min_k_plus_plus": 1, "forget_quality": -1}

    def default_config(self) -> dict[str, Any]:
        return {"dataset": DEFAULT_DATA, "split": "forget10", "model": TINY}

    def validate_config(self, config: dict[str, Any]) -> None:
        if config["split"] not in SPLITS:
            raise unknown_choice("split", config["split"], SPLITS)

    def hparams(self, strategy: str, defaults: dict[str, Any],
                config: dict[str, Any] | None = None) -> dict[str, Any]:
        return hparams_for(strategy, defaults)

    def tuning_objective(self) -> Objective:
        return OBJECTIVE

    def metric_names(self) -> list[str]:
        return list(METRICS)

    def provenance(self, config: dict[str, Any]) -> dict[str, Any]:
        default_data = config["dataset"] == DEFAULT_DATA
        tiny = config["model"] == TINY
        r = recipe_for(config["model"])
        data = ("synthetic TOFU-format data (embedded generator of fictitious authors, offline)"
                if default_data else f"TOFU: {config['dataset']}")
        model = (f"tiny GPT-2 ({TINY_CONFIG.n_layer} layers, d={TINY_CONFIG.n_embd}, ~1M "
                 "parameters, random init, byte-level BPE trained on every split's questions and "
                 "answers without the fictitious authors' names)" if tiny
                 else f"{config['model']} (pretrained)")
        note = ("synthetic TOFU-format data, tiny model: not comparable with published TOFU "
                "numbers" if default_data or tiny else "")
        return {
            "data": data, "data_is_default": default_data,
            "forget": f"{config['split']} (gold trained on {RETAIN_OF[config['split']]})",
            "model": f"{model}; {r.describe()}; base on all authors, gold on the retain "
                     "split, same seed"
                     + ("; real-authors/world-facts items are in both models' training, standing"
                        " in for pretraining knowledge" if tiny else ""),
            "benchmark": "TOFU (open-unlearning metric definitions)" + (f" — {note}" if note
                                                                        else ""),
        }

    def _inputs(self, config: dict[str, Any], cache: ModelCache
                ) -> tuple[TofuData, ModelSource, Any]:
        set_offline_defaults()
        data: TofuData = load_tofu(config["dataset"], config["split"])
        source = ModelSource(config["model"], cache)
        return data, source, source.tokenizer(corpus(data))

    def _trained(self, config: dict[str, Any], seed: int, inputs, role: str,
                 kept_forget: list[dict] | None = None, variant: dict[str, Any] | None = None
                 ) -> tuple[nn.Module, float]:
        """The ``role`` model, or with ``kept_forget`` a gold model that was also trained on
        these forget rows (deletion requests not yet made); ``variant``: a metric-trust pool
        recipe."""
        data, source, tok = inputs
        knowledge = data.real_authors + data.world_facts if source.tiny else []
        forget = data.forget if role == "base" else (kept_forget or [])
        rows = forget + data.retain + knowledge
        data_id = {"data": data.fingerprint(), "split": config["split"]}
        return source.trained(tok, Examples(_qa(tok, rows)), data_id, seed, variant)

    def trust_model(self, setting: Setting, saw: bool, variant: dict[str, Any]) -> nn.Module:
        config = setting.config
        inputs = self._inputs(config, ModelCache(setting.extra["cache_dir"]))
        return self._trained(config, setting.seed, inputs, "base" if saw else "gold",
                             variant=variant)[0]

    def train(self, config: dict[str, Any], seed: int, cache: ModelCache, role: str
              ) -> tuple[nn.Module, float]:
        return self._trained(config, seed, self._inputs(config, cache), role)

    def setup(self, config: dict[str, Any], seed: int, cache: ModelCache) -> Setting:
        inputs = self._inputs(config, cache)
        gold, gold_s = self._trained(config, seed, inputs, "gold")
        return self._setting(config, seed, inputs, inputs[0].forget, gold, gold_s)

    def request_setting(self, config: dict[str, Any], seed: int, cache: ModelCache,
                        requests: int, j: int) -> Setting:
        inputs = self._inputs(config, cache)
        rows = inputs[0].forget
        done, pending, current = request_positions(split_requests(len(rows), requests, seed), j)
        gold, gold_s = self._trained(config, seed, inputs, "gold", [rows[i] for i in pending])
        setting = self._setting(config, seed, inputs, [rows[i] for i in done], gold, gold_s)
        setting.request_idx = current
        return setting

    def _setting(self, config: dict[str, Any], seed: int, inputs, forget_rows: list[dict],
                 gold: nn.Module, gold_s: float) -> Setting:
        """The setting that unlearns (and evaluates on) ``forget_rows``."""
        data, source, tok = inputs
        # every "I don't know" answer for every forget question: IdkDPO draws one per fetch
        forget = Examples({**_qa(tok, forget_rows),
                           **idk_tensors(tok, [r["question"] for r in forget_rows], MAX_LENGTH)})
        retain = Examples(_qa(tok, data.retain))
        base, _ = self._trained(config, seed, inputs, "base")
        sets = EvalSets(
            forget=QASplit.encode(tok, forget_rows, MAX_LENGTH, "paraphrased_answer"),
            retain=QASplit.encode(tok, data.retain_eval, MAX_LENGTH, "paraphrased_answer"),
            real_authors=QASplit.encode(tok, data.real_authors, MAX_LENGTH, "answer"),
            world_facts=QASplit.encode(tok, data.world_facts, MAX_LENGTH, "answer"),
            holdout=QASplit.encode(tok, data.holdout, MAX_LENGTH, None))
        setting = Setting(config, seed, CausalLMAdapter(), base, gold, forget, retain, gold_s,
                          extra={"tokenizer": tok, "sets": sets,
                                 "cache_dir": str(source.cache.root),
                                 "max_new_tokens": 48 if source.tiny else 200})
        setting.gold_eval = self._raw(setting, gold)
        return setting

    def with_gold(self, setting: Setting, gold: nn.Module) -> Setting:
        out = super().with_gold(setting, gold)
        out.gold_eval = self._raw(out, gold)
        return out

    def _raw(self, setting: Setting, model: nn.Module) -> Evaluation:
        m, per, t = raw_metrics(model, setting.extra["tokenizer"], setting.extra["sets"],
                                setting.extra["max_new_tokens"])
        return Evaluation(m, per, t)

    def evaluate(self, setting: Setting, model: nn.Module, unlearn_time: float | None
                 ) -> Evaluation:
        ev = self._raw(setting, model)
        gold = setting.gold_eval
        assert gold is not None
        m = ev.metrics
        m["forget_quality"] = T.forget_quality(ev.per_example["forget_truth_ratio"],
                                               gold.per_example["forget_truth_ratio"])
        m["privleak"] = T.privleak(m["mia_min_k"], gold.metrics["mia_min_k"])
        m.update(cost_metrics(setting, unlearn_time))
        return Evaluation({k: m[k] for k in METRICS}, ev.per_example, ev.timings)
