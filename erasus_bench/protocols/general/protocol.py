"""`general`: unlearn a random 10% of train (or one class) from an MLP classifier; compare with a
model retrained on the retain split (SalUn / l1-sparse evaluation conventions)."""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from erasus_bench.errors import UserError, unknown_choice
from erasus_bench.harness.cache import ModelCache
from erasus_bench.harness.requests import request_positions, split_requests
from erasus_bench.methods.classifier import ClassifierAdapter
from erasus_bench.methods.examples import Examples
from erasus_bench.methods.training_run import BaseRecipe, TrainingRun
from erasus_bench.metrics import classification as M
from erasus_bench.protocols.base import (
    Evaluation,
    Objective,
    Protocol,
    Setting,
    cost_metrics,
    register_protocol,
)
from erasus_bench.protocols.general import CARD
from erasus_bench.protocols.general.data import DEFAULT_DATASET, Splits, load_raw, make_splits
from erasus_bench.protocols.general.hparams import SEARCH, hparams_for
from erasus_bench.protocols.general.model import Recipe, build_model, train_model
from erasus_bench.protocols.general.privacy import N_MODELS, epsilon_stage, pool_seeds

if TYPE_CHECKING:
    from erasus_bench.harness.attacks import AttackInput, StageResult
    from erasus_bench.harness.relearn import RelearnRecipe

SCENARIOS = ("random", "class")
# EL2N/GraNd score networks: stopped where digits train accuracy (~0.88) is where CIFAR-10's is
# at the paper's epoch 20 of 200; later, scores of a near-perfect fit track the loss ranking
EARLY_EPOCHS = 2
EARLY_RUNS = 4  # score networks averaged per seed (the paper averages 10)
METRICS = ("avg_gap", "forget_acc", "retain_acc", "test_acc", "mia_efficacy", "mia_loss_threshold",
           "forget_quality", "unlearn_time", "speedup")


def _round(values: torch.Tensor | np.ndarray, digits: int = 6) -> list[float]:
    return [float(f"{v:.{digits}g}") for v in np.asarray(values, dtype=np.float64)]


@register_protocol(CARD)
class GeneralProtocol(Protocol):
    """Digits (or a datasets classification set) + MLP; base on train, gold on retain."""

    supports_requests = True
    attacks = ("quantize", "relearn")
    optional_attacks = ("epsilon",)
    attack_metric = "mean true-class probability, exp(-cross-entropy)"
    # the base recipe at 1/2, 1 and 2x its learning rate, for half and all of its epochs
    trust_variants = tuple({"lr": lr, "epochs": ep} for lr in (5e-4, 1e-3, 2e-3)
                           for ep in (30, 60))
    knowledge = {"avg_gap": 1, "forget_acc": 1, "mia_efficacy": -1, "mia_loss_threshold": -1,
                 "forget_quality": -1}

    recipe = Recipe()

    def default_config(self) -> dict[str, Any]:
        return {"scenario": "random", "dataset": DEFAULT_DATASET, "forget_fraction": 0.1,
                "forget_class": 0}

    def validate_config(self, config: dict[str, Any]) -> None:
        if config["scenario"] not in SCENARIOS:
            raise unknown_choice("scenario", config["scenario"], SCENARIOS)
        if not 0 < float(config["forget_fraction"]) < 1:
            raise UserError(f"forget_fraction {config['forget_fraction']} is outside (0, 1)")

    def hparams(self, strategy: str, defaults: dict[str, Any],
                config: dict[str, Any] | None = None) -> dict[str, Any]:
        return hparams_for(strategy, defaults)

    def search_space(self, strategy: str, hparams: dict[str, Any]) -> dict[str, list[Any]]:
        return SEARCH.get(strategy) or super().search_space(strategy, hparams)

    def tuning_objective(self) -> Objective:
        return Objective("minimise avg_gap (mean over tuning seeds and the random-10% and full "
                         "coresets)",
                         lambda cells, _base: -float(np.mean([c["avg_gap"] for c in cells])))

    def metric_names(self) -> list[str]:
        return list(METRICS)

    def provenance(self, config: dict[str, Any]) -> dict[str, Any]:
        default = config["dataset"] == DEFAULT_DATASET
        data = ("scikit-learn load_digits (bundled, offline)" if default
                else f"datasets: {config['dataset']}")
        r = self.recipe
        forget = (f"random {config['forget_fraction']:.0%} of train" if config["scenario"] ==
                  "random" else f"all train samples of class {config['forget_class']}")
        return {
            "data": f"{data}; standardised, stratified 70/30 train/test split per seed",
            "forget": forget,
            "data_is_default": default,
            "model": f"MLP (2x{r.hidden} ReLU) trained {r.epochs} epochs with Adam "
                     f"lr={r.lr:g}; base on train, gold (retrain) on retain, same seed",
            "benchmark": "general (classifier unlearning; SalUn/l1-sparse metric conventions)",
        }

    def _splits(self, config: dict[str, Any], seed: int) -> Splits:
        raw = load_raw(config["dataset"])
        forget_class = int(config["forget_class"])
        if config["scenario"] == "class" and forget_class not in set(raw.y.tolist()):
            raise UserError(f"forget_class {forget_class} is not a label of {config['dataset']!r}"
                            f"; valid: 0..{int(raw.y.max())}")
        return make_splits(raw, seed, config["scenario"], float(config["forget_fraction"]),
                           forget_class)

    def _trained(self, s: Splits, role: str, seed: int, cache: ModelCache
                 ) -> tuple[nn.Module, float]:
        return self._trained_on(s, s.train if role == "base" else s.retain, seed, cache)

    def _model_key(self, data: Examples, seed: int, recipe: Recipe) -> dict[str, Any]:
        return {"protocol": self.name, "train_data": data.fingerprint(),
                "recipe": recipe.key(), "seed": seed}

    def _trained_on(self, s: Splits, data: Examples, seed: int, cache: ModelCache,
                    recipe: Recipe | None = None) -> tuple[nn.Module, float]:
        recipe = recipe or self.recipe
        key = self._model_key(data, seed, recipe)
        blank = build_model(s.in_dim, s.num_classes, recipe, seed)
        model, train_s = cache.get_or_train(key, blank, lambda: train_model(
            data, s.in_dim, s.num_classes, recipe, seed))
        model.requires_grad_(True)
        return model, train_s

    def _early(self, s: Splits, seed: int, cache: ModelCache) -> tuple[list[nn.Module], float]:
        """EL2N/GraNd score networks (Paul et al. 2021): ``EARLY_RUNS`` runs of the base recipe
        on train stopped after ``EARLY_EPOCHS`` epochs; run 0 has the base model's seed, so it is
        the base model's own early checkpoint. Returns them and their total training time."""
        early = replace(self.recipe, epochs=EARLY_EPOCHS)
        models, total = [], 0.0
        for run in range(EARLY_RUNS):
            run_seed = seed + 7_919 * run
            key = {"protocol": self.name, "train_data": s.train.fingerprint(),
                   "recipe": early.key(), "seed": run_seed, "early_run": run}
            blank = build_model(s.in_dim, s.num_classes, early, run_seed)
            model, train_s = cache.get_or_train(key, blank, lambda rs=run_seed: train_model(
                s.train, s.in_dim, s.num_classes, early, rs))
            models.append(model.requires_grad_(True))
            total += 0.0 if run == 0 else train_s  # run 0 is a snapshot of base training
        return models, total

    def train(self, config: dict[str, Any], seed: int, cache: ModelCache, role: str
              ) -> tuple[nn.Module, float]:
        s = self._splits(config, seed)
        if role.startswith("retrain-"):  # a model of the epsilon stage's retrain pool
            i = int(role.split("-")[1])
            return self._trained_on(s, s.retain, pool_seeds(seed, i // N_MODELS)[i % N_MODELS],
                                    cache)
        return self._trained(s, role, seed, cache)

    def attack_roles(self, stages: tuple[str, ...]) -> tuple[str, ...]:
        return (tuple(f"retrain-{i}" for i in range(1, 2 * N_MODELS)) if "epsilon" in stages
                else ())

    def relearn_recipe(self, config: dict[str, Any]) -> RelearnRecipe:
        from erasus_bench.harness.relearn import RelearnRecipe

        return RelearnRecipe("sgd", lr=0.01, steps=20, batch_size=16, every=2, momentum=0.9)

    def trust_model(self, setting: Setting, saw: bool, variant: dict[str, Any]) -> nn.Module:
        splits = self._splits(setting.config, setting.seed)
        return self._trained_on(splits, splits.train if saw else splits.retain, setting.seed,
                                ModelCache(setting.extra["cache_dir"]),
                                replace(self.recipe, **variant))[0]

    def attack(self, name: str, inp: AttackInput) -> StageResult:
        if name != "epsilon":
            return super().attack(name, inp)
        s = inp.setting
        splits = self._splits(s.config, s.seed)
        cache = ModelCache(s.extra["cache_dir"])
        return epsilon_stage(inp, lambda seed: self._trained_on(splits, splits.retain, seed,
                                                                cache)[0])

    def setup(self, config: dict[str, Any], seed: int, cache: ModelCache) -> Setting:
        s = self._splits(config, seed)
        gold, gold_s = self._trained(s, "gold", seed, cache)
        return self._setting(config, seed, cache, s, s.forget_idx, gold, gold_s)

    def request_setting(self, config: dict[str, Any], seed: int, cache: ModelCache,
                        requests: int, j: int) -> Setting:
        s = self._splits(config, seed)
        done, pending, current = request_positions(split_requests(len(s.forget), requests,
                                                                  seed), j)
        gold, gold_s = self._trained_on(s, s.retain.concat(s.forget.subset(pending)), seed,
                                        cache)
        return self._setting(config, seed, cache, s, s.forget_idx[done], gold, gold_s, current)

    def _setting(self, config: dict[str, Any], seed: int, cache: ModelCache, s: Splits,
                 forget_pos: np.ndarray, gold: nn.Module, gold_s: float,
                 request_idx: np.ndarray | None = None) -> Setting:
        """The setting whose forget set is train's ``forget_pos`` (of which ``request_idx`` is
        the current deletion request's part, when given)."""
        base, _ = self._trained(s, "base", seed, cache)
        pool_pos = forget_pos if request_idx is None else forget_pos[request_idx]
        setting = Setting(config, seed, ClassifierAdapter(), base, gold,
                          s.train.subset(forget_pos), s.retain, gold_s, s.num_classes,
                          extra={"test": s.test, "cache_dir": str(cache.root)},
                          request_idx=request_idx,
                          training_run=self._training_run(s, pool_pos, seed, cache))
        setting.gold_eval = self._raw_eval(setting, gold)
        early, setting.early_train_s = self._early(s, seed, cache)
        setting.early_models = tuple(early)
        return setting

    def _training_run(self, s: Splits, pool_pos: np.ndarray, seed: int, cache: ModelCache
                      ) -> TrainingRun:
        """The base model's training run (its replay retrains it with an observer)."""
        recipe = self.recipe
        base = BaseRecipe(lambda init_seed: build_model(s.in_dim, s.num_classes, recipe, init_seed),
                          recipe.batch_size, recipe.weight_decay, recipe.key())
        return TrainingRun(s.train, pool_pos, seed, self._model_key(s.train, seed, recipe),
                           cache.root, lambda observer: train_model(
                               s.train, s.in_dim, s.num_classes, recipe, seed, observer), base)

    def with_gold(self, setting: Setting, gold: nn.Module) -> Setting:
        out = super().with_gold(setting, gold)
        out.gold_eval = self._raw_eval(out, gold)
        return out

    def _raw_eval(self, setting: Setting, model: nn.Module) -> Evaluation:
        """Accuracies, MIA-efficacy and per-example values (no gold comparison)."""
        ad = setting.adapter
        out: dict[str, Any] = {}
        per: dict[str, list] = {}
        losses, conf = {}, {}
        for split, ex in (("forget", setting.forget), ("retain", setting.retain),
                          ("test", setting.extra["test"])):
            logits = ad.all_logits(model, ex)
            y = ex.tensors["y"]
            correct = (logits.argmax(1) == y).numpy()
            losses[split] = torch.nn.functional.cross_entropy(logits, y, reduction="none").numpy()
            conf[split] = logits.softmax(1).gather(1, y[:, None])[:, 0].numpy()
            out[f"{split}_acc"] = M.accuracy(correct)
            per[f"{split}_correct"] = correct.astype(int).tolist()
        out["mia_efficacy"] = M.mia_efficacy(conf["retain"], conf["test"], conf["forget"])
        out["mia_loss_threshold"] = M.mia_loss_threshold(losses["retain"], losses["test"],
                                                         losses["forget"])
        per["forget_loss"] = _round(losses["forget"])
        return Evaluation(out, per)

    def evaluate(self, setting: Setting, model: nn.Module, unlearn_time: float | None
                 ) -> Evaluation:
        ev = self._raw_eval(setting, model)
        gold = setting.gold_eval
        assert gold is not None
        m = ev.metrics
        m["avg_gap"] = M.avg_gap(m, gold.metrics)
        m["forget_quality"] = M.forget_quality(ev.per_example["forget_loss"],
                                               gold.per_example["forget_loss"])
        m.update(cost_metrics(setting, unlearn_time))
        return Evaluation({k: m[k] for k in METRICS}, ev.per_example)
